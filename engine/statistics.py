"""How the instances fare on one diagram, per element, over a date range.

- `now`: open instances at the element (each instance's mirror of its active tasks).
- `passed`: how often the element was left within the range. Tasks, catch events and
  timers record it in the audit trail (`task.completed`, `service.completed`,
  `message.correlated`, `timer.fired`); other elements (gateways, call activities,
  start and end events) are counted from the completed rows of `instance_tasks`.
- `median_seconds`, `p90_seconds` (nearest rank): time spent at the element by those
  that left it within the range. A user task counts from `task.ready` to its
  `task.completed`; a service task or catch event from the instance's last recorded
  event before it (retries and incidents of the element itself included).
- `breaches`: for a timer boundary event, how often it fired (the SLA was missed).

Elements are matched by id over every version of the process.
"""

from __future__ import annotations

import math
import statistics as stats
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent, InstanceTask, ProcessInstance
from .parser import BPMN_NS, parse_xml

LEFT = ("task.completed", "service.completed", "message.correlated", "timer.fired")
# Events about an element that keep the token where it is: not where it came from.
_STAYING = ("service.failed", "incident.raised", "incident.resolved", "task.refused")
_OPEN = ("running", "incident", "suspended")
_AUDITED_KINDS = ("userTask", "serviceTask", "intermediateCatchEvent", "boundaryEvent")
_COMPLETED = 64  # SpiffWorkflow's TaskState.COMPLETED, as stored in task rows
_B = f"{{{BPMN_NS}}}"


@dataclass
class ElementStats:
    element: str
    kind: str
    now: int = 0
    passed: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    breaches: int | None = None
    durations: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["durations"]
        return out


def diagram_elements(xml: str) -> dict[str, str]:
    """Flow node ids of a diagram and their kinds (`userTask`, `boundaryEvent`, ...)."""
    found = {}
    for node in parse_xml(xml.encode("utf-8")).iter(f"{_B}*"):
        parent = node.getparent()
        if (
            node.get("id")
            and parent is not None
            and parent.tag
            in (
                f"{_B}process",
                f"{_B}subProcess",
            )
        ):
            kind = node.tag.removeprefix(_B)
            if kind not in ("sequenceFlow", "laneSet", "textAnnotation", "association"):
                found[node.get("id")] = kind
    return found


def timer_boundaries(xml: str) -> set[str]:
    root = parse_xml(xml.encode("utf-8"))
    return {
        b.get("id")
        for b in root.iter(f"{_B}boundaryEvent")
        if b.find(f"{_B}timerEventDefinition") is not None
    }


def element_statistics(
    session: Session, xml: str, start: datetime, end: datetime
) -> dict[str, ElementStats]:
    kinds = diagram_elements(xml)
    result = {e: ElementStats(e, kind) for e, kind in kinds.items()}
    for e in timer_boundaries(xml):
        result[e].breaches = 0
    _count_now(session, result)
    _count_audited(session, result, start, end)
    _count_from_tasks(session, result, start, end)
    for item in result.values():
        if item.durations:
            ordered = sorted(item.durations)
            item.median_seconds = stats.median(ordered)
            item.p90_seconds = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return result


def _count_now(session: Session, result: dict[str, ElementStats]) -> None:
    states = session.scalars(select(ProcessInstance.state).where(ProcessInstance.status.in_(_OPEN)))
    for state in states:
        for element in set((state or {}).get("active", [])):
            if element in result:
                result[element].now += 1


def _count_audited(
    session: Session, result: dict[str, ElementStats], start: datetime, end: datetime
) -> None:
    audited = [e for e, r in result.items() if r.kind in _AUDITED_KINDS]
    left = list(
        session.execute(
            select(AuditEvent.chain, AuditEvent.seq, AuditEvent.element).where(
                AuditEvent.event.in_(LEFT),
                AuditEvent.element.in_(audited),
                AuditEvent.created_at >= start,
                AuditEvent.created_at < end,
            )
        )
    )
    chains = _chains(session, {row.chain for row in left})
    for row in left:
        item = result[row.element]
        item.passed += 1
        if item.breaches is not None:
            item.breaches += 1
            continue  # a boundary timer runs beside its activity: no time is spent "at" it
        spent = _time_spent(chains[row.chain], row.seq, row.element)
        if spent is not None:
            item.durations.append(spent)


def _chains(session: Session, chain_ids: set[str]) -> dict[str, dict[int, AuditEvent]]:
    chains: dict[str, dict[int, AuditEvent]] = defaultdict(dict)
    ids = sorted(chain_ids)
    for offset in range(0, len(ids), 500):
        batch = ids[offset : offset + 500]
        for event in session.scalars(select(AuditEvent).where(AuditEvent.chain.in_(batch))):
            chains[event.chain][event.seq] = event
    return chains


def _time_spent(chain: dict[int, AuditEvent], seq: int, element: str) -> float | None:
    left = chain[seq]
    if left.event == "task.completed":
        task_id = _task_of(left)
        for earlier in range(seq - 1, 0, -1):
            event = chain.get(earlier)
            if event is not None and event.event == "task.ready" and _task_of(event) == task_id:
                return _seconds(left.created_at, event.created_at)
        return None
    for earlier in range(seq - 1, 0, -1):
        event = chain.get(earlier)
        if event is None:
            return None
        if event.element == element and event.event in _STAYING:
            continue
        return _seconds(left.created_at, event.created_at)
    return None


def _count_from_tasks(
    session: Session, result: dict[str, ElementStats], start: datetime, end: datetime
) -> None:
    """Elements the audit trail does not name: completed task rows, by their last change."""
    others = {e for e, r in result.items() if r.kind not in _AUDITED_KINDS}
    if not others:
        return
    low, high = start.timestamp(), end.timestamp()
    touched = select(ProcessInstance.id).where(
        ProcessInstance.updated_at >= start, ProcessInstance.created_at < end
    )
    payloads = session.scalars(
        select(InstanceTask.payload).where(InstanceTask.instance_id.in_(touched))
    )
    for payload in payloads:
        name = payload.get("task_spec")
        if name in others and payload.get("state") == _COMPLETED:
            changed = payload.get("last_state_change") or 0
            if low <= changed < high:
                result[name].passed += 1


def _task_of(event: AuditEvent) -> str | None:
    return (event.details or {}).get("task")


def _seconds(later: datetime, earlier: datetime) -> float:
    return (_aware(later) - _aware(earlier)).total_seconds()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
