"""The engine's commands. Each is one unit of work: it loads, changes, saves and
commits an instance, or changes nothing."""

from __future__ import annotations

import json
import logging
from typing import Any, NamedTuple
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, definitions, forms, messages, start_forms, starters
from . import statements as sql
from .actors import (
    CUSTOMER,
    Actor,
    instance_view,
    require_task_action,
)
from .clock import clock
from .errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from .instance_reads import InstanceReads, next_tasks, staff_only
from .job_commands import JobCommands
from .models import MessageSubscription, WorkItem
from .registry import FieldErrors
from .step import Step
from .tasks import is_user
from .validation import Known

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 64 * 1024
MAX_KEY_LENGTH = 100  # ProcessInstance.business_key's width


class Completed(NamedTuple):
    """A completed task: the instance as the actor sees it now, values shown once to
    the actor (`notices`), and the tasks of the instance now waiting for this actor."""

    instance: dict[str, Any]
    notices: dict[str, Any]
    next_tasks: list[dict[str, Any]]


class Delivered(NamedTuple):
    """Where a message went: a waiting instance, or one it started."""

    instance_id: str
    started: bool


class ProcessEngine(InstanceReads, JobCommands):
    """The engine's commands, on its transaction scope (`EngineScope`) with its reads
    (`InstanceReads`) and its commands on jobs and incidents (`JobCommands`)."""

    # -- definitions ---------------------------------------------------------------------

    def known(self) -> Known:
        return Known(self.registry.handlers, self.registry.validators, self.roles, ())

    def check(self, sources: list[tuple[str, bytes]]) -> list[Problem]:
        with self._session() as s:
            return definitions.check(s, definitions.read_files(sources), self.known())

    def deploy(self, sources: list[tuple[str, bytes]], actor: Actor) -> list[definitions.Deployed]:
        with self._session() as s:
            return definitions.deploy(s, sources, self.known(), actor.name)

    # -- instances -----------------------------------------------------------------------

    def start(
        self,
        process_key: str,
        actor: Actor,
        data: dict[str, Any] | None = None,
        owner_id: int | None = None,
        business_key: str | None = None,
    ) -> dict[str, Any]:
        """Start the latest version of `process_key`. A process with a start form takes
        the form's answers as `data` from anyone who may start it, checked as a task's
        form is; otherwise initial data is for admins (and tests): a customer starts with
        nothing. A business key (what messages correlate on, as Camunda's `businessKey`)
        and starting on behalf of another owner are for admins."""
        data = data if data is not None else {}
        _check_json(data, "data")
        if (owner_id is not None or business_key) and not actor.is_admin:
            raise Forbidden(
                "Only an admin may start an instance with a business key or for someone else."
            )
        if business_key is not None and not 0 < len(business_key) <= MAX_KEY_LENGTH:
            raise InvalidInput(f"`business_key` must be 1 to {MAX_KEY_LENGTH} characters.")
        with self._step_scope() as (s, finish):
            starters.require_may_start(s, actor, process_key)
            fields = self._start_fields(s, process_key)
            if fields:
                data = start_forms.accepted(fields, data)
            elif data and not actor.is_admin:
                raise Forbidden("Only an admin may start an instance with data.")
            step = self._create(
                s,
                process_key,
                actor.name,
                owner_id if owner_id is not None else actor.user_id,
                data,
                business_key=business_key,
            )
            finish(step)
            return instance_view(actor, step.instance)

    def start_form(self, process_key: str, actor: Actor) -> list[dict[str, Any]]:
        """The start form of the latest version of `process_key` (empty: none)."""
        with self._session() as s:
            starters.require_may_start(s, actor, process_key)
            return start_forms.describe(self._start_fields(s, process_key))

    def _start_fields(self, s: Session, process_key: str) -> list[Any]:
        definition = definitions.get_definition(s, process_key, None)
        specs = self.specs.get(s, definitions.bundle_for(s, definition).id)
        return start_forms.fields_of(specs.top)

    def complete_task(self, task_id: str, submitted: dict[str, Any], actor: Actor) -> Completed:
        """Validate and complete a user task."""
        if not isinstance(submitted, dict):
            raise InvalidInput("`data` must be an object.")
        refused: FieldErrors | None = None
        with self._step_scope() as (s, finish):
            item = require_task_action(actor, _work_item(s, task_id))
            inst = self._lock_instance(s, item.instance_id)
            if item.status != "ready":
                raise Conflict("This task was already completed.")
            if item.assignee and item.assignee != actor.name and not actor.is_admin:
                raise Conflict(f"This task is claimed by {item.assignee}.")
            self._require_running(inst)
            step = Step(s, inst, self._load(s, inst), actor.name, shows_notices=True)
            task = step.workflow.get_task_from_id(UUID(task_id))
            if task.state != TaskState.READY or not is_user(task):
                raise Conflict("This task is not waiting for input any more.")
            values, secrets, errors = forms.validate_form(
                task.task_spec,
                submitted,
                task.data,
                staff_only(inst),
                may_add=item.lane != CUSTOMER,
            )
            if errors:
                raise InvalidInput("Some fields need attention.", errors)
            try:
                values.update(self._validate(step, task, {**values, **secrets}))
            except FieldErrors as exc:
                refused = exc
                audit.record(
                    s,
                    "task.refused",
                    instance_id=inst.id,
                    actor=actor.name,
                    element=item.name,
                    fields=sorted(exc.errors),
                )
                self.cache.put(inst.id, inst.version, step.loaded)
                finish(None)
            if refused is None:
                task.set_data(**values)
                step.secrets = secrets  # the incident's reason is scrubbed of them
                with self.stepper.watched(step):
                    task.run()
                done = sql.run(
                    s,
                    sql.COMPLETE_ITEM,
                    {"b_id": task_id, "completed_by": actor.name, "completed_at": clock.now()},
                )
                if done.rowcount != 1:
                    raise Conflict("This task was already completed.")
                step.mirror["ready"].pop(task_id, None)
                audit.record(
                    s,
                    "task.completed",
                    instance_id=inst.id,
                    actor=actor.name,
                    element=item.name,
                    task=task_id,
                    fields=sorted(values),
                    sensitive_fields=sorted(secrets),
                )
                if item.lane != "customer":
                    step.staff_fields = set(values)
                self._run(step)
                finish(step)
                result = Completed(
                    instance_view(actor, inst), step.notices, next_tasks(actor, step)
                )
        if refused is not None:
            raise InvalidInput("Some fields need attention.", refused.errors)
        return result

    def claim(self, task_id: str, actor: Actor, release: bool = False) -> None:
        with self._session() as s:
            item = require_task_action(actor, s.get(WorkItem, task_id))
            if item.status != "ready":
                raise Conflict("This task was already completed.")
            if release:
                if item.assignee not in (None, actor.name) and not actor.is_admin:
                    raise Conflict(f"This task is claimed by {item.assignee}.")
                item.assignee = None
            else:
                if item.assignee not in (None, actor.name):
                    raise Conflict(f"This task is claimed by {item.assignee}.")
                item.assignee = actor.name
            audit.record(
                s,
                "task.unclaimed" if release else "task.claimed",
                instance_id=item.instance_id,
                actor=actor.name,
                element=item.name,
            )

    def correlate(self, name: str, key: str, data: dict[str, Any] | None, actor: Actor) -> str:
        return self.deliver(name, key, data, actor).instance_id

    def deliver(self, name: str, key: str, data: dict[str, Any] | None, actor: Actor) -> Delivered:
        """Deliver message `name` to the one instance with business key `key` waiting for
        it; when none waits, start the process whose message start event catches it, with
        `key` as its business key."""
        data = data or {}
        _check_json(data, "data")
        if not 0 < len(key) <= MAX_KEY_LENGTH:  # it may become a business key
            raise InvalidInput(f"`correlation_key` must be 1 to {MAX_KEY_LENGTH} characters.")
        with self._step_scope() as (s, finish):
            ids = set(
                s.scalars(
                    select(MessageSubscription.instance_id).where(
                        MessageSubscription.message_name == name,
                        MessageSubscription.correlation_key == key,
                    )
                )
            )
            if len(ids) > 1:
                raise Conflict(f"{len(ids)} instances with key {key!r} wait for {name!r}.")
            if not ids:
                process = messages.process_started_by(s, name)
                if process is None:
                    raise NotFound(f"No instance with key {key!r} is waiting for message {name!r}.")
                step = self._create(s, process, actor.name, None, {}, (name, key, data))
                finish(step)
                return Delivered(step.instance.id, started=True)
            inst = self._lock_instance(s, ids.pop())
            self._require_running(inst)
            step = Step(s, inst, self._load(s, inst), actor.name)
            self._catch(step, name, key, data)
            self._run(step)
            finish(step)
            return Delivered(inst.id, started=False)

    def set_status(self, instance_id: str, action: str, actor: Actor) -> dict[str, Any]:
        """suspend, resume or terminate an instance (admin)."""
        with self._step_scope() as (s, finish):
            inst = self._lock_instance(s, instance_id)
            if inst.status in ("completed", "terminated"):
                raise Conflict(f"The instance is {inst.status}.")
            step = Step(s, inst, self._load(s, inst), actor.name)
            if action == "suspend":
                inst.status = "suspended"
            elif action == "resume":
                if inst.status != "suspended":
                    raise Conflict("The instance is not suspended.")
                inst.status = "running"
                self._run(step)
            elif action == "terminate":
                step.workflow.cancel()
                inst.status, inst.ended_at = "terminated", clock.now()
            else:
                raise InvalidInput(f"Unknown action {action!r}.")
            audit.record(
                s,
                f"instance.{action}d" if action != "suspend" else "instance.suspended",
                instance_id=inst.id,
                actor=actor.name,
            )
            finish(step)
            return instance_view(actor, inst)

    # -- plumbing ----------------------------------------------------------------------

    def _validate(self, step: Step, task: Any, values: dict[str, Any]) -> dict[str, Any]:
        name = (getattr(task.task_spec, "extensions", None) or {}).get("validator")
        if not name:
            return {}
        validator = self.registry.validators[name]
        ctx = self.stepper.context(step, task, {})
        result = dict(validator(ctx, values) or {})
        self.stepper.apply_context(step, ctx)
        return result


def _work_item(s: Session, task_id: str) -> Any:
    """A work item as a plain row: a step writes work items with statements, not objects."""
    return sql.run(s, sql.GET_ITEM, {"b_id": task_id}).first()


def _check_json(data: Any, name: str) -> None:
    if not isinstance(data, dict):
        raise InvalidInput(f"`{name}` must be an object.")
    try:
        size = len(json.dumps(data))
    except (TypeError, ValueError):
        raise InvalidInput(f"`{name}` must be plain JSON.") from None
    if size > MAX_MESSAGE_BYTES:
        raise InvalidInput(f"`{name}` is larger than {MAX_MESSAGE_BYTES // 1024} KiB.")
