"""Pointing a running workflow's task tree at another version's specs, in memory: the
surgery behind instance migration (`instance_migration`).

Each task takes the spec of the same element (or the element the mapping names) in the
target; a passed task whose element the target lacks drops out of the history, and
what lies ahead is predicted anew. An active task with no counterpart, or with one of
another kind, is a problem that stops the migration.
"""

from __future__ import annotations

from typing import Any, cast

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .persistence import Specs

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
AHEAD = TaskState.FUTURE | TaskState.PREDICTED_MASK
_GENERATED_SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin")
_SPIFF_SPECS = ("Start", "End", "Root")


def remap(wf: Any, specs: Specs, mapping: dict[str, str | None], target_version: int) -> list[str]:
    """Point `wf` (in memory) at the target specs; the problems that prevent it, if any.
    With problems, `wf` is left half-changed and must be thrown away."""
    problems = _remap(wf, specs.top, mapping, target_version)
    if problems:
        return problems
    wf.subprocess_specs = specs.subprocesses
    for parent_id, sub in list(wf.subprocesses.items()):
        parent = _find_task(wf, parent_id)
        if parent is None:  # its call activity left the history: so does its record
            del wf.subprocesses[parent_id]
            continue
        spec = specs.subprocesses.get(cast(str, getattr(parent.task_spec, "spec", None)))
        if spec is None:
            if sub.is_completed():
                continue
            return [f"{parent.task_spec.bpmn_id!r} calls a process the target does not have"]
        problems.extend(_remap(sub, spec, mapping, target_version))
    return problems


def _find_task(wf: Any, task_id: Any) -> Task | None:
    if task_id in wf.tasks:
        return wf.tasks[task_id]
    for sub in wf.subprocesses.values():
        if task_id in sub.tasks:
            return sub.tasks[task_id]
    return None


def _target_name(
    name: str, mapping: dict[str, str | None], old_process: str, new_process: str
) -> str | None:
    if name in _SPIFF_SPECS:
        return name
    if name == f"{old_process}.EndJoin":
        return f"{new_process}.EndJoin"
    for suffix in _GENERATED_SUFFIXES:
        if name.endswith(suffix):
            base = mapping.get(name.removesuffix(suffix), name.removesuffix(suffix))
            return base + suffix if base else None
    return mapping.get(name, name)


def _element_of(spec: Any) -> str:
    return cast(str, getattr(spec, "bpmn_id", None) or spec.name.split(".", 1)[0])


def _kind(spec: Any) -> tuple[str, str]:
    event = getattr(spec, "event_definition", None)
    return type(spec).__name__, type(event).__name__ if event is not None else ""


def _remap(w: Any, new_spec: Any, mapping: dict[str, str | None], target_version: int) -> list[str]:
    targets: dict[Any, Any] = {}
    problems: list[str] = []
    for task in w.tasks.values():
        name = _target_name(task.task_spec.name, mapping, w.spec.name, new_spec.name)
        target = new_spec.task_specs.get(name)
        targets[task.id] = target
        if not task.has_state(ACTIVE):
            continue
        element = _element_of(task.task_spec)
        if target is None:
            problems.append(f"at {element!r}, which version {target_version} does not have: map it")
        elif _kind(target) != _kind(task.task_spec):
            problems.append(
                f"at {element!r} ({_kind(task.task_spec)[0]}), but {_element_of(target)!r} "
                f"in version {target_version} is a {_kind(target)[0]}"
            )
    if problems:
        return problems
    w.spec = new_spec
    for task_id, target in targets.items():
        task = w.tasks.get(task_id)
        if task is None:
            continue
        if target is not None:
            task.task_spec = target
        elif task.has_state(TaskState.FINISHED_MASK):
            _splice(w, task)
        else:
            w._remove_task(task.id)  # a prediction: made anew below
    for task in list(w.tasks.values()):
        if task.has_state(ACTIVE) and _stale_ahead(task):
            task._drop_children(force=True)
            task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    return []


def _splice(w: Any, task: Task) -> None:
    """Take a passed task out of the history; its children hang from its parent."""
    parent = task.parent
    children = list(task._children)
    if parent is not None:
        at = parent._children.index(task.id)
        parent._children[at : at + 1] = children
        for child in task.children:
            child._parent = parent.id
    if w.last_task is task:
        w.last_task = parent
    del w.tasks[task.id]


def _stale_ahead(task: Task) -> bool:
    """Whether what is predicted after `task` no longer follows the specs' outputs (and
    nothing after it has started yet)."""
    if any(not c.has_state(AHEAD) for c in task.children):
        return False
    pending = [task]
    while pending:
        current = pending.pop()
        children = current.children
        if children and {c.task_spec for c in children} != set(current.task_spec.outputs):
            return True
        pending.extend(children)
    return False
