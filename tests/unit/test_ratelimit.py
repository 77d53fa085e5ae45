from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from domain import ratelimit

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LIMIT = ratelimit.Limit(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=10))


def fail(session: Session, subject: str = "owner-1", at: datetime = NOW) -> int:
    return ratelimit.record_failure(session, "test", subject, at, LIMIT)


def test_failures_below_the_limit_leave_entry_allowed_and_count_down(session):
    assert [fail(session), fail(session)] == [2, 1]
    ratelimit.check_allowed(session, "test", "owner-1", NOW)


def test_reaching_the_limit_locks_out_with_the_minutes_to_wait(session):
    for _ in range(3):
        left = fail(session)
    assert left == 0
    with pytest.raises(ratelimit.RateLimited) as caught:
        ratelimit.check_allowed(session, "test", "owner-1", NOW + timedelta(seconds=30))
    assert caught.value.message == "Too many attempts. Try again in 10 minutes."
    with pytest.raises(ratelimit.RateLimited, match="Try again in 1 minute\\."):
        ratelimit.check_allowed(session, "test", "owner-1", NOW + timedelta(minutes=9, seconds=1))


def test_the_lockout_ends_after_its_time(session):
    for _ in range(3):
        fail(session)
    ratelimit.check_allowed(session, "test", "owner-1", NOW + timedelta(minutes=10))


def test_failures_older_than_the_window_are_forgotten(session):
    fail(session)
    fail(session)
    assert fail(session, at=NOW + timedelta(minutes=16)) == 2


def test_subjects_and_scopes_are_counted_apart(session):
    for _ in range(3):
        fail(session, "owner-1")
    ratelimit.check_allowed(session, "test", "owner-2", NOW)
    ratelimit.check_allowed(session, "other", "owner-1", NOW)


def test_reset_forgets_the_failures_of_a_subject(session):
    fail(session)
    fail(session)
    ratelimit.reset(session, "test", "owner-1")
    assert fail(session) == 2
