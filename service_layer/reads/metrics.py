"""What `GET /metrics` reads from the database at each scrape, in one transaction of
cheap aggregate queries on indexed columns: instances by status, jobs by kind (pending,
due, overdue, the oldest due one's wait), open incidents, license-key SLA breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from engine.clock import clock
from engine.db import unit_of_work
from engine.models import Incident, Job, ProcessInstance, WorkItem

from ..system import System

OVERDUE_AFTER = timedelta(seconds=60)  # a due job not run within a minute is late
SLA_BREACH_TASK = "license_key_sla_breach"


@dataclass(frozen=True)
class JobCounts:
    kind: str
    pending: int
    due: int
    overdue: int
    oldest_due_seconds: float  # how long the oldest due job has waited; 0 when none is due


@dataclass(frozen=True)
class DatabaseCounts:
    instances: list[tuple[str, int]]  # (status, count)
    jobs: list[JobCounts]
    open_incidents: int
    sla_breaches_open: int  # waiting for support
    sla_breaches_handled: int


def database_counts(system: System) -> DatabaseCounts:
    now = clock.now()
    with unit_of_work(system.session_factory) as s:
        by_status = s.execute(
            select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)
        ).all()
        jobs = s.execute(
            select(
                Job.kind,
                func.count(),
                func.count().filter(Job.due_at <= now),
                func.count().filter(Job.due_at <= now - OVERDUE_AFTER),
                func.min(Job.due_at),
            ).group_by(Job.kind)
        ).all()
        open_incidents = s.scalar(
            select(func.count()).select_from(Incident).where(Incident.status == "open")
        )
        breaches = s.execute(
            select(WorkItem.status, func.count())
            .where(WorkItem.name == SLA_BREACH_TASK)
            .group_by(WorkItem.status)
        ).all()
    counted: dict[str, int] = {status: n for status, n in breaches}
    return DatabaseCounts(
        instances=[(status, n) for status, n in by_status],
        jobs=[
            JobCounts(
                kind,
                pending,
                due,
                overdue,
                max(0.0, (now - oldest).total_seconds()) if due else 0,
            )
            for kind, pending, due, overdue, oldest in jobs
        ],
        open_incidents=open_incidents or 0,
        sla_breaches_open=counted.get("ready", 0),
        sla_breaches_handled=sum(n for status, n in counted.items() if status != "ready"),
    )
