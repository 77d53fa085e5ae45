"""Trying a draft diagram before it is deployed: a dry run.

The draft is deployed into a throwaway in-memory SQLite database beside a copy of the
latest deployed version of every other process, and one instance runs there with the
handlers and sandbox services the caller passes, on a simulated clock: user tasks are
completed with the scenario's values (or values their form suggests), the clock jumps
to the next due timer or retry, awaited messages are sent when the scenario has them.
Nothing is written to the real database, and the clock moves for this thread only.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from . import decisions, definitions, queries
from .actors import Actor
from .clock import SimulatedTime, clock
from .db import make_db_engine, make_session_factory, unit_of_work
from .errors import EngineError, InvalidInput, ProcessIncident
from .jobs import run_due_jobs
from .models import (
    AuditEvent,
    DecisionDefinition,
    Job,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
)
from .parser import parse_xml
from .registry import Registry
from .runtime import ProcessEngine

SIMULATED_OWNER = 1
RUNNER = Actor("dry-run", frozenset({"admin"}), user_id=SIMULATED_OWNER)
SHOWN_EVENTS = (
    "instance.started",
    "task.ready",
    "task.completed",
    "task.refused",
    "service.completed",
    "service.failed",
    "service.bpmn_error",
    "incident.raised",
    "timer.fired",
    "message.correlated",
    "instance.completed",
)


@dataclass(frozen=True)
class Scenario:
    start: str | None = None  # the process to start; default: the draft's first process
    data: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # user task id -> values
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> data
    horizon: timedelta = timedelta(days=400)
    max_steps: int = 200


@dataclass(frozen=True)
class PathStep:
    elapsed_seconds: float
    event: str
    element: str | None
    name: str | None
    detail: str | None


@dataclass
class DryRun:
    process: str
    status: str
    active: list[str]
    steps: list[PathStep]
    stopped: str
    # Elements the diagram failed at: {element, name, reason, expression}
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def visited(self) -> list[str]:
        return list(dict.fromkeys(s.element for s in self.steps if s.element))


def dry_run(
    draft: list[tuple[str, bytes]],
    scenario: Scenario,
    *,
    source: sessionmaker[Session],
    registry: Registry,
    roles: Collection[str],
    services: Any,
    metadata: MetaData,
) -> DryRun:
    """Run `scenario` on `draft`; raises DefinitionInvalid when the draft is invalid."""
    db = make_db_engine("sqlite://", poolclass=StaticPool)
    try:
        metadata.create_all(db)
        sandbox = ProcessEngine(make_session_factory(db), registry, roles, services=services)
        drafted = _deploy(source, sandbox, draft)
        if not (scenario.start or drafted):
            raise InvalidInput("The draft has no process to run: name one to start.")
        process = scenario.start or drafted[0]
        with clock.simulated() as time:
            return _run(sandbox, process, scenario, time)
    finally:
        db.dispose()


def _deploy(
    source: sessionmaker[Session], sandbox: ProcessEngine, draft: list[tuple[str, bytes]]
) -> list[str]:
    files = definitions.read_files(draft).files
    keys = [k for f in files for k in f.process_ids]
    with unit_of_work(source) as real, unit_of_work(sandbox.session_factory) as s:
        for d in definitions.latest_definitions(real):
            if d.key not in keys:  # copied as they are: they passed validation when deployed
                s.add(ProcessDefinition(**{c: getattr(d, c) for c in _COPIED}))
        for t in decisions.latest_definitions(real):  # the tables the draft may evaluate
            s.add(DecisionDefinition(**{c: getattr(t, c) for c in _COPIED if c != "starters"}))
    sandbox.deploy(draft, RUNNER)
    return keys


_COPIED = (
    "key",
    "name",
    "version",
    "hash",
    "file_name",
    "xml",
    "deployed_at",
    "deployed_by",
    "starters",
)


def _run(engine: ProcessEngine, process: str, scenario: Scenario, time: SimulatedTime) -> DryRun:
    started = time.now
    try:
        iid = engine.start(process, RUNNER, scenario.data, owner_id=SIMULATED_OWNER)["id"]
    except ProcessIncident as exc:  # the run goes on as far as the rest of the diagram can
        iid = exc.instance_id
    refused: dict[str, str] = {}
    stopped = f"Stopped after {scenario.max_steps} steps."
    for _ in range(scenario.max_steps):
        view = engine.instance(iid, RUNNER)
        if view["status"] in ("completed", "terminated"):
            stopped = f"The instance {view['status']}."
            break
        ready = [t for t in _ready(engine, iid) if t["id"] not in refused]
        if ready:
            _complete(engine, ready[0], scenario, refused)
            continue
        if run_due_jobs(engine, "dry-run"):
            continue
        waiting, business_key, next_due = _waits(engine, iid)
        sendable = [m for m in waiting if m in scenario.messages]
        if sendable and business_key:
            with suppress(ProcessIncident):  # shown as the failure it left
                engine.correlate(sendable[0], business_key, scenario.messages[sendable[0]], RUNNER)
            continue
        if next_due is not None and next_due <= started + scenario.horizon:
            time.move_to(next_due)
            continue
        stopped = _why_stopped(view, refused, waiting, next_due, _failures(engine, iid))
        break
    view = engine.instance(iid, RUNNER)
    path = _path(engine, iid, started)
    return DryRun(process, view["status"], view["active"], path, stopped, _failures(engine, iid))


def _ready(engine: ProcessEngine, instance_id: str) -> list[dict[str, Any]]:
    with unit_of_work(engine.session_factory) as s:
        return queries.list_tasks(s, RUNNER, engine, queries.TaskFilter(instance_id=instance_id))


def _complete(
    engine: ProcessEngine, task: dict[str, Any], scenario: Scenario, refused: dict[str, str]
) -> None:
    values = suggested_values(task["fields"], scenario.tasks.get(task["name"], {}))
    try:
        engine.complete_task(task["id"], values, RUNNER)
    except ProcessIncident:
        return  # the task is done; the run shows where the diagram failed after it
    except EngineError as exc:
        reasons = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) or exc.detail
        refused[task["id"]] = f"{task['name']} refused the values ({reasons})"


def suggested_values(fields: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    """Form values for a dry run: the scenario's, else the default, the first option, yes,
    the smallest number, today, or a placeholder text for a required field."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.get("default") is not None:
            values[f["id"]] = f["default"]
        elif f["type"] == "enum" and f.get("options"):
            values[f["id"]] = f["options"][0]["id"]
        elif f["type"] == "boolean":
            values[f["id"]] = True
        elif f["type"] == "long":
            values[f["id"]] = int(f.get("min") or 1)
        elif f["type"] == "date":
            values[f["id"]] = clock.now().date().isoformat()
        elif f["required"]:
            values[f["id"]] = "dry run"
    values.update(given)
    return values


