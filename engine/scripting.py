"""Restricted evaluation of the Python that BPMN diagrams carry: conditions, scripts, timers,
multi-instance expressions.

A diagram is data that analysts edit in a browser, so its code is untrusted. It is checked
against an allowlist of syntax and rewritten (`script_syntax.py`) so that every attribute
and item access and every size-growing operator goes through a guard (`script_guards.py`)
and every loop iteration ticks a budget (`script_budget.py`); it runs with a small set of
builtins (`script_builtins.py`), on plain data, under a time budget, an operation budget
and size limits. Whatever diagram code
reaches for beyond that raises ScriptAccessDenied; whatever goes over a budget raises
ScriptBudgetExceeded; SpiffWorkflow turns both into a task error naming the element.

Expressions may also be Camunda's JUEL (`${amount > 1000}`, `juel.py`), evaluated over the
same task data with the same guards and budgets; a timer's literal ISO 8601 text (`PT10M`)
is its own value (`timer_text.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import CodeType, MappingProxyType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import juel
from . import script_budget as budgets
from . import script_guards as guards
from .script_budget import (
    MAX_WRITTEN,
    Budget,
    ScriptAccessDenied,
    ScriptBudgetExceeded,
    ScriptLimits,
)
from .script_builtins import SAFE_BUILTINS
from .script_syntax import analyse
from .timer_text import literal_timer_value

__all__ = [
    "SAFE_BUILTINS",
    "RestrictedEnvironment",
    "RestrictedScriptEngine",
    "ScriptAccessDenied",
    "ScriptBudgetExceeded",
    "ScriptLimits",
    "UnsafeScriptError",
    "check_expression",
    "check_script",
]

Clock = Callable[[], datetime]

# What the rewritten code calls; diagram code cannot name them (names may not start with
# "_"), and they are put into the namespace after the task data so that no data replaces them.
_GUARDS: Mapping[str, Any] = MappingProxyType(
    {
        "_tf_getattr": guards.guarded_getattr,
        "_tf_getitem": guards.guarded_getitem,
        "_tf_slice": slice,
        "_tf_add": guards.guarded_add,
        "_tf_mul": guards.guarded_mul,
        "_tf_pow": guards.guarded_pow,
        "_tf_lshift": guards.guarded_lshift,
        "_tf_mod": guards.guarded_mod,
        "_tf_aug": guards.augmented,
        "_tf_augitem": guards.augmented_item,
        "_tf_rethrow": budgets.rethrow_if_uncatchable,
        "_tf_text": budgets.checked_text,
        "_tf_star": budgets.starred,
        "_tf_tuple": budgets.comparable,
        "_tf_cmp": budgets.comparable,
        "_tf_in": budgets.compared_in,
    }
)
_INJECTED = frozenset(_GUARDS) | {"_tf_tick", "__builtins__"}


class UnsafeScriptError(Exception):
    """Diagram code that was refused before it ran; `problems` says why."""

    def __init__(self, problems: list[str]) -> None:
        # SpiffWorkflow builds its task error message from args[0], so it must be a string.
        super().__init__("refused diagram code: " + "; ".join(problems))
        self.problems = list(problems)


def check_expression(source: str) -> list[str]:
    """Problems that keep `source` from being evaluated as a condition; empty if none."""
    if is_juel(source):
        return juel.check(source)
    return list(analyse(_strip_eval_indent(source), "eval")[0])


def is_juel(source: str) -> bool:
    """Whether an expression is JUEL rather than Python: it starts with `${` or `#{`, or it
    is text with such expressions in it (`Hello ${name}`) and no Python expression. Both
    dialects may appear in one diagram."""
    stripped = source.strip()
    if stripped.startswith(("${", "#{")):
        return True
    if not juel.is_juel(stripped):
        return False
    try:
        ast.parse(stripped, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


def check_script(source: str) -> list[str]:
    """Problems that keep `source` from being executed as a script; empty if none."""
    return list(analyse(source, "exec")[0])


def _strip_eval_indent(source: str) -> str:
    # eval() itself forgives leading blanks; modelers often leave some in a condition.
    return source.lstrip(" \t")


def _checked_code(source: str, mode: str) -> CodeType:
    problems, code = analyse(source, mode)
    if code is None:
        raise UnsafeScriptError(list(problems))
    return code


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """Runs checked diagram code on task data with SAFE_BUILTINS, the helpers `now` and
    `timedelta`, and each evaluation's budget; otherwise behaves like SpiffWorkflow's
    TaskDataEnvironment."""

    def __init__(self, clock: Clock | None = None, limits: ScriptLimits | None = None) -> None:
        read_clock = clock or _utc_now
        self.limits = limits or ScriptLimits()

        def now() -> datetime:
            moment = read_clock()
            if moment.utcoffset() is None:
                raise ValueError("the clock must return a timezone-aware datetime")
            return moment.astimezone(UTC)

        super().__init__(MappingProxyType({"now": now, "timedelta": timedelta}))

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if is_juel(expression):
            variables = {**(external_context or {}), **context}
            return juel.evaluate(expression, variables, self.limits, self.globals["now"])
        code = _checked_code(_strip_eval_indent(expression), "eval")
        budget = Budget(self.limits)
        namespace = self._namespace(context, external_context or {}, budget)
        with budget:
            result = eval(code, namespace)  # noqa: S307  checked and guarded above
        budgets.measure(result, MAX_WRITTEN, "the expression's value")
        return result

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        code = _checked_code(script, "exec")
        external = external_context or {}
        predefined = self.globals.keys() | external.keys()
        if clashes := predefined & context.keys():
            raise ValueError(
                f"task data overwrites predefined names {sorted(clashes)}: rename these variables"
            )
        budget = Budget(self.limits)
        namespace = self._namespace(context, external, budget)
        with budget:
            exec(code, namespace)  # noqa: S102  checked and guarded above
        # Even if the script went on after its budget ran out, its task fails.
        budget.check()
        # Like TaskDataEnvironment: new and changed variables land in the task data, deleted
        # ones leave it, helpers and functions do not. On error the task data is untouched.
        kept = {
            key: value
            for key, value in namespace.items()
            if key not in predefined and key not in _INJECTED and not callable(value)
        }
        budgets.measure(kept, MAX_WRITTEN, "what the script writes")
        context.clear()
        context.update(kept)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise NotImplementedError(
            "diagram code cannot call services: Tokenflow runs service tasks with the handler "
            "registered for their topic"
        )

    def _namespace(
        self, context: Mapping[str, Any], external_context: Mapping[str, Any], budget: Budget
    ) -> dict[str, Any]:
        # One dict serves as globals and locals, as in TaskDataEnvironment: with separate
        # locals, a comprehension could not see the task data. Guards and builtins go last
        # so that no task data key can replace them.
        return {
            **self.globals,
            **external_context,
            **context,
            **_GUARDS,
            "_tf_tick": budget.tick,
            "__builtins__": SAFE_BUILTINS,
        }


_EXPLAINED = (
    UnsafeScriptError,
    ScriptAccessDenied,
    ScriptBudgetExceeded,
    juel.JuelError,
    juel.JuelEvaluationError,
)


def _timer_of(task: Any, expression: str) -> TimerEventDefinition | None:
    """The timer whose own text `expression` is, if the task waits on one (an event-based
    gateway waits on each of its events' definitions at once)."""
    definition = getattr(getattr(task, "task_spec", None), "event_definition", None)
    for candidate in getattr(definition, "event_definitions", None) or [definition]:
        if isinstance(candidate, TimerEventDefinition) and candidate.expression == expression:
            return candidate
    return None


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """PythonScriptEngine whose diagram code is checked and sandboxed by RestrictedEnvironment."""

    def __init__(self, clock: Clock | None = None, limits: ScriptLimits | None = None) -> None:
        super().__init__(environment=RestrictedEnvironment(clock, limits))

    def evaluate(
        self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        timer = _timer_of(task, expression)
        if timer is not None and (literal := literal_timer_value(expression)) is not None:
            return literal
        try:
            value = super().evaluate(task, expression, external_context)
        except WorkflowTaskException as err:
            # The base class names only the expression; the analyst needs the reasons.
            cause = err.__context__
            if isinstance(cause, _EXPLAINED):
                err.add_note(str(cause))
            raise
        # SpiffWorkflow reads a timer's value as ISO 8601 text; a date from the data is one.
        return value.isoformat() if timer is not None and isinstance(value, date) else value

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        # Replaces the base method, whose error path raises NameError in SpiffWorkflow 3.2.0.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(
                f"service call failed: {err}", task=task, exception=err
            ) from err
