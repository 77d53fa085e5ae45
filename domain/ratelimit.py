"""A small attempt limiter for secrets people type in (license keys, activation codes).

Failures are counted per (scope, subject) in a database row, not in memory, so every web
process and worker sees the same count and a restart forgives nothing. A subject that
fails `max_failures` times within `window` of its first failure is locked out for
`lockout`. Callers run inside the engine's transaction: a validator that refuses input
with `FieldErrors` still has its session committed, so a failure it records counts even
though the task stays open.

    check_allowed(session, "license_key:owner", str(owner_id), now)   # may raise
    ... verify ...
    record_failure(session, "license_key:owner", str(owner_id), now)  # on a wrong value
    reset(session, "license_key:owner", str(owner_id))                # on success
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base


class AttemptCounter(Base):
    """Failures of one subject (an owner, an instance) in one scope; see `ratelimit`."""

    __tablename__ = "attempt_counters"
    __table_args__ = (UniqueConstraint("scope", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


@dataclass(frozen=True)
class Limit:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


DEFAULT_LIMIT = Limit()


class RateLimited(Exception):
    """Too many failures: `message` is meant for the person, e.g. as a FieldErrors text."""

    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def check_allowed(session: Session, scope: str, subject: str, now: datetime) -> None:
    """Raise `RateLimited` while (scope, subject) is locked out; otherwise do nothing."""
    row = _row(session, scope, subject, lock=False)
    if row is not None and row.locked_until is not None and now < row.locked_until:
        wait = row.locked_until - now
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        unit = "minute" if minutes == 1 else "minutes"
        raise RateLimited(f"Too many attempts. Try again in {minutes} {unit}.", wait)


def record_failure(
    session: Session, scope: str, subject: str, now: datetime, limit: Limit = DEFAULT_LIMIT
) -> int:
    """Count one failure; returns the attempts left before a lockout (0: locked out now)."""
    row = _row(session, scope, subject, lock=True) or _create(session, scope, subject, now)
    if row.window_started_at is None or now - row.window_started_at >= limit.window:
        row.window_started_at, row.failures = now, 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit.max_failures:
        # A new window starts after the lockout, so the next mistake is not a new lockout.
        row.locked_until, row.window_started_at, row.failures = now + limit.lockout, None, 0
        session.flush()
        return 0
    session.flush()
    return limit.max_failures - row.failures


def reset(session: Session, scope: str, subject: str) -> None:
    """Forget the failures of (scope, subject): call it after a success."""
    session.execute(
        delete(AttemptCounter).where(
            AttemptCounter.scope == scope, AttemptCounter.subject == subject
        )
    )


def _row(session: Session, scope: str, subject: str, *, lock: bool) -> AttemptCounter | None:
    query = select(AttemptCounter).where(
        AttemptCounter.scope == scope, AttemptCounter.subject == subject
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _create(session: Session, scope: str, subject: str, now: datetime) -> AttemptCounter:
    """The row for (scope, subject); a concurrent creator's row wins the unique key."""
    savepoint = session.begin_nested()
    row = AttemptCounter(scope=scope, subject=subject, failures=0, window_started_at=now)
    session.add(row)
    try:
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        found = _row(session, scope, subject, lock=True)
        assert found is not None
        return found
    return row
