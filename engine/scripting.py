"""Restricted evaluation of the Python that BPMN diagrams carry: conditions, scripts, timers.

SpiffWorkflow runs diagram code with plain eval/exec. A diagram is data that analysts edit,
so its code must not import modules or reach interpreter internals: every source is checked
on its syntax tree before it runs, and it runs with a small whitelist of builtins.
"""

from __future__ import annotations

import ast
import builtins
import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import CodeType, MappingProxyType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

Clock = Callable[[], datetime]

SAFE_BUILTINS: Mapping[str, Any] = MappingProxyType(
    {
        name: getattr(builtins, name)
        for name in (
            "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int",
            "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round",
            "set", "sorted", "str", "sum", "tuple", "zip",
            # So that scripts can raise and catch the ordinary errors.
            "ArithmeticError", "Exception", "IndexError", "KeyError", "LookupError",
            "TypeError", "ValueError", "ZeroDivisionError",
        )
    }
)  # fmt: skip

DENIED_NAMES = frozenset(
    {
        "eval", "exec", "compile", "open", "input", "globals", "locals", "vars", "dir",
        "getattr", "setattr", "delattr", "breakpoint", "help", "memoryview", "type",
        "object", "super", "classmethod", "staticmethod", "property", "exit", "quit",
        "__builtins__",
    }
)  # fmt: skip

# Format strings walk attributes by name ("{0.__class__}"), and generator, frame, traceback
# and code attributes lead to a frame whose globals hold the real builtins: none of these
# start with an underscore, so they are refused by name.
_DENIED_ATTRIBUTES = frozenset({"format", "format_map", "mro"})
_DENIED_ATTRIBUTE_PREFIXES = ("f_", "gi_", "cr_", "ag_", "tb_", "co_")

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.ClassDef: "class",
    ast.Await: "await",
    ast.AsyncFor: "async for",
    ast.AsyncWith: "async with",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.With: "with",
}
_IDENTIFIER_FIELDS = ("id", "attr", "arg", "name", "rest", "asname", "module")
_IDENTIFIER_LIST_FIELDS = ("names", "kwd_attrs")


class UnsafeScriptError(Exception):
    """Diagram code that was refused before it ran; `problems` says why."""

    def __init__(self, problems: list[str]) -> None:
        # SpiffWorkflow builds its task error message from args[0], so it must be a string.
        super().__init__("refused diagram code: " + "; ".join(problems))
        self.problems = list(problems)


def check_expression(source: str) -> list[str]:
    """Problems that keep `source` from being evaluated as a condition; empty if none."""
    return list(_analyse(_strip_eval_indent(source), "eval")[0])


def check_script(source: str) -> list[str]:
    """Problems that keep `source` from being executed as a script; empty if none."""
    return list(_analyse(source, "exec")[0])


def _strip_eval_indent(source: str) -> str:
    # eval() itself forgives leading blanks; modelers often leave some in a condition.
    return source.lstrip(" \t")


@functools.lru_cache(maxsize=1024)
def _analyse(source: str, mode: str) -> tuple[tuple[str, ...], CodeType | None]:
    try:
        tree = ast.parse(source, mode=mode)
        problems = tuple(message for _, message in sorted(_problems(tree), key=lambda p: p[0]))
        if problems:
            return problems, None
        # "<string>" is the file name SpiffWorkflow looks for to report the failing line.
        return (), compile(tree, "<string>", mode)
    except SyntaxError as err:
        return (f"line {err.lineno}: syntax error: {err.msg}",), None
    except (ValueError, RecursionError, MemoryError) as err:
        return (f"cannot be parsed ({type(err).__name__})",), None


def _problems(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        where = f"line {line}"
        if type(node) in _REFUSED_NODES:
            yield line, f"{where}: '{_REFUSED_NODES[type(node)]}' is not allowed"
        for identifier in _identifiers(node):
            if identifier.startswith("_") and identifier != "_":
                yield line, f"{where}: '{identifier}' is private (names may not start with '_')"
            elif isinstance(node, ast.Name) and identifier in DENIED_NAMES:
                yield line, f"{where}: '{identifier}' is not available to diagram code"
        if isinstance(node, ast.Attribute) and (
            node.attr in _DENIED_ATTRIBUTES or node.attr.startswith(_DENIED_ATTRIBUTE_PREFIXES)
        ):
            yield line, f"{where}: attribute '.{node.attr}' is not allowed"


def _identifiers(node: ast.AST) -> Iterator[str]:
    for field in _IDENTIFIER_FIELDS:
        value = getattr(node, field, None)
        if isinstance(value, str):
            yield value
    for field in _IDENTIFIER_LIST_FIELDS:
        values = getattr(node, field, None)
        if isinstance(values, list):
            yield from (value for value in values if isinstance(value, str))


def _checked_code(source: str, mode: str) -> CodeType:
    problems, code = _analyse(source, mode)
    if code is None:
        raise UnsafeScriptError(list(problems))
    return code


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs checked diagram code on task data with SAFE_BUILTINS and the helpers `now`,
    `timedelta`; otherwise behaves like SpiffWorkflow's TaskDataEnvironment."""

    def __init__(self, clock: Clock | None = None) -> None:
        read_clock = clock or _utc_now

        def now() -> datetime:
            moment = read_clock()
            if moment.utcoffset() is None:
                raise ValueError("the clock must return a timezone-aware datetime")
            return moment.astimezone(UTC)

        super().__init__(MappingProxyType({"now": now, "timedelta": timedelta}))

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping | None = None
    ) -> Any:
        code = _checked_code(_strip_eval_indent(expression), "eval")
        return eval(code, self._namespace(context, external_context or {}))  # noqa: S307  checked

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping | None = None
    ) -> bool:
        code = _checked_code(script, "exec")
        external = external_context or {}
        predefined = self.globals.keys() | external.keys()
        if clashes := predefined & context.keys():
            raise ValueError(
                f"task data overwrites predefined names {sorted(clashes)}: rename these variables"
            )
        namespace = self._namespace(context, external)
        exec(code, namespace)  # noqa: S102  checked above
        # Like TaskDataEnvironment: new and changed variables land in the task data, deleted
        # ones leave it, helpers and functions do not. On error the task data is untouched.
        kept = {
            key: value
            for key, value in namespace.items()
            if key not in predefined and key != "__builtins__" and not callable(value)
        }
        context.clear()
        context.update(kept)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise NotImplementedError(
            "diagram code cannot call services: Tokenflow runs service tasks with the handler "
            "registered for their topic"
        )

    def _namespace(self, context: Mapping, external_context: Mapping) -> dict[str, Any]:
        # One dict serves as globals and locals, as in TaskDataEnvironment: with separate
        # locals, a comprehension or lambda could not see the task data. Builtins go last
        # so that no task data key can replace them.
        return {**self.globals, **external_context, **context, "__builtins__": SAFE_BUILTINS}


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose diagram code is checked and sandboxed by RestrictedEnvironment."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(environment=RestrictedEnvironment(clock))

    def evaluate(self, task: Any, expression: str, external_context: Mapping | None = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as err:
            # The base class names only the expression; the analyst needs the reasons.
            if isinstance(err.__context__, UnsafeScriptError):
                err.add_note(str(err.__context__))
            raise

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        # Replaces the base method, whose error path raises NameError in SpiffWorkflow 3.2.0.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(
                f"service call failed: {err}", task=task, exception=err
            ) from err
