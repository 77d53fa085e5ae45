"""Login throttling on top of the account lockout in `web.accounts`.

`accounts.authenticate` locks an account after five failures in a row. Before that, each
failure for a username makes the next attempt wait longer (1 s, 2 s, 4 s, ...), and each
client address has a budget of failures across all usernames (password spraying). The
counters live in the database (`handlers.ratelimit`), so every web process sees them.
Waiting is answered with 429 at once: no request thread sleeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import ratelimit
from handlers.domain_models import AttemptCounter

USER_SCOPE = "login:username"
CLIENT_SCOPE = "login:client"
MAX_BACKOFF = timedelta(seconds=60)
# The account lockout decides per username; this limit never locks a username itself.
USER_LIMIT = ratelimit.Limit(max_failures=10_000, window=timedelta(hours=1))
CLIENT_LIMIT = ratelimit.Limit(
    max_failures=50, window=timedelta(minutes=15), lockout=timedelta(minutes=15)
)


@dataclass(frozen=True)
class Wait(Exception):
    """Too soon: the person should wait `seconds` before trying again."""

    seconds: int

    @property
    def message(self) -> str:
        unit = "second" if self.seconds == 1 else "seconds"
        return f"Too many failed logins. Wait {self.seconds} {unit} before trying again."


def _subject(username: str) -> str:
    return username.strip().lower()[:128]


def backoff(failures: int) -> timedelta:
    """The wait after `failures` failed logins in a row."""
    if failures <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - 1)), MAX_BACKOFF)


def check(s: Session, username: str, client: str, now: datetime) -> None:
    """Raise `Wait` when this attempt comes too early; otherwise do nothing."""
    try:
        ratelimit.check_allowed(s, CLIENT_SCOPE, client[:128], now)
    except ratelimit.RateLimited as limited:
        raise Wait(max(1, math.ceil(limited.retry_after.total_seconds()))) from None
    row = s.scalars(
        select(AttemptCounter).where(
            AttemptCounter.scope == USER_SCOPE, AttemptCounter.subject == _subject(username)
        )
    ).first()
    if row is None or row.last_failure_at is None:
        return
    ready_at = row.last_failure_at + backoff(row.failures)
    if now < ready_at:
        raise Wait(max(1, math.ceil((ready_at - now).total_seconds())))


def failed(s: Session, username: str, client: str, now: datetime) -> None:
    ratelimit.record_failure(s, USER_SCOPE, _subject(username), now, USER_LIMIT)
    ratelimit.record_failure(s, CLIENT_SCOPE, client[:128], now, CLIENT_LIMIT)


def succeeded(s: Session, username: str) -> None:
    ratelimit.reset(s, USER_SCOPE, _subject(username))