def _waits(
    engine: ProcessEngine, instance_id: str
) -> tuple[list[str], str | None, datetime | None]:
    with unit_of_work(engine.session_factory) as s:
        messages = list(
            s.scalars(
                select(MessageSubscription.message_name).where(
                    MessageSubscription.instance_id == instance_id
                )
            )
        )
        inst = s.get(ProcessInstance, instance_id)
        jobs = s.execute(
            select(Job.due_at, Job.locked_until).where(Job.instance_id == instance_id)
        ).all()
        # SpiffWorkflow fires a timer once the clock is past its due time, not at it.
        moments = [max(due, locked or due) + timedelta(microseconds=1) for due, locked in jobs]
        return messages, inst.business_key if inst else None, min(moments, default=None)


def _failures(engine: ProcessEngine, instance_id: str) -> list[dict[str, Any]]:
    with unit_of_work(engine.session_factory) as s:
        return [
            {
                "element": i["element"],
                "name": i["element_name"],
                "reason": i["error"],
                "expression": i["expression"],
            }
            for i in queries.list_incidents(s, instance_id=instance_id)
        ]


def _why_stopped(
    view: dict[str, Any],
    refused: dict[str, str],
    waiting: list[str],
    next_due: Any,
    failed: list[dict[str, Any]],
) -> str:
    reasons = list(refused.values())
    for f in failed:  # a failing element's or a handler's whose retries ran out
        reasons.append(
            f"the process could not continue at {f['name'] or f['element']}: {f['reason']}"
        )
    if waiting:
        reasons.append(f"waiting for message {', '.join(waiting)}")
    if next_due is not None:
        reasons.append(f"the next timer is due after the horizon, at {next_due.isoformat()}")
    return "; ".join(reasons) or f"waiting at {', '.join(view['active']) or 'nothing'}"


def _path(engine: ProcessEngine, instance_id: str, started: datetime) -> list[PathStep]:
    with unit_of_work(engine.session_factory) as s:
        names = _element_names(s)
        events = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.chain == instance_id, AuditEvent.event.in_(SHOWN_EVENTS))
            .order_by(AuditEvent.seq)
        )
        return [
            PathStep(
                elapsed_seconds=(e.created_at - started).total_seconds(),
                event=e.event,
                element=e.element,
                name=names.get(e.element or ""),
                detail=_detail(e),
            )
            for e in events
        ]


def _detail(event: AuditEvent) -> str | None:
    details = event.details or {}
    for key in ("error", "topic", "message", "code"):
        if details.get(key):
            return str(details[key])
    if details.get("fields"):
        return "fields: " + ", ".join(details["fields"])
    return None


def _element_names(s: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for xml in s.scalars(select(ProcessDefinition.xml)):
        for node in parse_xml(xml.encode("utf-8")).iter():
            if isinstance(node.tag, str) and node.get("id") and node.get("name"):
                names.setdefault(node.get("id"), node.get("name"))
    return names
