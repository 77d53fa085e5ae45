"""Moving running instances from one definition version to another, Camunda style:
plan -> validate -> execute.

A plan names a process, a source and a target version and a mapping of element ids;
an element the mapping does not name keeps its id. Validation migrates each selected
instance in memory and reports what would stop it: an element the instance is at that
has no counterpart in the target, or whose counterpart is another kind of element.
Execution migrates each instance in its own transaction and leaves the others alone:
task data, timers (with their due times) and open work items stay; passed elements the
target no longer has drop out of the history; what lies ahead is predicted anew from
the target version. The target runs with the latest version of every process it calls,
as a newly started instance would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from . import audit, definitions
from .actors import Actor
from .db import unit_of_work
from .errors import Conflict, InvalidInput
from .models import InstanceTask, Job, ProcessDefinition, ProcessInstance, WorkItem
from .parser import BPMN_NS, parse_xml
from .persistence import Loaded, Specs, load
from .queries import InstanceFilter
from .step import Step
from .stepper import is_user
from .task_tree import remap
from .validation import normalize_lane

OPEN_STATUSES = ("running", "incident", "suspended")
_NOT_ELEMENTS = frozenset(
    f"{{{BPMN_NS}}}{tag}"
    for tag in ("process", "sequenceFlow", "laneSet", "lane", "definitions", "collaboration")
)


@dataclass(frozen=True)
class Plan:
    key: str
    source_version: int
    target_version: int
    # source element id -> target element id, or None: "no counterpart" (reported)
    mapping: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """Which instances of the source version: all open ones unless narrowed."""

    instance_ids: tuple[str, ...] = ()
    business_key: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 500


@dataclass
class Outcome:
    instance_id: str
    business_key: str | None
    active: list[str]
    problems: list[str] = field(default_factory=list)
    migrated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Element:
    id: str
    name: str | None
    kind: str


@dataclass(frozen=True)
class PlanView:
    """A checked plan and, for every source element, the target it maps to (or None)."""

    plan: Plan
    source: list[Element]
    target: list[Element]
    resolved: dict[str, str | None]

    @property
    def unmapped(self) -> list[str]:
        return [s for s, t in self.resolved.items() if t is None]


def prepare(
    session: Session,
    key: str,
    source_version: int,
    target_version: int,
    mapping: dict[str, str | None],
) -> PlanView:
    """Check that both versions exist and the mapping names real elements."""
    source = definitions.get_definition(session, key, source_version)
    target = definitions.get_definition(session, key, target_version)
    source_elements, target_elements = elements(session, source), elements(session, target)
    known_source, known_target = {e.id for e in source_elements}, {e.id for e in target_elements}
    errors = {}
    for old, new in mapping.items():
        if old not in known_source:
            errors[str(old)] = f"version {source_version} has no element {old!r}"
        elif new is not None and new not in known_target:
            errors[str(old)] = f"version {target_version} has no element {new!r}"
    if errors:
        raise InvalidInput("The mapping names elements that do not exist.", errors)
    default = {e.id: e.id if e.id in known_target else None for e in source_elements}
    resolved = {e.id: mapping.get(e.id, default[e.id]) for e in source_elements}
    # Only what differs from the default (same id) is the plan's mapping.
    explicit = {old: new for old, new in resolved.items() if new != default[old]}
    plan = Plan(key, source_version, target_version, explicit)
    return PlanView(plan, source_elements, target_elements, resolved)


def elements(session: Session, definition: ProcessDefinition) -> list[Element]:
    """The flow elements of a definition and of the processes it calls (latest versions)."""
    found: dict[str, Element] = {}
    pending, seen = [definition], {definition.key}
    while pending:
        current = pending.pop(0)
        for node in parse_xml(current.xml.encode("utf-8")).iter():
            element_id = node.get("id")
            if (
                isinstance(node.tag, str)
                and node.tag.startswith(f"{{{BPMN_NS}}}")
                and node.tag not in _NOT_ELEMENTS
                and element_id
                and node.getparent() is not None
                and node.getparent().tag in (f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess")
            ):
                kind = node.tag.split("}", 1)[1]
                found.setdefault(element_id, Element(element_id, node.get("name"), kind))
        for called in definitions.called_keys(current.xml):
            latest = definitions.latest_definition(session, called)
            if latest is not None and called not in seen:
                seen.add(called)
                pending.append(latest)
    return list(found.values())


def select_instances(session: Session, plan: Plan, selection: Selection) -> list[ProcessInstance]:
    query = select(ProcessInstance).where(
        ProcessInstance.process_key == plan.key,
        ProcessInstance.definition_version == plan.source_version,
        ProcessInstance.status.in_(OPEN_STATUSES),
    )
    if selection.instance_ids:
        query = query.where(ProcessInstance.id.in_(selection.instance_ids))
    query = InstanceFilter(
        business_key=selection.business_key,
        status=selection.status,
        created_from=selection.created_from,
        created_to=selection.created_to,
    ).narrow(query)
    return list(
        session.scalars(
            query.order_by(ProcessInstance.created_at, ProcessInstance.id).limit(selection.limit)
        )
    )


def validate(engine: Any, plan: Plan, selection: Selection) -> list[Outcome]:
    """What execute would do to each selected instance; changes no instance (it may
    store the target's spec bundle, which is only ever stored once)."""
    with unit_of_work(engine.session_factory) as s:
        _, bundle_id, specs = _target(s, engine, plan)
        outcomes = []
        for inst in select_instances(s, plan, selection):
            outcome = _outcome(inst)
            outcome.problems = _already_there(inst, bundle_id, plan)
            if not outcome.problems:
                loaded = load(s, inst, engine.specs.get(s, inst.bundle_id), engine.script_engine)
                outcome.problems = remap(loaded.workflow, specs, plan.mapping, plan.target_version)
            outcomes.append(outcome)
    return outcomes


def execute(engine: Any, plan: Plan, selection: Selection, actor: Actor) -> list[Outcome]:
    """Migrate each selected instance that validates, each in its own transaction."""
    with unit_of_work(engine.session_factory) as s:
        ids = [i.id for i in select_instances(s, plan, selection)]
    outcomes = []
    for instance_id in ids:
        try:
            outcomes.append(_migrate_one(engine, plan, instance_id, actor))
        except Conflict as exc:  # it moved meanwhile: the others still go
            outcomes.append(Outcome(instance_id, None, [], [exc.detail]))
    return outcomes


def _migrate_one(engine: Any, plan: Plan, instance_id: str, actor: Actor) -> Outcome:
    with engine.transaction() as s:
        inst = s.execute(
            select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
        ).scalar_one()
        outcome = _outcome(inst)
        if inst.definition_version != plan.source_version or inst.status not in OPEN_STATUSES:
            outcome.problems = [
                f"the instance is {inst.status} on version {inst.definition_version}"
            ]
            return outcome
        target, bundle_id, specs = _target(s, engine, plan)
        outcome.problems = _already_there(inst, bundle_id, plan)
        if outcome.problems:
            return outcome
        wf = load(s, inst, engine.specs.get(s, inst.bundle_id), engine.script_engine).workflow
        outcome.problems = remap(wf, specs, plan.mapping, plan.target_version)
        if outcome.problems:
            return outcome
        # Every task row is written anew: the tree changed shape and each row's data is a
        # delta from its parent's.
        s.execute(delete(InstanceTask).where(InstanceTask.instance_id == inst.id))
        step = Step(s, inst, Loaded(workflow=wf), actor.name)
        _rename_mirrored(s, step)
        from_version = inst.definition_version
        inst.definition_id, inst.definition_version = target.id, target.version
        inst.bundle_id = bundle_id
        engine.stepper.finish(step)
        audit.record(
            s,
            "instance.migrated",
            instance_id=inst.id,
            actor=actor.name,
            from_version=from_version,
            to_version=target.version,
            mapping=plan.mapping,
        )
        outcome.migrated = True
        outcome.active = list(inst.state.get("active", []))
    return outcome


def _target(s: Session, engine: Any, plan: Plan) -> tuple[ProcessDefinition, int, Specs]:
    target = definitions.get_definition(s, plan.key, plan.target_version)
    bundle_id = definitions.bundle_for(s, target).id
    return target, bundle_id, engine.specs.get(s, bundle_id)


def _already_there(inst: ProcessInstance, bundle_id: int, plan: Plan) -> list[str]:
    if inst.bundle_id == bundle_id:
        return [f"already runs on version {plan.target_version} and the processes it calls"]
    return []


def _outcome(inst: ProcessInstance) -> Outcome:
    return Outcome(inst.id, inst.business_key, list((inst.state or {}).get("active", [])))


def _rename_mirrored(s: Session, step: Step) -> None:
    """Open work items and timer jobs keep their task ids; their element may be renamed."""
    for task_id in step.mirror["ready"]:
        task = step.workflow.get_task_from_id(UUID(task_id))
        spec = task.task_spec
        if is_user(task):
            s.execute(
                update(WorkItem)
                .where(WorkItem.id == task_id)
                .values(
                    name=spec.bpmn_id,
                    title=spec.bpmn_name or spec.bpmn_id,
                    lane=normalize_lane(spec.lane),
                )
            )
            step.mirror["ready"][task_id] = spec.bpmn_id
    for task_id in step.mirror["timers"]:
        task = step.workflow.get_task_from_id(UUID(task_id))
        s.execute(
            update(Job)
            .where(Job.instance_id == step.instance.id, Job.task_id == task_id)
            .values(element=task.task_spec.bpmn_id)
        )
