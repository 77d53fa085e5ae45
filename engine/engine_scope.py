"""The engine's transaction scope: what every command and read shares. It holds the
session factory, the parsed-spec and workflow caches and the stepper; opens a unit of work
that answers a lost race as Conflict; loads and locks instances; and runs a step's scope,
which saves the step, caches the saved workflow after the commit, and reports a diagram's
failure as ProcessIncident. It also starts an instance, runs a step and hands a message to
a waiting task: commands do, and so does a step's scope for the processes a handler
spawns. `ProcessEngine` (runtime.py) adds the commands, `JobCommands` (job_commands.py) the
jobs' and `InstanceReads` (instance_reads.py) the reads."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import uuid4

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from . import audit, definitions
from . import statements as sql
from .clock import clock
from .db import unit_of_work
from .errors import Conflict, InvalidInput, NotFound, ProcessIncident
from .models import ProcessInstance
from .persistence import SERIALIZER_VERSION, Loaded, WorkflowCache, load
from .registry import Registry
from .scripting import RestrictedScriptEngine
from .step import Step
from .stepper import Stepper, StepSettings
from .tasks import definitions_of

log = logging.getLogger(__name__)
# An instance in one of these takes no step: not a job's, not a person's.
STOPPED = ("suspended", "terminated", "completed")


class EngineScope:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        registry: Registry,
        roles: Collection[str],
        settings: StepSettings | None = None,
        cache_capacity: int = 256,
        services: Any = None,
    ) -> None:
        self.session_factory = session_factory
        self.registry = registry
        self.roles = frozenset(roles)
        settings = settings or StepSettings()
        self.stepper = Stepper(registry, settings, services)
        self.script_engine = RestrictedScriptEngine(clock=clock.now, limits=settings.script_limits)
        self.specs = definitions.SpecCache()
        self.cache = WorkflowCache(cache_capacity)
        self.services = services

    def _load(self, s: Session, inst: ProcessInstance) -> Loaded:
        return self._load_many(s, [inst])[0]

    def _load_many(self, s: Session, instances: list[ProcessInstance]) -> list[Loaded]:
        """The workflows of several instances, with one read for all that are not cached."""
        found = {i.id: self.cache.take(i.id, i.version) for i in instances}
        missing = [i.id for i in instances if found[i.id] is None]
        rows: dict[str, list[Any]] = {i: [] for i in missing}
        if missing:
            for row in sql.run(s, sql.LOAD_TASKS, {"b_instances": missing}):
                rows[row.instance_id].append(row)
        return [
            found[i.id]
            or load(s, i, self.specs.get(s, i.bundle_id), self.script_engine, rows=rows[i.id])
            for i in instances
        ]

    @staticmethod
    def _lock_instance(s: Session, instance_id: str) -> ProcessInstance:
        inst = s.scalars(sql.LOCK_INSTANCES, {"b_ids": [instance_id]}).first()
        if inst is None:
            raise NotFound("No such process instance.")
        return inst

    @staticmethod
    def _require_running(inst: ProcessInstance) -> None:
        if inst.status in STOPPED:
            raise Conflict(f"The instance is {inst.status}.")

    def transaction(self) -> AbstractContextManager[Session]:
        """A unit of work for the engine's other commands (migration): like every
        command here, a lost race raises Conflict."""
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with unit_of_work(self.session_factory) as s:
                yield s
        except (StaleDataError, IntegrityError) as exc:
            log.warning("lost a race, answering 409: %s", str(exc).splitlines()[0][:300])
            raise Conflict("Someone else changed this at the same time; try again.") from exc
        except OperationalError as exc:
            if "locked" in str(exc).lower() or "deadlock" in str(exc).lower():
                raise Conflict("The database was busy with the same work; try again.") from exc
            raise

    @contextmanager
    def _step_scope(self, report: bool = True) -> Iterator[tuple[Session, Any]]:
        """A unit of work for a step; `finish(step)` saves it, and after the commit the
        saved workflow goes back to the cache under its new version. Where the diagram
        failed, the step commits standing at the failing element with an incident, and
        then (`report`) the caller hears of it as ProcessIncident."""
        finished: list[Step] = []

        def finish(step: Step | None) -> None:
            if step is None:
                return
            self.stepper.finish(step)
            step.session.flush()
            finished.append(step)
            for key, data in step.spawn:  # processes a handler asked to start
                child = self._create(
                    step.session, key, step.actor or "system", step.instance.owner_id, data
                )
                audit.record(
                    step.session,
                    "instance.spawned",
                    instance_id=step.instance.id,
                    actor=step.actor,
                    process=key,
                    child=child.instance.id,
                )
                finish(child)

        try:
            with self._session() as s:
                yield s, finish
        except SpiffWorkflowException as exc:
            # Not pinned on one element (`watching` pins what it can): the step rolled
            # back whole, as Camunda does with a failure before the first wait state.
            log.warning("a step failed and was rolled back: %s", str(exc)[:300])
            raise InvalidInput(f"The process could not continue: {exc}"[:1000]) from exc
        for step in finished:
            self.cache.put(step.instance.id, step.instance.version, step.loaded)
        failed = [(step, raised) for step in finished for raised in step.raised]
        if report and failed:
            step, (incident_id, failure) = failed[0]
            raise ProcessIncident(
                f"The process could not continue at {failure.name or failure.element}: "
                f"{failure.reason}",
                incident_id=incident_id,
                instance_id=step.instance.id,
                element=failure.element,
                notices={k: v for f in finished if f.shows_notices for k, v in f.notices.items()},
            )

    # -- starting and moving instances, which commands and spawns share --------------

    def _create(
        self,
        s: Session,
        process_key: str,
        actor: str,
        owner_id: int | None,
        data: dict[str, Any],
        message: tuple[str, str, dict[str, Any]] | None = None,
        business_key: str | None = None,
    ) -> Step:
        """A new instance of the latest version of `process_key`, run to its first wait;
        with a `message` (name, correlation key, data), started by that message."""
        definition = definitions.get_definition(s, process_key, None)
        bundle = definitions.bundle_for(s, definition)
        specs = self.specs.get(s, bundle.id)
        wf = BpmnWorkflow(specs.top, specs.subprocesses, script_engine=self.script_engine)
        for task in wf.get_tasks(state=TaskState.READY):
            task.set_data(**data)
        inst = ProcessInstance(
            id=str(uuid4()),
            process_key=definition.key,
            definition_id=definition.id,
            definition_version=definition.version,
            bundle_id=bundle.id,
            status="running",
            owner_id=owner_id,
            business_key=message[1] if message else business_key,
            serializer_version=SERIALIZER_VERSION,
            state={},
        )
        s.add(inst)
        s.flush()
        audit.record(
            s,
            "instance.started",
            instance_id=inst.id,
            actor=actor,
            process=definition.key,
            version=definition.version,
            variables=sorted(data),
        )
        step = Step(s, inst, Loaded(workflow=wf), actor)
        if message is not None:
            self.stepper.engine_steps(step)  # up to the start event waiting for it
            self._catch(step, *message)
        self._run(step)
        return step

    def _run(self, step: Step) -> None:
        self.stepper.advance(step)

    def _catch(self, step: Step, name: str, key: str, data: dict[str, Any]) -> None:
        """Hand message `name` to the task of the instance waiting for it."""
        waiting = [
            (t, d)
            for t in step.workflow.event_manager.tasks.values()
            for d in definitions_of(t)
            if isinstance(d, MessageEventDefinition) and d.name == name
        ]
        if not waiting:
            raise NotFound(f"Instance {step.instance.id} is not waiting for message {name!r}.")
        catcher, definition = waiting[0]
        with self.stepper.watched(step):
            step.workflow.catch(BpmnEvent(definition, {"payload": data, "result_var": name}))
        audit.record(
            step.session,
            "message.correlated",
            instance_id=step.instance.id,
            actor=step.actor,
            element=catcher.task_spec.bpmn_id,
            message=name,
            key=key,
            fields=sorted(data),
        )
