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
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
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
from .stepper import Step, is_user
from .validation import normalize_lane

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
AHEAD = TaskState.FUTURE | TaskState.PREDICTED_MASK
OPEN_STATUSES = ("running", "incident", "suspended")
_GENERATED_SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin")
_SPIFF_SPECS = ("Start", "End", "Root")
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
                outcome.problems = remap(loaded.workflow, specs, plan)
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
        outcome.problems = remap(wf, specs, plan)
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


# -- the task tree ------------------------------------------------------------------------


def remap(wf: Any, specs: Specs, plan: Plan) -> list[str]:
    """Point `wf` (in memory) at the target specs; the problems that prevent it, if any.
    With problems, `wf` is left half-changed and must be thrown away."""
    problems = _remap(wf, specs.top, plan)
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
        problems.extend(_remap(sub, spec, plan))
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


def _remap(w: Any, new_spec: Any, plan: Plan) -> list[str]:
    targets: dict[Any, Any] = {}
    problems: list[str] = []
    for task in w.tasks.values():
        name = _target_name(task.task_spec.name, plan.mapping, w.spec.name, new_spec.name)
        target = new_spec.task_specs.get(name)
        targets[task.id] = target
        if not task.has_state(ACTIVE):
            continue
        element = _element_of(task.task_spec)
        if target is None:
            problems.append(
                f"at {element!r}, which version {plan.target_version} does not have: map it"
            )
        elif _kind(target) != _kind(task.task_spec):
            problems.append(
                f"at {element!r} ({_kind(task.task_spec)[0]}), but {_element_of(target)!r} "
                f"in version {plan.target_version} is a {_kind(target)[0]}"
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
