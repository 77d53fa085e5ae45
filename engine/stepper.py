"""One step of an instance: run the engine, dispatch service tasks to their handlers,
turn a diagram's failure into an incident at its element, then save the step and
mirror it (`mirror.py`). Called inside the step's transaction.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, delete, insert, select, update

from . import audit, mirror
from .clock import clock
from .incidents import Failure, Watch, watching
from .models import Incident, Job
from .persistence import all_tasks
from .registry import BpmnError, HandlerContext, Registry
from .scripting import ScriptLimits
from .step import Step
from .tasks import is_service, is_timer, is_user

# Callers (instance_migration.py, bench/engine.py) find the task kind tests here too.
__all__ = ["StepSettings", "Stepper", "is_service", "is_user"]

log = logging.getLogger(__name__)


@dataclass
class StepSettings:
    max_attempts: int = 3
    backoff_seconds: tuple[int, ...] = (10, 60, 300)
    script_limits: ScriptLimits = field(default_factory=ScriptLimits)  # per evaluation


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
            with self.watched(step) as watch:
                step.workflow.refresh_timers()
                step.workflow.do_engine_steps(watch.will_run, watch.did_run)
            if not watch.interrupted:
                return

    @contextmanager
    def watched(self, step: Step) -> Iterator[Watch]:
        """Run SpiffWorkflow calls on the step's workflow; an element that failed in them
        gets its incident once the block is done (an exception no element can hold goes
        to the caller, with no incident)."""
        with watching(step.workflow) as watch:
            yield watch
        self.fail(step, watch.failures)

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
        with self.watched(step):
            task.complete()
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
                delete(cast(Table, Job.__table__)).where(
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
        with self.watched(step):
            wf.catch(event)
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
        jobs = cast(Table, Job.__table__)
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

    def finish(self, step: Step) -> None:
        """Save the workflow and bring work items, timers, subscriptions, status in line."""
        mirror.finish(step)


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
