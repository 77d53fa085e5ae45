"""Mirroring a step into the tables people and workers read: work items, timer jobs,
message subscriptions, incidents moved past, and the instance row with its state.

The instance row keeps a small `mirror` of what those tables hold for it (ready work
items, timer due times, message names, tasks waiting for a retry or an admin), so a
step writes to them only what changed and never has to read them back.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, delete, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import assignment, audit, work_item
from . import statements as sql
from .clock import clock
from .models import Incident, Job, MessageSubscription, ProcessInstance, WorkItem
from .persistence import SERIALIZER_VERSION, all_tasks, save
from .step import Step
from .tasks import is_timer, is_user, message_names
from .validation import normalize_lane

ACTIVE_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING
# Spiff's own bookkeeping specs, never shown as "where the instance is".
_INTERNAL_SPECS = ("Start", "End", "Root")


def finish(step: Step) -> None:
    """Save the workflow and bring work items, timers, subscriptions, status in line."""
    wf, inst, s = step.workflow, step.instance, step.session
    now = clock.now()
    tasks = list(all_tasks(wf))
    _forget_abandoned(step, tasks, now)
    _sync_work_items(step, tasks, now)
    _sync_timers(step)
    _sync_subscriptions(step)
    status, ended_at = inst.status, inst.ended_at
    if status == "terminated":
        pass  # a cancelled workflow also counts as completed in SpiffWorkflow
    elif wf.is_completed():
        status, ended_at = "completed", now
    elif status != "suspended":
        status = "incident" if step.mirror["incidents"] else "running"
    if status == "completed" and inst.status != "completed":
        audit.record(s, "instance.completed", instance_id=inst.id, actor=step.actor)
    mirror = step.mirror
    mirror["staff_variables"] = sorted(set(mirror["staff_variables"]) | step.staff_fields)
    mirror["business_key"] = inst.business_key
    state = save(s, inst, step.loaded)
    active = [t for t in tasks if t.state & (ACTIVE_STATES | TaskState.ERROR)]
    state["mirror"] = mirror
    state["active"] = active_elements(active)
    state["variables"] = _json_safe(current_variables(wf, active))
    state["staff_variables"] = mirror["staff_variables"]
    _write_instance(
        s,
        inst,
        status=status,
        ended_at=ended_at,
        serializer_version=SERIALIZER_VERSION,
        state=state,
        updated_at=now,
    )


def _forget_abandoned(step: Step, tasks: list[Task], now: datetime) -> None:
    """A failing service task or element that the process moved past (a boundary
    event or a terminate end cancelled it) needs no retry and no admin any more."""
    started = {str(t.id) for t in tasks if t.state == TaskState.STARTED}
    failed = (
        {str(t.id) for t in tasks if t.state == TaskState.ERROR}
        if step.instance.status != "terminated"  # cancelling leaves ERROR tasks be
        else set()
    )
    s, iid = step.session, step.instance.id
    retrying = [tid for tid in step.mirror["retrying"] if tid not in started]
    if retrying:
        s.execute(
            delete(cast(Table, Job.__table__)).where(
                Job.instance_id == iid, Job.kind == "service", Job.task_id.in_(retrying)
            )
        )
        step.mirror["retrying"] = [t for t in step.mirror["retrying"] if t not in retrying]
    stale = [tid for tid in step.mirror["incidents"] if tid not in started | failed]
    if stale:
        s.execute(
            update(cast(Table, Incident.__table__))
            .where(
                Incident.instance_id == iid,
                Incident.task_id.in_(stale),
                Incident.status == "open",
            )
            .values(status="cancelled", resolved_at=now, resolved_by=step.actor)
        )
        step.mirror["incidents"] = [t for t in step.mirror["incidents"] if t not in stale]
        for tid in stale:
            audit.record(s, "incident.cancelled", instance_id=iid, actor=step.actor, task=tid)


def _sync_work_items(step: Step, tasks: list[Task], now: datetime) -> None:
    s, inst, known = step.session, step.instance, step.mirror["ready"]
    ready = {str(t.id): t for t in tasks if t.state == TaskState.READY and is_user(t)}
    closed = []
    left = [t for t in known if t not in ready]
    by_id = {str(t.id): t for t in tasks} if left else {}
    for tid in left:
        task = by_id.get(tid)
        done = task is not None and task.state == TaskState.COMPLETED
        status = "completed" if done else "cancelled"
        closed.append({"b_id": tid, "status": status, "completed_at": now})
        del known[tid]
    if closed:
        sql.write(s, sql.CLOSE_ITEM, closed)
    new_items: list[dict[str, Any]] = []
    for tid, task in ready.items():
        if tid in known:
            continue
        spec = task.task_spec
        named, columns = work_item.of_task(task)
        new_items.append(
            {
                "id": tid,
                "instance_id": inst.id,
                "name": spec.bpmn_id,
                "title": spec.bpmn_name or spec.bpmn_id,
                "lane": normalize_lane(spec.lane),
                "owner_id": inst.owner_id,
                "business_key": inst.business_key,
                "assignee": named.assignee,
                # The assignee stays a candidate: unclaiming does not lock them out.
                "candidate_users": assignment.encode(
                    dict.fromkeys([*named.users, *filter(None, [named.assignee])])
                ),
                "candidate_groups": assignment.encode(named.groups),
                "status": "ready",
                "created_at": now,
                **columns,
            }
        )
        known[tid] = spec.bpmn_id
        audit.record(
            s,
            "task.ready",
            instance_id=inst.id,
            actor=step.actor,
            element=spec.bpmn_id,
            task=tid,
        )
    if new_items:
        sql.write(s, sql.INSERT_ITEMS, new_items)
    if inst.business_key != step.mirror["business_key"] and known:
        s.execute(
            update(cast(Table, WorkItem.__table__))
            .where(WorkItem.id.in_(list(known)))
            .values(business_key=inst.business_key)
        )


def _sync_timers(step: Step) -> None:
    s, inst, known = step.session, step.instance, step.mirror["timers"]
    wanted: dict[str, tuple[str, datetime]] = {}
    for task in step.workflow.event_manager.tasks.values():
        due = _timer_due(task) if is_timer(task) else None
        if due is not None:
            wanted[str(task.id)] = (task.task_spec.bpmn_id, due)
    gone = [tid for tid in known if tid not in wanted]
    if gone:
        rows = [{"b_instance": inst.id, "b_kind": "timer", "b_task": t} for t in gone]
        sql.write(s, sql.DELETE_JOB, rows)
    for tid in gone:
        del known[tid]
    new_jobs = []
    for tid, (element, due) in wanted.items():
        if tid not in known:
            new_jobs.append(
                {
                    "instance_id": inst.id,
                    "kind": "timer",
                    "task_id": tid,
                    "element": element,
                    "due_at": due,
                    "attempts": 0,
                    "created_at": clock.now(),
                }
            )
        elif known[tid] != due.isoformat():
            sql.write(s, sql.MOVE_TIMER, {"b_instance": inst.id, "b_task": tid, "due_at": due})
        known[tid] = due.isoformat()
    if new_jobs:
        sql.write(s, sql.INSERT_JOB, new_jobs)


def _sync_subscriptions(step: Step) -> None:
    s, inst = step.session, step.instance
    wanted = sorted(
        {n for t in step.workflow.event_manager.tasks.values() for n in message_names(t)}
    )
    key_changed = inst.business_key != step.mirror["business_key"]
    if wanted == step.mirror["messages"] and not key_changed:
        return
    s.execute(
        delete(cast(Table, MessageSubscription.__table__)).where(
            MessageSubscription.instance_id == inst.id
        )
    )
    for name in wanted:
        s.add(
            MessageSubscription(
                instance_id=inst.id, message_name=name, correlation_key=inst.business_key
            )
        )
    step.mirror["messages"] = wanted


def _write_instance(s: Session, inst: ProcessInstance, **values: Any) -> None:
    """One UPDATE of the instance row, checked against the version this step read (the
    ORM's flush of one object costs more than the rest of the step's SQL). The values go
    into the object as committed ones, so it stays clean and the session's flushes have
    nothing to look at. In a batch the write is deferred and not checked: the batch read
    the instance with a row lock in the same transaction."""
    for name in ("status", "business_key", "ended_at", "serializer_version"):
        values.setdefault(name, getattr(inst, name))
    version = inst.version
    params = {"b_id": inst.id, "b_version": version, "new_version": version + 1, **values}
    result = sql.write(s, sql.WRITE_INSTANCE, params)
    if result is not None and result.rowcount != 1:
        raise StaleDataError(f"instance {inst.id} changed since version {version}")
    for name, value in values.items():
        set_committed_value(inst, name, value)
    set_committed_value(inst, "version", version + 1)


def _timer_due(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return cast(datetime, TimerEventDefinition.get_datetime(str(value)))
    except ValueError:
        return None


def active_elements(active: list[Task]) -> list[str]:
    names: list[str] = []
    for task in active:
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id and spec.name not in _INTERNAL_SPECS and bpmn_id not in names:
            names.append(bpmn_id)
    return names


def current_variables(wf: BpmnWorkflow, active: list[Task]) -> dict[str, Any]:
    """The data an observer means by "the instance's variables" right now."""
    if wf.is_completed():
        return dict(wf.data)
    merged: dict[str, Any] = {}
    if wf.last_task is not None:
        merged.update(wf.last_task.data)
    for task in active:
        merged.update(task.data)
    return merged


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(json.dumps(data, default=str)))
