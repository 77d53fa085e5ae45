"""Checks a diagram must pass before it is deployed; each finding names its element."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from . import assignment, call_variables, camunda_checks, dataflow, decisions
from .dmn import Decision
from .errors import ERROR, WARNING, Problem
from .expression_checks import check_condition, check_multi_instance, check_timer
from .forms import KNOWN_TYPES
from .parser import BPMN_NS, ParsedFile, build_parser
from .scripting import check_expression, check_script

log = logging.getLogger(__name__)

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_B = f"{{{BPMN_NS}}}"
_C = f"{{{CAMUNDA_NS}}}"


def normalize_lane(name: str | None) -> str | None:
    """`Proofing agent` and `proofing_agent` name the same role."""
    if name is None:
        return None
    return "_".join(name.strip().lower().replace("-", " ").split())


@dataclass(frozen=True)
class Known:
    topics: Collection[str]
    validators: Collection[str]
    roles: Collection[str]
    process_keys: Collection[str]
    # The decisions business rule tasks may name: deployed ones and the deploy's own.
    decisions: Mapping[str, Decision] = dataclasses.field(default_factory=dict)


def validate(files: list[ParsedFile], known: Known) -> list[Problem]:
    """Every finding about `files`, errors and warnings. Real-world BPMN is varied: a check
    that breaks on a file reports that as an error instead of raising."""
    problems: list[Problem] = []
    batch_keys = {pid for f in files for pid in f.process_ids}
    available = dataflow.names_set(files, known.topics, known.validators)
    for f in files:
        if not f.process_ids:
            problems.append(Problem("no executable process in this file", file=f.name))
        for proc in f.root.iter(f"{_B}process"):
            problems.extend(_guarded(f.name, _check_process, f.name, proc, known, batch_keys))
            problems.extend(_guarded(f.name, dataflow.check, f.name, proc, available))
            problems.extend(decisions.check_tasks(f.name, proc, known.decisions))
    if not any(p.is_error for p in problems):
        problems.extend(_check_with_spiff(files, known.decisions))
    return problems


def _guarded(file: str, check: Callable[..., list[Problem]], *args: Any) -> list[Problem]:
    try:
        return check(*args)
    except Exception:
        log.exception("a diagram check failed on %s", file)
        return [Problem("the checks could not read this diagram; see the server log", file=file)]


def _check_process(
    file: str, proc: etree._Element, known: Known, batch_keys: set[str]
) -> list[Problem]:
    out: list[Problem] = []

    def problem(message: str, el: etree._Element | None, severity: str = "error") -> None:
        element = el.get("id") if el is not None else None
        out.append(Problem(message, element=element, file=file, severity=severity))

    if not proc.get("id"):
        problem("a process without an id cannot be deployed: its id is its key", None)
    lanes = list(proc.iter(f"{_B}lane"))
    in_lane = {}
    for lane in lanes:
        role = normalize_lane(lane.get("name"))
        if not role:
            problem("lane without a name: name it after a role", lane)
        elif role not in known.roles:
            problem(f"lane {lane.get('name')!r} is not a known role", lane)
        for ref in lane.iter(f"{_B}flowNodeRef"):
            in_lane[(ref.text or "").strip()] = role
    for node in proc.iter(*_FLOW_NODES):
        if not node.get("id"):
            name = node.get("name")
            problem(
                f"{etree.QName(node).localname} {name or ''} has no id, so it can never run", None
            )
    for task in proc.iter(f"{_B}serviceTask"):
        topic = task.get(f"{_C}topic")
        if camunda_checks.is_java_bound(task):
            continue  # refused by camunda_checks with what to use instead
        if not topic:
            problem("service task has no camunda:topic", task)
        elif topic not in known.topics:
            problem(f"no handler is registered for topic {topic!r}", task)
    for task in proc.iter(f"{_B}userTask"):
        if task.get("id") not in in_lane and assignment.of_element(task).is_empty:
            problem(
                "user task has no lane and no assignment, so only admins may complete it",
                task,
                WARNING,
            )
        for prop in task.iterfind(f"{_B}extensionElements/{_C}properties/{_C}property"):
            if prop.get("name") == "validator" and prop.get("value") not in known.validators:
                problem(f"no validator is registered as {prop.get('value')!r}", task)
        for field in task.iter(f"{_C}formField"):
            if field.get("type") not in KNOWN_TYPES:
                problem(
                    f"form field {field.get('id')!r} has type {field.get('type')!r}; "
                    f"use one of {', '.join(KNOWN_TYPES)}",
                    task,
                )
    for call in proc.iter(f"{_B}callActivity"):
        called = call.get("calledElement")
        if called not in batch_keys and called not in known.process_keys:
            problem(f"calls process {called!r}, which is not deployed", call)
        for message in call_variables.warnings(call):
            problem(message, call, WARNING)
    for timer in proc.iter(f"{_B}timerEventDefinition"):
        event = timer.getparent()
        for expr in timer:
            if isinstance(expr.tag, str) and expr.tag.startswith(_B):
                for message in check_timer(expr.text or "", expr.tag.removeprefix(_B)):
                    problem(message, event)
    for cond in proc.iter(f"{_B}conditionExpression"):
        for message in check_condition(cond.text):
            problem(message, cond.getparent())
    for loop in proc.iter(f"{_B}multiInstanceLoopCharacteristics"):
        for label, text in _multi_instance_expressions(loop):
            for message in check_multi_instance(label, text):
                problem(message, loop.getparent())
    for event, message in _message_events_without_a_name(proc):
        problem(message, event)
    for event, message in _message_payloads(proc):
        problem(message, event)
    for condition in proc.iter(f"{_B}condition"):  # conditional events
        for message in check_condition(condition.text):
            problem(message, condition.getparent().getparent())
    for script in proc.iter(f"{_B}script"):
        if not camunda_checks.is_python(script.getparent()):
            continue  # refused by camunda_checks for its language, not its syntax
        for message in check_script(script.text or ""):
            problem(f"script: {message}", script.getparent())
    for element, message in camunda_checks.check(proc):
        problem(message, element)
    for flow, message in _dangling_flows(proc):
        problem(message, flow)
    for gateway, message, severity in _gateway_defaults(proc):
        problem(message, gateway, severity)
    for node in _unreachable(proc):
        problem("cannot be reached from a start event", node)
    return out


def _multi_instance_expressions(loop: etree._Element) -> Iterator[tuple[str, str | None]]:
    for tag, label in (
        ("loopCardinality", "cardinality"),
        ("completionCondition", "completion condition"),
    ):
        for node in loop.iterfind(f"{_B}{tag}"):
            yield label, node.text
    collection = loop.get(f"{_C}collection")
    if collection is not None:
        yield "collection", collection


def _message_events_without_a_name(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """A message event waits for (or a start event starts on) a message by its name."""
    names = {m.get("id"): m.get("name") for m in proc.getroottree().iter(f"{_B}message")}
    for definition in proc.iter(f"{_B}messageEventDefinition"):
        event = definition.getparent()
        ref = definition.get("messageRef")
        if event.tag == f"{_B}startEvent" and not ref:
            yield event, "message start event names no message (messageRef)"
        elif ref and ref not in names:
            yield event, f"message {ref!r} is not defined in this file"
        elif ref and not (names[ref] or "").strip():
            yield event, f"message {ref!r} has no name, so no message can reach it"


_THROWING = (f"{_B}intermediateThrowEvent", f"{_B}endEvent")


def _message_payloads(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """SpiffWorkflow's Camunda dialect evaluates a thrown message's `camunda:expression` as
    its payload; without one, every instance fails when it gets there."""
    for definition in proc.iter(f"{_B}messageEventDefinition"):
        event = definition.getparent()
        if event.tag not in _THROWING:
            continue
        payload = definition.get(f"{_C}expression")
        if payload is None:
            yield event, "message throw event has no payload: set camunda:expression"
        else:
            yield from ((event, f"message payload: {p}") for p in check_expression(payload))


_SPLITTING_GATEWAYS = (f"{_B}exclusiveGateway", f"{_B}inclusiveGateway")
_FLOW_NODES = frozenset(
    f"{_B}{tag}"
    for tag in (
        "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
        "boundaryEvent", "task", "userTask", "serviceTask", "scriptTask", "manualTask",
        "businessRuleTask", "sendTask", "receiveTask", "callActivity", "subProcess",
        "transaction", "adHocSubProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
        "eventBasedGateway", "complexGateway",
    )
)  # fmt: skip


def _dangling_flows(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """A flow joins two nodes of its own (sub)process; SpiffWorkflow's own message for one
    that does not ("perhaps a form has the same ID?") sends the analyst the wrong way."""
    for flow in proc.iter(f"{_B}sequenceFlow"):
        scope = {n.get("id") for n in flow.getparent() if n.tag in _FLOW_NODES}
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref:
                yield flow, f"sequence flow has no {end}"
            elif ref not in scope:
                yield flow, f"{end} {ref!r} is no flow node of this process or subprocess"


def _gateway_defaults(proc: etree._Element) -> list[tuple[etree._Element, str, str]]:
    """A split without a default is allowed, as in Camunda (where all conditions are
    often covered), but said: when its conditions all fail, the instance stops at it
    with an incident. A default that is not one of its flows is an error."""
    outgoing: dict[str | None, list[str | None]] = {}
    for flow in proc.iter(f"{_B}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("id"))
    found = []
    for gateway in proc.iter(*_SPLITTING_GATEWAYS):
        flows = outgoing.get(gateway.get("id"), [])
        default = gateway.get("default")
        if len(flows) > 1 and not default:
            found.append(
                (
                    gateway,
                    f"gateway splits into {len(flows)} flows but has no default: when no"
                    " condition holds, the instance stops here with an incident",
                    WARNING,
                )
            )
        elif default and default not in flows:
            found.append((gateway, f"default flow {default!r} does not leave this gateway", ERROR))
    return found


def _unreachable(scope: etree._Element) -> list[etree._Element]:
    """Flow nodes of `scope` (a process or subprocess) that no token can reach: followed
    from its start events along sequence flows, into boundary events and subprocesses."""
    nodes = {n.get("id"): n for n in scope if n.tag in _FLOW_NODES}
    targets: dict[str | None, list[str | None]] = {}
    for flow in scope.iterchildren(f"{_B}sequenceFlow"):
        targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for node in nodes.values():
        if node.tag == f"{_B}boundaryEvent":
            targets.setdefault(node.get("attachedToRef"), []).append(node.get("id"))
    pending = [
        i
        for i, n in nodes.items()
        if n.tag == f"{_B}startEvent" or n.get("triggeredByEvent") == "true"
    ]
    reached: set[str | None] = set()
    while pending:
        current = pending.pop()
        if current in reached or current not in nodes:
            continue
        reached.add(current)
        pending.extend(targets.get(current, []))
    found = [n for i, n in nodes.items() if i not in reached]
    for i, n in nodes.items():
        if i in reached and n.tag in (f"{_B}subProcess", f"{_B}transaction"):
            found.extend(_unreachable(n))
    return found


def _check_with_spiff(files: list[ParsedFile], decisions: Mapping[str, Decision]) -> list[Problem]:
    problems = []
    try:
        parser = build_parser(files, dict(decisions))
        for f in files:
            for pid in f.process_ids:
                parser.get_spec(pid)
    except ValidationException as exc:
        problems.append(Problem(str(exc), element=getattr(exc, "id", None), file=exc.file_name))
    except Exception as exc:  # SpiffWorkflow raises plain errors on some malformed input
        problems.append(Problem(f"cannot be parsed: {exc}"))
    return problems
