"""One verification at the database's pace: on PostgreSQL the API's common case is a
locked read and one write (the token and its audit event) between BEGIN and COMMIT, with
no ping and no key lookup; the audit chain it appends to stays whole however others
append to it meanwhile."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from engine import audit
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import AuditChain, AuditEvent
from handlers.lifecycle_models import RelyingApp
from handlers.relying_apps import KEY_CACHE_SECONDS, app_for_key
from service_layer.config import Config
from tests.lifecycle.support import Life, code_now, issue_credential, token_row

# BEGIN, the locked read, the write, COMMIT: plain psycopg's lock, update, insert and
# commit take five.
MAX_ROUND_TRIPS = 4


@pytest.fixture
def postgres_life(config: Config, life: Life) -> Life:
    if not config.database_url.startswith("postgresql"):
        pytest.skip("SQLite takes the session's way; round trips are PostgreSQL's to count")
    return life


class Trips:
    """What one block sends the database: statements, BEGINs, COMMITs, pings."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.statements: list[str] = []

    @property
    def round_trips(self) -> int:
        return sum(self.counts.values())


@pytest.fixture
def trips(postgres_life: Life, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trips]:
    db, seen = postgres_life.system.db, Trips()

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        seen.counts["statement"] += 1
        seen.statements.append(text)

    def mark(name: str) -> Any:
        return lambda *_: seen.counts.update([name])

    listeners = [("before_cursor_execute", statement), ("begin", mark("begin"))]
    listeners += [("commit", mark("commit")), ("rollback", mark("rollback"))]
    for name, listener in listeners:
        event.listen(db, name, listener)
    ping = db.dialect.do_ping

    def counted_ping(dbapi_conn: Any) -> bool:
        seen.counts["ping"] += 1
        return ping(dbapi_conn)

    monkeypatch.setattr(db.dialect, "do_ping", counted_ping)
    yield seen
    for name, listener in listeners:
        event.remove(db, name, listener)


def counted(trips: Trips, life: Life, code: str) -> dict[str, Any]:
    trips.counts.clear()
    trips.statements.clear()
    return life.verify("aerospace-portal", "alice", code)


def test_a_verification_is_two_statements_between_begin_and_commit(
    postgres_life: Life, trips: Trips
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    with unit_of_work(life.system.session_factory) as s:
        head = s.get(AuditChain, f"user:{life.users['alice']}")
        initial = head.length if head is not None else 0
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"]  # chain made
    clock.advance(timedelta(seconds=30))
    with unit_of_work(life.system.session_factory) as s:  # the key, known again from now
        assert app_for_key(s, life.keys["aerospace-portal"]) is not None

    assert counted(trips, life, code_now(token))["valid"]
    assert trips.counts == Counter(begin=1, statement=2, commit=1), trips.statements
    assert trips.round_trips <= MAX_ROUND_TRIPS
    # A wrong code and a replayed one: the same two statements, the failure counted.
    wrong = f"{(int(code_now(token)) + 1) % 10**6:06d}"
    assert counted(trips, life, wrong) == {
        "valid": False,
        "credential": None,
        "reason": "invalid_code",
    }
    assert trips.round_trips <= MAX_ROUND_TRIPS
    assert counted(trips, life, code_now(token))["reason"] == "replayed"
    assert trips.round_trips <= MAX_ROUND_TRIPS
    assert token_row(life, "TOK001").failures == 2
    with unit_of_work(life.system.session_factory) as s:
        chain = s.get(AuditChain, f"user:{life.users['alice']}")
        assert chain is not None and chain.length == initial + 4
        assert audit.verify(s) == []


def test_a_verification_waits_for_an_event_appended_meanwhile_and_chains_after_it(
    postgres_life: Life,
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"]
    clock.advance(timedelta(seconds=30))
    chain = f"user:{life.users['alice']}"
    answers: list[dict[str, Any]] = []
    racer = threading.Thread(
        target=lambda: answers.append(life.verify("aerospace-portal", "alice", code_now(token)))
    )
    with unit_of_work(life.system.session_factory) as other:
        audit.record(other, "probe.meanwhile", subject=chain)
        audit.write_pending(other)  # holds the chain's head until it commits
        racer.start()
        racer.join(0.5)
        assert answers == []  # waiting on the head
    racer.join(10)
    assert answers and answers[0]["valid"]
    with unit_of_work(life.system.session_factory) as s:
        events = s.scalars(
            select(AuditEvent.event).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        )
        assert list(events)[-3:] == ["otp.verified", "probe.meanwhile", "otp.verified"]
        assert audit.verify(s) == []


def test_a_remembered_key_costs_no_statement_until_it_is_forgotten_and_found_revoked(
    postgres_life: Life, trips: Trips
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    clock.advance(timedelta(seconds=30))
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"]  # key read now
    with unit_of_work(life.system.session_factory) as s:  # another process revokes it
        s.execute(
            update(RelyingApp).where(RelyingApp.name == "aerospace-portal").values(active=False)
        )
    clock.advance(timedelta(seconds=KEY_CACHE_SECONDS - 1))
    counted(trips, life, code_now(token))  # still remembered: answered, no key lookup
    assert trips.counts["statement"] == 2, trips.statements
    clock.advance(timedelta(seconds=2))
    trips.counts.clear()
    trips.statements.clear()
    answer = life.client.post(
        "/api/v1/otp/verify",
        json={"username": "alice", "code": code_now(token)},
        headers={"Authorization": f"Bearer {life.keys['aerospace-portal']}"},
    )
    assert answer.status_code == 401
    assert len(trips.statements) == 1 and "relying_apps" in trips.statements[0]
