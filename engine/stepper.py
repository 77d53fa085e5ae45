"""One step of an instance: run the engine, dispatch service tasks to their handlers,
then mirror the workflow into the tables people and workers read (work items, timers,
message subscriptions) and save it. Called inside the step's transaction.

The instance row keeps a small `mirror` of what those tables hold for it (ready work
items, timer due times, message names, tasks waiting for a retry or an admin), so a
step writes to them only what changed and never has to read them back.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import audit
from . import statements as sql
from .clock import clock
from .incidents import Failure, watching
from .models import Incident, Job, MessageSubscription, ProcessInstance, WorkItem
from .persistence import SERIALIZER_VERSION, Loaded, all_tasks, save
from .registry import BpmnError, HandlerContext, Registry
from .validation import normalize_lane

log = logging.getLogger(__name__)

ACTIVE_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING
# Spiff's own bookkeeping specs, never shown as "where the instance is".
_INTERNAL_SPECS = ("Start", "End", "Root")


@dataclass
class StepSettings:
    max_attempts: int = 3
    backoff_seconds: tuple[int, ...] = (10, 60, 300)


@dataclass
class Step:
    """What one step carries besides the workflow: who acts, and values never stored."""

    session: Session
    instance: ProcessInstance
    loaded: Loaded
    actor: str | None
    secrets: dict[str, Any] = field(default_factory=dict)
    notices: dict[str, Any] = field(default_factory=dict)
    run_task_ids: set[str] = field(default_factory=set)
    staff_fields: set[str] = field(default_factory=set)
    mirror: dict[str, Any] = field(default_factory=dict)
    spawn: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Incidents this step raised where the diagram failed: the caller hears of them.
    raised: list[tuple[int, Failure]] = field(default_factory=list)
    shows_notices: bool = False  # the caller hands `notices` to the person who acted

    def __post_init__(self) -> None:
        saved = (self.instance.state or {}).get("mirror") or {}
        self.mirror = {
            "ready": dict(saved.get("ready", {})),
            "timers": dict(saved.get("timers", {})),
            "messages": list(saved.get("messages", [])),
            "retrying": list(saved.get("retrying", [])),
            "incidents": list(saved.get("incidents", [])),
            "staff_variables": list(saved.get("staff_variables", [])),
            "business_key": saved.get("business_key"),
        }

    @property
    def workflow(self) -> BpmnWorkflow:
        return self.loaded.workflow

    def blocked(self) -> set[str]:
        """Service tasks waiting for a retry job or an admin: not run in passing."""
        return set(self.mirror["retrying"]) | set(self.mirror["incidents"])


def is_service(task: Task) -> bool:
    return isinstance(task.task_spec, ServiceTask)


def is_user(task: Task) -> bool:
    return isinstance(task.task_spec, UserTask)


def definitions_of(task: Task) -> list[Any]:
    """The event definitions a waiting task listens for: an event-based gateway (or a
    multiple event) waits for all of its branches' events at once."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def is_timer(task: Task) -> bool:
    return any(isinstance(d, TimerEventDefinition) for d in definitions_of(task))


def message_names(task: Task) -> list[str]:
    return [d.name for d in definitions_of(task) if isinstance(d, MessageEventDefinition)]


