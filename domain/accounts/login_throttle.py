"""Failed logins are throttled so that guessing is slow and no stranger can lock anyone out
(NIST SP 800-63B 5.2.2). One implementation for the HTML login and the API's token.

Three counters, each a row in `attempt_counters` (`domain.ratelimit`), so every web
process sees them and a restart forgives nothing:

- per (account, client address): each failure doubles the wait before the next attempt
  from there (1 s, 2 s, 4 s ... at most `MAX_PAIR_DELAY`);
- per client address, across accounts: `CLIENT_LIMIT` failures in its window make that
  address wait out the lockout (password spraying);
- per account, from everywhere: after `ACCOUNT_THRESHOLD` failures in a row the owner is
  emailed once, and from then on addresses the owner never logged in from share one
  attempt per `ACCOUNT_DELAY` on that account. The owner's own addresses are not slowed
  by it, so attacking an account never locks its owner out; a success resets it.

Waiting is answered with 429 and Retry-After at once: no request thread sleeps.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import ratelimit
from domain.ratelimit import AttemptCounter

from .models import KnownClient, User

PAIR_SCOPE = "login:pair"
CLIENT_SCOPE = "login:client"
ACCOUNT_SCOPE = "login:account"
MAX_PAIR_DELAY = timedelta(minutes=5)
CLIENT_LIMIT = ratelimit.Limit(
    max_failures=50, window=timedelta(minutes=15), lockout=timedelta(minutes=15)
)
ACCOUNT_THRESHOLD = 100
ACCOUNT_DELAY = timedelta(minutes=1)
KNOWN_FOR = timedelta(days=90)
# These two only count (the waits are computed here), so their limits never lock.
_PAIR_COUNT = ratelimit.Limit(max_failures=10**9, window=timedelta(days=1))
_ACCOUNT_COUNT = ratelimit.Limit(max_failures=10**9, window=timedelta(days=30))


@dataclass(frozen=True)
class Wait(Exception):
    """Too soon: the person should wait `seconds` before trying again."""

    seconds: int

    @property
    def message(self) -> str:
        return f"Too many failed logins. Wait {duration_text(self.seconds)} before trying again."


def duration_text(seconds: int) -> str:
    """ "1 second", "45 seconds", "15 minutes": whole minutes from a minute on, rounded up
    so that the person never comes back too early."""
    if seconds < 60:
        return f"{seconds} second" + ("" if seconds == 1 else "s")
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def backoff(failures: int) -> timedelta:
    """The wait after `failures` failed logins in a row from one address for one account."""
    if failures <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - 1, 20)), MAX_PAIR_DELAY)


def check(s: Session, username: str, client: str, now: datetime) -> None:
    """Raise `Wait` when this attempt comes too early; otherwise do nothing."""
    try:
        ratelimit.check_allowed(s, CLIENT_SCOPE, _client_key(client), now)
    except ratelimit.RateLimited as limited:
        raise _wait(limited.retry_after) from None
    pair = _counter(s, PAIR_SCOPE, _pair_key(username, client))
    if pair is not None and pair.last_failure_at is not None:
        _raise_until(pair.last_failure_at + backoff(pair.failures), now)
    account = _counter(s, ACCOUNT_SCOPE, _account_key(username))
    if (
        account is not None
        and account.last_failure_at is not None
        and account.failures >= ACCOUNT_THRESHOLD
        and not _known(s, username, client, now)
    ):
        _raise_until(account.last_failure_at + ACCOUNT_DELAY, now)


def failed(s: Session, username: str, client: str, now: datetime) -> bool:
    """Count a failed login; True when it is the account's `ACCOUNT_THRESHOLD`th in a row,
    the moment its owner should hear of it."""
    ratelimit.record_failure(s, PAIR_SCOPE, _pair_key(username, client), now, _PAIR_COUNT)
    ratelimit.record_failure(s, CLIENT_SCOPE, _client_key(client), now, CLIENT_LIMIT)
    left = ratelimit.record_failure(s, ACCOUNT_SCOPE, _account_key(username), now, _ACCOUNT_COUNT)
    return _ACCOUNT_COUNT.max_failures - left == ACCOUNT_THRESHOLD


def succeeded(s: Session, user: User, client: str, now: datetime) -> None:
    """Forget the account's failures and remember the address as one of the owner's."""
    ratelimit.reset(s, PAIR_SCOPE, _pair_key(user.username, client))
    ratelimit.reset(s, ACCOUNT_SCOPE, _account_key(user.username))
    key = (user.id, _digest(client))
    known = s.get(KnownClient, key)
    if known is not None:
        known.last_login_at = now
        return
    savepoint = s.begin_nested()  # the same owner logging in twice at once from there
    s.add(KnownClient(user_id=user.id, client_hash=key[1], last_login_at=now))
    try:
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()


def _known(s: Session, username: str, client: str, now: datetime) -> bool:
    found = s.scalar(
        select(KnownClient.last_login_at)
        .join(User, User.id == KnownClient.user_id)
        .where(User.username == username, KnownClient.client_hash == _digest(client))
    )
    return found is not None and now - found <= KNOWN_FOR


def _counter(s: Session, scope: str, subject: str) -> AttemptCounter | None:
    return s.scalars(
        select(AttemptCounter).where(
            AttemptCounter.scope == scope, AttemptCounter.subject == subject
        )
    ).first()


def _raise_until(ready_at: datetime, now: datetime) -> None:
    if now < ready_at:
        raise _wait(ready_at - now)


def _wait(remaining: timedelta) -> Wait:
    return Wait(max(1, math.ceil(remaining.total_seconds())))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Usernames are counted case-insensitively, so "Admin" and "admin" share their counters;
# hashed, because a username (150) and an address do not fit the 128-character subject.
def _account_key(username: str) -> str:
    return _digest(username.strip().lower())


def _pair_key(username: str, client: str) -> str:
    return _digest(f"{username.strip().lower()}\0{client}")


def _client_key(client: str) -> str:
    return client[:128]
