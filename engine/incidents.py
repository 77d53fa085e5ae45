"""Diagram failures at run time: an element whose code or SpiffWorkflow itself raises
while a step runs.

SpiffWorkflow raises from two places. A task's `_run` (a script, a gateway's
conditions) marks the task ERROR first, so the workflow around it stays whole. A task's
`_update` (a multi-instance cardinality, a timer expression) runs while its parent
completes, and an exception there leaves the parent's other children un-updated and
its completion unannounced: a workflow no save should keep. `watching` turns the second
kind into the first: while a step runs, an `_update` that raises marks its task ERROR
and lets the parent finish; and a task in ERROR is not updated again until an admin
retries it. Either way the failing element's own changes never land, and the step saves
the instance standing at that element, which then carries an incident.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .persistence import unstorable

MAX_REASON = 500
MAX_EXPRESSION = 1000


@dataclass
class Failure:
    """One element that failed in a step, described for people (no task data)."""

    task: Task
    reason: str
    expression: str | None

    @property
    def element(self) -> str:
        return str(getattr(self.task.task_spec, "bpmn_id", None) or self.task.task_spec.name)

    @property
    def name(self) -> str | None:
        return getattr(self.task.task_spec, "bpmn_name", None) or None


_failures: ContextVar[list[Failure] | None] = ContextVar("tokenflow_failures", default=None)
_spiff_update = TaskSpec._update
# What no diagram failure may swallow. Anything else a diagram raises is its failure,
# even outside Exception: a sandbox's budget may be a BaseException so that diagram code
# cannot catch it.
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _guarded_update(self: TaskSpec, my_task: Task) -> None:
    failures = _failures.get()
    if failures is None:
        _spiff_update(self, my_task)
        return
    if my_task.state == TaskState.ERROR:
        return  # it waits for an admin's retry, not for the next refresh
    try:
        _spiff_update(self, my_task)
    except _FATAL:
        raise
    except BaseException as exc:
        my_task._set_state(TaskState.ERROR)
        failures.append(describe(my_task, exc))


# Installed once, and inert outside `watching`: SpiffWorkflow 3.2.0 is pinned, and
# `_update` is the one method every task spec inherits unchanged.
TaskSpec._update = _guarded_update


@dataclass
class Watch:
    """What `watching` saw: the failures, and whether one cut a SpiffWorkflow call short
    (a task's `_run` raised), so that the caller runs the engine again for the rest."""

    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False
    running: Task | None = None  # the engine task do_engine_steps runs at the moment

    def will_run(self, task: Task) -> None:
        self.running = task

    def did_run(self, task: Task) -> None:
        """A script that leaves a value no save can hold (a map object, a set) fails
        where it ran, before anything after it runs."""
        self.running = None
        script = getattr(task.task_spec, "script", None)
        if not isinstance(script, str):
            return
        problem = unstorable(task.data)
        if problem is None:
            return
        task.reset_branch(None)  # back to the data it ran with, its successors undone
        task._set_state(TaskState.ERROR)
        reason = f"the script left a value that cannot be stored ({problem})"
        self.failures.append(Failure(task, reason[:MAX_REASON], script[:MAX_EXPRESSION]))


@contextmanager
def watching(wf: Any) -> Iterator[Watch]:
    """Collect the failures of the SpiffWorkflow calls made inside: an exception from a
    task's `_run` is caught here (SpiffWorkflow marks the task ERROR, and so does this for
    what SpiffWorkflow does not catch); anything that cannot be pinned on one task
    propagates (the step is then rolled back whole)."""
    watch = Watch()
    token = _failures.set(watch.failures)
    try:
        yield watch
    except _FATAL:
        raise
    except BaseException as exc:
        failed = _task_of(exc) or watch.running or _new_error_task(wf, watch.failures)
        if failed is not None and failed.state == TaskState.READY:
            failed._set_state(TaskState.ERROR)  # raised past SpiffWorkflow's `except Exception`
        if failed is None or failed.state != TaskState.ERROR:
            raise
        watch.failures.append(describe(failed, exc))
        watch.interrupted = True
    finally:
        _failures.reset(token)


def _task_of(exc: BaseException) -> Task | None:
    task = getattr(exc, "task", None)
    return task if isinstance(task, Task) else None


def _new_error_task(wf: Any, known: list[Failure]) -> Task | None:
    """The task that has just gone ERROR, when the exception does not name it."""
    seen = {f.task.id for f in known}
    errored = [
        task
        for w in (wf, *getattr(wf, "subprocesses", {}).values())
        for task in w.tasks.values()
        if task.state == TaskState.ERROR and task.id not in seen
    ]
    return max(errored, key=lambda t: t.last_state_change, default=None)


def describe(task: Task, exc: BaseException) -> Failure:
    """The reason in words and the expression that failed. SpiffWorkflow wraps the
    diagram's own error ("Error evaluating expression ..."); the innermost one says
    what went wrong, and the wrapper's "did you mean" note helps with a misspelt name."""
    inner: BaseException = exc
    while isinstance(inner, SpiffWorkflowException):
        nested = inner.__cause__ or inner.__context__
        if nested is None:
            break
        inner = nested
    reason = _words(inner)
    hints = [str(n) for n in getattr(exc, "notes", []) if "did you mean" in str(n).lower()]
    if inner is not exc and hints:
        reason = f"{reason} ({hints[0].strip()})"
    return Failure(task, reason[:MAX_REASON], _expression(exc, task))


def _words(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, NameError | KeyError | TypeError | ValueError | ZeroDivisionError):
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text or type(exc).__name__


def _expression(exc: BaseException, task: Task) -> str | None:
    spec = task.task_spec
    for candidate in (
        getattr(spec, "script", None),
        getattr(spec, "cardinality", None),
        getattr(spec, "condition", None),
        getattr(getattr(spec, "event_definition", None), "expression", None),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate[:MAX_EXPRESSION]
    text = str(exc.args[0]) if exc.args else ""  # the message without SpiffWorkflow's notes
    marker = "Error evaluating expression '"
    if marker in text:
        return text.split(marker, 1)[1].rsplit("'", 1)[0][:MAX_EXPRESSION]
    return None
