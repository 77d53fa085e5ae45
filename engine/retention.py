"""Retention: `camunda:historyTimeToLive` on a process, as Camunda 7 reads it.

An instance that ended (completed or terminated) longer ago than its definition's time to
live loses its personal data: the workflow state with every task's data and the form
values in it, its variables, the details of its audit events and of its incidents. What
stays is that it ran and what happened in it: the instance row (process, version, status,
business key, times), its work items (task names, who acted, when), the audit events'
names, actors, elements and times, and their hashes, so the chain still verifies
(`audit.verify` accepts removed details only on the chain of an instance marked purged).

The time to live is a literal: a number of days (`180`) or an ISO 8601 period of days
(`P180D`), as Camunda takes it. An expression is refused at deploy: a retention period
must be known when the instance ends, not depend on its data. A process without one gets
the configured default (`TOKENFLOW_HISTORY_TIME_TO_LIVE`); `None` there keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from lxml import etree
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from . import audit
from .clock import clock
from .db import unit_of_work
from .errors import Problem
from .models import (
    AuditEvent,
    Incident,
    InstanceTask,
    Job,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
)
from .parser import BPMN_NS, ParsedFile

ATTRIBUTE = "{http://camunda.org/schema/1.0/bpmn}historyTimeToLive"
FINISHED = ("completed", "terminated")
PURGED_ERROR = "(removed after the retention period)"
MAX_DAYS = 36_500  # a hundred years: more is a typo, not a policy
_DAYS = re.compile(r"^(?:P([0-9]{1,6})D|([0-9]{1,6}))$", re.IGNORECASE)


class InvalidTimeToLive(ValueError):
    pass


def parse_days(text: str) -> int:
    """`180` or `P180D` as a number of days; anything else raises InvalidTimeToLive
    with the reason, in the words the deploy shows."""
    value = text.strip()
    if "{" in value:
        raise InvalidTimeToLive(
            f"historyTimeToLive {text!r} is an expression; a retention period is a literal"
            ' number of days ("180") or an ISO 8601 period of days ("P180D")'
        )
    found = _DAYS.match(value)
    if found is None:
        raise InvalidTimeToLive(
            f"historyTimeToLive {text!r} is no number of days; write a number of days"
            ' ("180") or an ISO 8601 period of days ("P180D")'
        )
    days = int(found.group(1) or found.group(2))
    if days > MAX_DAYS:
        raise InvalidTimeToLive(f"historyTimeToLive {text!r} is more than {MAX_DAYS} days")
    return days


def of_process(root: etree._Element, key: str) -> int | None:
    """The time to live in days that process `key` of a checked file names, if any."""
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        if proc.get("id") == key and proc.get(ATTRIBUTE) is not None:
            return parse_days(proc.get(ATTRIBUTE))
    return None


def check(files: Iterable[ParsedFile]) -> list[Problem]:
    """An error for each executable process whose time to live is no literal."""
    problems = []
    for f in files:
        for proc in f.root.iter(f"{{{BPMN_NS}}}process"):
            text = proc.get(ATTRIBUTE)
            if text is None or proc.get("id") not in f.process_ids:
                continue
            try:
                parse_days(text)
            except InvalidTimeToLive as exc:
                problems.append(Problem(str(exc), element=proc.get("id"), file=f.name))
    return problems


def expired(
    session: Session, now: datetime, default_days: int | None, limit: int
) -> list[ProcessInstance]:
    """Up to `limit` finished, unpurged instances past their time to live, locked (other
    workers skip them). One query per distinct time to live among the definitions."""
    by_days: dict[int | None, list[int]] = {}
    for def_id, days in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.history_ttl_days)
    ):
        by_days.setdefault(days if days is not None else default_days, []).append(def_id)
    found: list[ProcessInstance] = []
    for days, def_ids in sorted(by_days.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        if days is None or len(found) >= limit:
            continue
        found.extend(
            session.scalars(
                select(ProcessInstance)
                .where(
                    ProcessInstance.definition_id.in_(def_ids),
                    ProcessInstance.status.in_(FINISHED),
                    ProcessInstance.purged_at.is_(None),
                    ProcessInstance.ended_at <= now - timedelta(days=days),
                )
                .order_by(ProcessInstance.ended_at)
                .limit(limit - len(found))
                .with_for_update(skip_locked=True)
            )
        )
    return found


def purge(session: Session, inst: ProcessInstance, now: datetime) -> None:
    """Remove the personal data of one finished instance, and say so in its chain."""
    if inst.status not in FINISHED:  # never a running, suspended or failing instance
        raise ValueError(f"instance {inst.id} has not ended")
    iid = inst.id
    session.execute(delete(InstanceTask).where(InstanceTask.instance_id == iid))
    session.execute(delete(Job).where(Job.instance_id == iid))
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == iid))
    session.execute(
        update(Incident)
        .where(Incident.instance_id == iid)
        .values(error=PURGED_ERROR, expression=None)
    )
    # Only events whose hash covers a hash of their details: older rows keep theirs.
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.chain == iid, AuditEvent.details_hash.is_not(None))
        .values(details=None)
    )
    inst.state = {"purged": True}
    inst.purged_at = now
    audit.record(session, "instance.purged", instance_id=iid, actor="retention")


def purge_expired(
    factory: sessionmaker[Session],
    default_days: int | None,
    batch: int = 100,
) -> int:
    """Purge every instance past its time to live by the engine clock, `batch` per
    transaction. Returns how many were purged."""
    total = 0
    while True:
        with unit_of_work(factory) as session:
            moment = clock.now()
            found = expired(session, moment, default_days, batch)
            for inst in found:
                purge(session, inst, moment)
        total += len(found)
        if len(found) < batch:
            return total
