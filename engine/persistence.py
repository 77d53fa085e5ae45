"""Saving and loading workflows without the O(n^2) of naive serialization.

The spec is never serialized into an instance: it is parsed once per spec bundle and
cached. Each task is one row, rewritten only when it changed since the instance was
loaded (its state, children or trigger moved, or its parent was rewritten, since a
task's data is stored as a delta from its parent's). A process keeps the workflows it
has just saved, keyed by the instance's version, so the next step of an instance skips
the load entirely when nothing else touched it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import jsoncodec
from . import statements as sql
from .errors import Conflict
from .models import ProcessInstance

SERIALIZER_VERSION = f"spiff{SPIFF_SERIALIZER_VERSION}-tf1"
TOP = "top"
_registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
UNREACHED = TaskState.FUTURE | TaskState.PREDICTED_MASK


@dataclass(frozen=True)
class Specs:
    top: Any
    subprocesses: dict[str, Any]

    @cached_property
    def _user_tasks(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for spec in (self.top, *self.subprocesses.values()):
            for task_spec in spec.task_specs.values():
                if isinstance(task_spec, UserTask):
                    # An id used twice in one bundle is ambiguous: mark it so.
                    found[task_spec.bpmn_id] = None if task_spec.bpmn_id in found else task_spec
        return found

    def user_task(self, bpmn_id: str) -> Any | None:
        """The user task spec with this element id, if exactly one in the bundle has it."""
        return self._user_tasks.get(bpmn_id)


@dataclass
class Loaded:
    """A workflow plus what is stored of it, to tell what changed at the next save."""

    workflow: BpmnWorkflow
    fingerprints: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    seqs: dict[UUID, int] = field(default_factory=dict)

    @property
    def next_seq(self) -> int:
        return max(self.seqs.values(), default=0) + 1


def _fingerprint(task: Task) -> tuple[Any, ...]:
    return (
        task._state,
        task.last_state_change,
        tuple(task._children),
        task.triggered,
        len(task.internal_data),
    )


def _workflows(wf: BpmnWorkflow) -> Iterator[tuple[str, Any]]:
    yield TOP, wf
    for parent_id, sub in wf.subprocesses.items():
        yield str(parent_id), sub


def all_tasks(wf: BpmnWorkflow) -> Iterator[Task]:
    """Every task of the instance, subprocesses included: a plain scan, no tree walk."""
    for _, w in _workflows(wf):
        yield from w.tasks.values()


def _serialize(task: Task) -> dict[str, Any]:
    payload: dict[str, Any] = _registry.convert(task)
    if task._state & UNREACHED:
        # A task not reached yet has data of its own (empty until it inherits on becoming
        # ready), not a delta: so it need not be rewritten whenever its parent's changes.
        payload["data"] = _registry.convert(task.data)
        payload["delta"] = {}
    return payload


def unstorable(data: dict[str, Any]) -> str | None:
    """Why task data cannot be saved (a value JSON has no form for: a map object, a
    set, bytes), or None when it can."""
    try:
        jsoncodec.dumps(_registry.convert(data))
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _workflow_attrs(w: Any) -> dict[str, Any]:
    attrs = {
        "data": _registry.convert(_registry.clean(w.data)),
        "correlations": w.correlations,
        "last_task": str(w.last_task.id) if w.last_task is not None else None,
        "success": w.success,
        "completed": w.completed,
        "root": str(w.task_tree.id),
    }
    if isinstance(w, BpmnSubWorkflow):
        attrs["spec"] = w.spec.name
    return attrs


def _state_of(wf: BpmnWorkflow) -> dict[str, Any]:
    return {
        "workflows": {wf_id: _workflow_attrs(w) for wf_id, w in _workflows(wf)},
        "bpmn_events": _registry.convert(wf.bpmn_events),
    }


def save(session: Session, instance: ProcessInstance, loaded: Loaded) -> dict[str, Any]:
    """Write the tasks that changed since `loaded` was read (or last saved), refresh its
    marks, and return the instance's new state document (the caller stores it)."""
    wf = loaded.workflow
    new_rows, changed_rows = [], []
    rewritten: set[UUID] = set()
    present: set[UUID] = set()
    next_seq = loaded.next_seq
    for wf_id, w in _workflows(wf):
        for task in w.tasks.values():
            present.add(task.id)
            fp = _fingerprint(task)
            parent_moved = task._parent in rewritten and not task._state & UNREACHED
            if loaded.fingerprints.get(task.id) == fp and not parent_moved:
                continue
            rewritten.add(task.id)
            loaded.fingerprints[task.id] = fp
            payload = _serialize(task)
            if task.id in loaded.seqs:
                changed_rows.append({"b_id": str(task.id), "payload": payload})
            else:
                loaded.seqs[task.id] = next_seq
                new_rows.append(
                    {
                        "instance_id": instance.id,
                        "id": str(task.id),
                        "workflow_id": wf_id,
                        "seq": next_seq,
                        "payload": payload,
                    }
                )
                next_seq += 1
    gone = [tid for tid in loaded.seqs if tid not in present]
    if new_rows:
        sql.write(session, sql.INSERT_TASKS, new_rows)
    if changed_rows:
        for row in changed_rows:
            row["b_instance"] = instance.id
        sql.write(session, sql.UPDATE_TASK, changed_rows)
    if gone:
        rows = [{"b_instance": instance.id, "b_id": str(t)} for t in gone]
        sql.write(session, sql.DELETE_TASK, rows)
        for tid in gone:
            loaded.seqs.pop(tid, None)
            loaded.fingerprints.pop(tid, None)
    return _state_of(wf)


