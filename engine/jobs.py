"""Due jobs (timers, retries) claimed by workers with a lease.

The jobs table, not memory, is the truth: a worker claims a batch of due jobs by
writing its id and a lease expiry on them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
two workers never claim the same row), then runs each in its own transaction. A worker
that dies leaves its claims to expire; another worker then picks them up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .clock import clock
from .db import unit_of_work
from .errors import EngineError
from .models import Job
from .runtime import Engine

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim_due(
    factory: sessionmaker[Session], worker: str, lease: timedelta, limit: int
) -> list[int]:
    now = clock.now()
    with unit_of_work(factory) as s:
        ids = list(
            s.scalars(
                select(Job.id)
                .where(Job.due_at <= now)
                .where(or_(Job.locked_until.is_(None), Job.locked_until < now))
                .order_by(Job.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            s.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(locked_by=worker, locked_until=now + lease)
            )
    return ids


def release(factory: sessionmaker[Session], worker: str) -> None:
    """Hand back what this worker claimed but did not run (graceful shutdown)."""
    with unit_of_work(factory) as s:
        s.execute(
            update(Job).where(Job.locked_by == worker).values(locked_by=None, locked_until=None)
        )


def run_due_jobs(
    engine: Engine,
    worker: str,
    lease: timedelta = timedelta(seconds=60),
    limit: int = 100,
    stop: threading.Event | None = None,
) -> int:
    """Claim and run due jobs until none is due; returns how many ran."""
    ran = 0
    while stop is None or not stop.is_set():
        ids = claim_due(engine.session_factory, worker, lease, limit)
        if not ids:
            break
        for job_id in ids:
            if stop is not None and stop.is_set():
                break
            try:
                if engine.execute_job(job_id, worker=worker):
                    ran += 1
            except EngineError as exc:
                log.info("job %s skipped: %s", job_id, exc.detail)
            except OperationalError:
                # The database is gone: stop here; the claims come back when it returns.
                log.warning("database unavailable: worker %s pauses this batch", worker)
                _release_quietly(engine, worker)
                return ran
            except Exception:
                log.exception("job %s failed", job_id)
        if len(ids) < limit:
            break
    if stop is not None and stop.is_set():
        release(engine.session_factory, worker)
    return ran


def _release_quietly(engine: Engine, worker: str) -> None:
    with contextlib.suppress(OperationalError):  # still down: the leases run out anyway
        release(engine.session_factory, worker)
