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
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .clock import clock
from .db import unit_of_work
from .errors import EngineError
from .models import Job
from .runtime import ProcessEngine

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
    engine: ProcessEngine,
    worker: str,
    lease: timedelta = timedelta(seconds=60),
    limit: int = 100,
    stop: threading.Event | None = None,
    batch: int = 25,
    threads: int = 1,
) -> int:
    """Claim and run due jobs until none is due; returns how many ran.

    Jobs run `batch` at a time in one transaction (`ProcessEngine.execute_jobs`); a batch that
    fails is rolled back and its jobs are run one by one, each in its own transaction, so
    that one faulty instance holds up nobody else. With `threads` > 1 that many batches
    run at once (each its own connection): one computes while another waits for the
    database."""
    ran = 0
    size = max(batch, 1)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="jobs") if threads > 1 else None
    try:
        while stop is None or not stop.is_set():
            ids = claim_due(engine.session_factory, worker, lease, limit)
            if not ids:
                break
            chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
            if pool is None:
                outcomes = [_outcome(engine, worker, chunk, stop) for chunk in chunks]
            else:
                outcomes = list(pool.map(lambda c: _outcome(engine, worker, c, stop), chunks))
            ran += sum(done for done, _ in outcomes)
            if any(down for _, down in outcomes):
                # The database is gone: stop here; the claims come back when it returns.
                log.warning("database unavailable: worker %s pauses this batch", worker)
                _release_quietly(engine, worker)
                return ran
            if len(ids) < limit:
                break
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if stop is not None and stop.is_set():
        release(engine.session_factory, worker)
    return ran


def _outcome(
    engine: ProcessEngine, worker: str, ids: list[int], stop: threading.Event | None
) -> tuple[int, bool]:
    """(jobs run, whether the database went away)."""
    if stop is not None and stop.is_set():
        return 0, False
    try:
        return _run_batch(engine, worker, ids, stop), False
    except OperationalError:
        return 0, True


def _run_batch(
    engine: ProcessEngine, worker: str, ids: list[int], stop: threading.Event | None
) -> int:
    if len(ids) > 1:
        try:
            return engine.execute_jobs(ids, worker, stop)
        except OperationalError:
            raise
        except Exception:  # one job of the batch is at fault (or lost a race): alone, it shows
            log.info("a batch of %d jobs failed; running them one by one", len(ids), exc_info=True)
    ran = 0
    for job_id in ids:
        if stop is not None and stop.is_set():
            break
        try:
            if engine.execute_job(job_id, worker=worker):
                ran += 1
        except EngineError as exc:
            log.info("job %s skipped: %s", job_id, exc.detail)
        except OperationalError:
            raise
        except Exception:
            log.exception("job %s failed", job_id)
    return ran


def _release_quietly(engine: ProcessEngine, worker: str) -> None:
    with contextlib.suppress(OperationalError):  # still down: the leases run out anyway
        release(engine.session_factory, worker)