def load(
    session: Session,
    instance: ProcessInstance,
    specs: Specs,
    script_engine: Any,
    rows: list[Any] | None = None,
) -> Loaded:
    """The instance's workflow from its task rows (read here unless given, in `seq` order)."""
    if instance.serializer_version != SERIALIZER_VERSION:
        raise RuntimeError(
            f"instance {instance.id} was saved by serializer {instance.serializer_version}, "
            f"this build reads {SERIALIZER_VERSION}"
        )
    if instance.purged_at is not None:
        raise Conflict("This instance's data was removed after its retention period.")
    if rows is None:
        rows = sql.run(session, sql.LOAD_TASKS, {"b_instances": [instance.id]}).all()
    by_workflow: dict[str, list[Any]] = {}
    for row in rows:
        by_workflow.setdefault(row.workflow_id, []).append(row)
    states = instance.state["workflows"]
    wf = BpmnWorkflow(
        specs.top, specs.subprocesses, script_engine=script_engine, deserializing=True
    )
    loaded = Loaded(workflow=wf)
    _restore_tasks(wf, by_workflow.get(TOP, []), states[TOP], loaded)
    _restore_subprocesses(wf, wf, by_workflow, states, loaded)
    wf.bpmn_events = _registry.restore(instance.state.get("bpmn_events", []))
    return loaded


def _restore_tasks(w: Any, rows: list[Any], attrs: dict[str, Any], loaded: Loaded) -> None:
    """One workflow's tasks, each marked with its row and how it was stored."""
    w.tasks = {}
    for row in rows:
        task = _registry.restore(row.payload, workflow=w)
        w.tasks[task.id] = task
        loaded.seqs[task.id] = row.seq
        loaded.fingerprints[task.id] = _fingerprint(task)
    w.task_tree = w.tasks[UUID(attrs["root"])]
    w.success = attrs["success"]
    w.completed = attrs.get("completed", False)
    w.correlations = attrs.get("correlations", {})
    w.last_task = w.tasks.get(UUID(attrs["last_task"])) if attrs["last_task"] else None
    w.data = _registry.restore(attrs.get("data", {}))


def _restore_subprocesses(
    top: BpmnWorkflow, w: Any, rows: dict[str, list[Any]], states: dict[str, Any], loaded: Loaded
) -> None:
    # Parents first: a subprocess hangs off a task of an already restored workflow.
    for task in list(w.tasks.values()):
        key = str(task.id)
        if not isinstance(task.task_spec, SubWorkflowTask) or key not in states:
            continue
        attrs = states[key]
        sub = BpmnSubWorkflow(top.subprocess_specs[attrs["spec"]], task.id, top, deserializing=True)
        _restore_tasks(sub, rows.get(key, []), attrs, loaded)
        top.subprocesses[task.id] = sub
        sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
        _restore_subprocesses(top, sub, rows, states, loaded)


class WorkflowCache:
    """Workflows this process saved last, by instance id and version; checked out, never shared."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, tuple[int, Loaded]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str, version: int) -> Loaded | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is None or item[0] != version:
            return None
        return item[1]

    def put(self, instance_id: str, version: int, loaded: Loaded) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[instance_id] = (version, loaded)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