class Stepper:
    def __init__(self, registry: Registry, settings: StepSettings, services: Any = None) -> None:
        self.registry = registry
        self.settings = settings
        self.services = services

    # -- running -----------------------------------------------------------------------

    def advance(self, step: Step) -> None:
        """Run engine steps and ready service tasks until only people, timers or
        messages can move the instance on."""
        wf = step.workflow
        blocked = step.blocked() - step.run_task_ids
        timers_before = {t.id: t for t in wf.event_manager.tasks.values() if is_timer(t)}
        while True:
            self.engine_steps(step)
            ran = False
            started = [t for t in all_tasks(wf) if t.state == TaskState.STARTED and is_service(t)]
            for task in started:
                if task.state != TaskState.STARTED:
                    continue
                if str(task.id) in blocked:
                    continue
                if self._run_service(step, task):
                    ran = True
                else:
                    blocked.add(str(task.id))
            if not ran:
                break
        for task in timers_before.values():
            if task.state == TaskState.COMPLETED:
                audit.record(
                    step.session,
                    "timer.fired",
                    instance_id=step.instance.id,
                    actor="clock",
                    element=task.task_spec.bpmn_id,
                )

    def engine_steps(self, step: Step) -> None:
        """Fire due timers and run the engine's own tasks until only people, handlers,
        timers or messages can move the instance. An element that fails stays where it
        is, with an incident, and the rest of the workflow goes on."""
        while True:
            with watching(step.workflow) as watch:
                step.workflow.refresh_timers()
                step.workflow.do_engine_steps(watch.will_run, watch.did_run)
            self.fail(step, watch.failures)
            if not watch.interrupted:
                return

    def fail(self, step: Step, failures: list[Failure]) -> None:
        """An incident for each element that failed, with the reason in words."""
        for failure in failures:
            failure.reason = _scrub(failure.reason, step.secrets)
            incident = self._incident(
                step,
                failure.task,
                None,
                failure.reason,
                name=failure.name,
                expression=failure.expression,
            )
            step.raised.append((incident, failure))

    def _run_service(self, step: Step, task: Task) -> bool:
        spec = task.task_spec
        topic = getattr(spec, "topic", None)
        handler = self.registry.handlers.get(topic or "")
        ctx = self.context(step, task, dict(getattr(spec, "extensions", {}) or {}))
        secrets, step.secrets = step.secrets, {}
        ctx.secrets = secrets
        audit_mark = audit.mark(step.session)
        nested = step.session.begin_nested()
        try:
            if handler is None:
                raise LookupError(f"no handler is registered for topic {topic!r}")
            result = dict(handler(ctx) or {})
            _check_output(result, secrets)
            nested.commit()
        except BpmnError as err:
            nested.commit()
            return self._throw(step, task, err)
        except Exception as exc:
            nested.rollback()
            audit.rewind(step.session, audit_mark)
            self._failed(step, task, topic, _scrub(f"{type(exc).__name__}: {exc}", secrets))
            return False
        self.apply_context(step, ctx)
        task.set_data(**result)
        with watching(step.workflow) as watch:
            task.complete()
        self.fail(step, watch.failures)
        audit.record(
            step.session,
            "service.completed",
            instance_id=step.instance.id,
            actor=step.actor,
            element=spec.bpmn_id,
            topic=topic,
            outputs=sorted(result),
        )
        tid = str(task.id)
        if tid in step.mirror["retrying"]:
            step.mirror["retrying"].remove(tid)
            step.session.execute(
                delete(Job.__table__).where(
                    Job.instance_id == step.instance.id, Job.task_id == tid, Job.kind == "service"
                )
            )
        return True

    def context(self, step: Step, task: Task, config: dict[str, str]) -> HandlerContext:
        inst = step.instance
        return HandlerContext(
            session=step.session,
            instance_id=inst.id,
            element=task.task_spec.bpmn_id,
            task_id=str(task.id),
            business_key=inst.business_key,
            owner_id=inst.owner_id,
            now=clock.now(),
            data=copy.deepcopy(task.data),
            config=config,
            actor=step.actor,
            services=self.services,
            shows_notices=step.shows_notices,
        )

    def apply_context(self, step: Step, ctx: HandlerContext) -> None:
        if ctx.new_business_key:
            step.instance.business_key = ctx.new_business_key
        step.notices.update(ctx.notices)
        step.spawn.extend(ctx.started)

    def _throw(self, step: Step, task: Task, err: BpmnError) -> bool:
        wf = step.workflow
        task.set_data(**err.data)
        event = BpmnEvent(
            ErrorEventDefinition(err.code, code=err.code),
            payload=dict(task.data),
            target=task.workflow,
        )
        waiting = list(wf.event_manager.tasks.values())
        with watching(wf) as watch:
            wf.catch(event)
        self.fail(step, watch.failures)
        wf.bpmn_events = [e for e in wf.bpmn_events if e is not event]
        audit.record(
            step.session,
            "service.bpmn_error",
            instance_id=step.instance.id,
            actor=step.actor,
            element=task.task_spec.bpmn_id,
            code=err.code,
        )
        # A catching event leaves WAITING; the host task is cancelled at the next engine step.
        if all(t.state == TaskState.WAITING for t in waiting):
            self._incident(
                step,
                task,
                getattr(task.task_spec, "topic", None),
                f"BPMN error {err.code!r} has no error boundary event to catch it",
            )
            return False
        return True

    def _failed(self, step: Step, task: Task, topic: str | None, error: str) -> None:
        s, iid, tid = step.session, step.instance.id, str(task.id)
        log.warning("handler %s failed on instance %s: %s", topic, iid, error)
        jobs = Job.__table__
        mine = (jobs.c.instance_id == iid, jobs.c.task_id == tid, jobs.c.kind == "service")
        attempts = 1
        if tid in step.mirror["retrying"]:
            attempts += s.execute(select(jobs.c.attempts).where(*mine)).scalar() or 0
        audit.record(
            s,
            "service.failed",
            instance_id=iid,
            actor=step.actor,
            element=task.task_spec.bpmn_id,
            topic=topic,
            attempt=attempts,
            error=error,
        )
        if attempts >= self.settings.max_attempts:
            if tid in step.mirror["retrying"]:
                s.execute(delete(jobs).where(*mine))
                step.mirror["retrying"].remove(tid)
            self._incident(step, task, topic, error)
            return
        backoff = self.settings.backoff_seconds
        due = clock.now() + timedelta(seconds=backoff[min(attempts - 1, len(backoff) - 1)])
        if tid in step.mirror["retrying"]:
            s.execute(
                update(jobs)
                .where(*mine)
                .values(
                    attempts=attempts,
                    due_at=due,
                    last_error=error,
                    locked_by=None,
                    locked_until=None,
                )
            )
        else:
            s.execute(
                insert(jobs).values(
                    instance_id=iid,
                    kind="service",
                    task_id=tid,
                    element=task.task_spec.bpmn_id,
                    due_at=due,
                    attempts=attempts,
                    last_error=error,
                    created_at=clock.now(),
                )
            )
            step.mirror["retrying"].append(tid)

    def _incident(
        self,
        step: Step,
        task: Task,
        topic: str | None,
        error: str,
        name: str | None = None,
        expression: str | None = None,
    ) -> int:
        incident = Incident(
            instance_id=step.instance.id,
            task_id=str(task.id),
            element=task.task_spec.bpmn_id,
            element_name=name or task.task_spec.bpmn_name,
            topic=topic,
            error=error,
            expression=expression,
        )
        step.session.add(incident)
        step.session.flush()
        step.mirror["incidents"].append(str(task.id))
        audit.record(
            step.session,
            "incident.raised",
            instance_id=step.instance.id,
            actor=step.actor,
            element=task.task_spec.bpmn_id,
            incident=incident.id,
            error=error,
        )
        return incident.id

    @staticmethod
    def resolve_incident(step: Step, task_id: str) -> None:
        if task_id in step.mirror["incidents"]:
            step.mirror["incidents"].remove(task_id)

    # -- mirroring ---------------------------------------------------------------------

    def finish(self, step: Step) -> None:
        """Save the workflow and bring work items, timers, subscriptions, status in line."""
        wf, inst, s = step.workflow, step.instance, step.session
        now = clock.now()
        tasks = list(all_tasks(wf))
        self._forget_abandoned(step, tasks, now)
        self._sync_work_items(step, tasks, now)
        self._sync_timers(step)
        self._sync_subscriptions(step)
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

    @staticmethod
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
                delete(Job.__table__).where(
                    Job.instance_id == iid, Job.kind == "service", Job.task_id.in_(retrying)
                )
            )
            step.mirror["retrying"] = [t for t in step.mirror["retrying"] if t not in retrying]
        stale = [tid for tid in step.mirror["incidents"] if tid not in started | failed]
        if stale:
            s.execute(
                update(Incident.__table__)
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

    def _sync_work_items(self, step: Step, tasks: list[Task], now: datetime) -> None:
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
            new_items.append(
                {
                    "id": tid,
                    "instance_id": inst.id,
                    "name": spec.bpmn_id,
                    "title": spec.bpmn_name or spec.bpmn_id,
                    "lane": normalize_lane(spec.lane),
                    "owner_id": inst.owner_id,
                    "business_key": inst.business_key,
                    "status": "ready",
                    "created_at": now,
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
                update(WorkItem.__table__)
                .where(WorkItem.id.in_(list(known)))
                .values(business_key=inst.business_key)
            )

    @staticmethod
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

    @staticmethod
    def _sync_subscriptions(step: Step) -> None:
        s, inst = step.session, step.instance
        wanted = sorted(
            {n for t in step.workflow.event_manager.tasks.values() for n in message_names(t)}
        )
        key_changed = inst.business_key != step.mirror["business_key"]
        if wanted == step.mirror["messages"] and not key_changed:
            return
        s.execute(
            delete(MessageSubscription.__table__).where(MessageSubscription.instance_id == inst.id)
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
        return TimerEventDefinition.get_datetime(str(value))
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
    return json.loads(json.dumps(data, default=str))


def _check_output(result: dict[str, Any], secrets: dict[str, Any]) -> None:
    """A handler must not hand a sensitive form value back into task data: refuse output
    that names a sensitive field, or text containing a long sensitive value (a card
    number inside a message). Short values (a CVC, four SSN digits) are not searched
    for: they equal an unrelated year or choice by chance."""
    text = json.dumps(result)  # raises TypeError on values a workflow cannot store
    named = set(secrets) & set(_keys(result))
    if named:
        raise ValueError(f"a handler returned sensitive field(s) {sorted(named)}")
    for value in secrets.values():
        long_value = isinstance(value, str | int) and len(str(value)) >= _SUBSTRING_MIN
        if long_value and str(value) in text:
            raise ValueError("a handler returned a sensitive form value")


_SUBSTRING_MIN = 8


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _keys(item)


def _scrub(message: str, secrets: dict[str, Any]) -> str:
    for value in secrets.values():
        if isinstance(value, str) and len(value) >= 3:
            message = message.replace(value, "[redacted]")
    return message[:1000]
