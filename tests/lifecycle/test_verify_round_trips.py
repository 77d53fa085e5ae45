"""One verification at the database's pace: on PostgreSQL the API's common case is two
round trips, BEGIN with the locked read, then the write (the token and its audit event)
with COMMIT, with no ping and no key lookup; the audit chain it appends to stays whole
however others append to it meanwhile. The round trips are counted on the wire (libpq's
protocol trace), whatever layer sends them."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import delete, event, select, update

from domain.credentials import held
from domain.relying_apps.apps import KEY_CACHE_SECONDS, app_for_key
from domain.relying_apps.models import RelyingApp
from engine import audit
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import AuditChain, AuditEvent
from service_layer.config import Config
from tests.lifecycle.builders import Life, code_now, issue_credential, token_row

# `BEGIN; <the locked read>`, then `<the write>; COMMIT`: plain psycopg's lock, update,
# insert and commit take five.
MAX_ROUND_TRIPS = 2
_MESSAGE = re.compile(r"^([FB])\t\d+\t(\w+)\t?(.*?)(?=^[FB]\t\d+\t|\Z)", re.M | re.S)
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}
# psycopg forgets its prepared statements at a ROLLBACK, and tells the server so.
_MAINTENANCE = {"DEALLOCATE ALL"}


@pytest.fixture
def postgres_life(config: Config, life: Life) -> Life:
    if not config.database_url.startswith("postgresql"):
        pytest.skip("SQLite takes the session's way; round trips are PostgreSQL's to count")
    return life


class Trips:
    """What the database was sent while counting, read from libpq's trace of every
    pooled connection: each round trip (a server's ReadyForQuery answers one), each
    statement (the text of a simple query or of a Parse; not psycopg's DEALLOCATE),
    BEGIN, COMMIT and ROLLBACK sent alone, and pings. A connection's one-time
    preparation of the verification's statements (`held.Prepared`) is counted apart,
    as `preparing`."""

    def __init__(self, trace: IO[bytes]) -> None:
        self.trace = trace
        self.pings = 0

    def clear(self) -> None:
        self.trace.seek(0)
        self.trace.truncate()
        self.pings = 0

    def _sent(self) -> Iterator[tuple[str, bool]]:
        """Each statement sent and whether it is the preparation's; a round trip, as
        an empty statement, after the statement it answers."""
        self.trace.seek(0)
        text = self.trace.read().decode()
        preparing = False
        for found in _MESSAGE.finditer(text):
            side, kind, body = found[1], found[2], found[3].strip()
            if side == "F" and kind in ("Query", "Parse"):
                sent = body[1:-1] if kind == "Query" else body.split('"', 3)[3].rsplit('"', 1)[0]
                preparing = sent.startswith("PREPARE ") or "pg_prepared_statements" in sent
                yield sent, preparing
            elif side == "B" and kind == "ReadyForQuery":
                yield "", preparing

    @property
    def round_trips(self) -> int:
        return sum(1 for sent, preparing in self._sent() if not sent and not preparing)

    @property
    def statements(self) -> list[str]:
        """The statements sent (simple queries may hold several), quotes taken off."""
        ignored = _TRANSACTION_CONTROL | _MAINTENANCE | {""}
        return [sent for sent, preparing in self._sent() if sent not in ignored and not preparing]

    @property
    def counts(self) -> Counter[str]:
        counts: Counter[str] = Counter(round_trip=self.round_trips, ping=self.pings)
        counts["statement"] = len(self.statements)
        counts["preparing"] = sum(1 for sent, preparing in self._sent() if sent and preparing)
        for sent, _ in self._sent():
            if sent in _TRANSACTION_CONTROL:
                counts[sent.lower()] += 1
        return +counts


@pytest.fixture
def trips(postgres_life: Life, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trips]:
    with tempfile.TemporaryFile() as trace:
        db, seen = postgres_life.system.db, Trips(trace)

        def traced(dbapi_conn: Any, *_: Any) -> None:
            dbapi_conn.pgconn.trace(os.dup(trace.fileno()))
            dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

        def untraced(dbapi_conn: Any, *_: Any) -> None:
            dbapi_conn.pgconn.untrace()  # and flushed into the trace

        event.listen(db, "checkout", traced)
        event.listen(db, "checkin", untraced)
        ping = db.dialect.do_ping

        def counted_ping(dbapi_conn: Any) -> bool:
            seen.pings += 1
            return ping(dbapi_conn)

        monkeypatch.setattr(db.dialect, "do_ping", counted_ping)
        yield seen
        event.remove(db, "checkout", traced)
        event.remove(db, "checkin", untraced)


def counted(trips: Trips, life: Life, code: str) -> dict[str, Any]:
    trips.clear()
    return life.verify("aerospace-portal", "alice", code)


def test_a_verification_is_two_round_trips_begin_with_the_read_the_write_with_commit(
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
    assert trips.counts - Counter(preparing=3) == Counter(round_trip=2, statement=2)
    read, write = trips.statements
    assert read.startswith("BEGIN; ") and "EXECUTE tokenflow_verify_read(" in read
    assert write.startswith("EXECUTE tokenflow_verify_write(") and write.endswith("; COMMIT")
    # A wrong code and a replayed one: the same two round trips, the failure counted.
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
    assert not any("relying_apps" in statement for statement in trips.statements)
    clock.advance(timedelta(seconds=2))
    trips.clear()
    answer = life.client.post(
        "/api/v1/otp/verify",
        json={"username": "alice", "code": code_now(token)},
        headers={"Authorization": f"Bearer {life.keys['aerospace-portal']}"},
    )
    assert answer.status_code == 401
    assert len(trips.statements) == 1 and "relying_apps" in trips.statements[0]


def test_a_persons_first_verification_writes_nothing_the_quick_way_and_is_answered_once(
    postgres_life: Life, trips: Trips
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    chain = f"user:{life.users['alice']}"
    with unit_of_work(life.system.session_factory) as s:  # alice's chain, not begun yet
        s.execute(delete(AuditEvent).where(AuditEvent.chain == chain))
        s.execute(delete(AuditChain).where(AuditChain.chain == chain))
    code = code_now(token)
    assert counted(trips, life, code)["valid"]
    # The quick write found no chain head, so it wrote neither the token nor an event;
    # the session's way then read, matched and appended once, making the head.
    quick = [s for s in trips.statements if s.endswith("; COMMIT")]
    assert len(quick) == 1 and "tokenflow_verify_write" in quick[0], trips.statements
    assert trips.statements[-1] != quick[0]  # the session's statements came after it
    with unit_of_work(life.system.session_factory) as s:
        head = s.get(AuditChain, chain)
        assert head is not None and head.length == 1
        assert audit.verify(s) == []
    assert token_row(life, "TOK001").last_time_step is not None
    assert counted(trips, life, code)["reason"] == "replayed"
    assert trips.round_trips <= MAX_ROUND_TRIPS


def _pooled_connections_must_be_idle_and_transactional(life: Life) -> list[bool]:
    """Checks every connection the pool lends from now on (until the test ends)."""
    seen: list[bool] = []

    def check(dbapi_conn: Any, *_: Any) -> None:
        idle = dbapi_conn.info.transaction_status == pq.TransactionStatus.IDLE
        seen.append(idle and not dbapi_conn.autocommit)

    event.listen(life.system.db, "checkout", check)
    return seen


def test_a_failure_halfway_leaves_no_lock_and_the_connection_as_the_pool_lent_it(
    postgres_life: Life, monkeypatch: pytest.MonkeyPatch
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"]  # chain made
    clock.advance(timedelta(seconds=30))

    def fails(*_: Any) -> Any:
        raise RuntimeError("halfway")

    monkeypatch.setattr("domain.credentials.verification._match", fails)
    answer = life.client.post(  # fails after the locked read
        "/api/v1/otp/verify",
        json={"username": "alice", "code": code_now(token)},
        headers={"Authorization": f"Bearer {life.keys['aerospace-portal']}"},
    )
    assert answer.status_code == 500
    monkeypatch.undo()
    checked = _pooled_connections_must_be_idle_and_transactional(life)
    for _ in range(3):
        assert life.verify("aerospace-portal", "alice", code_now(token))["reason"] in (
            None,
            "replayed",
        )
    assert checked and all(checked)
    with unit_of_work(life.system.session_factory) as s:
        assert audit.verify(s) == []


def test_a_username_the_database_cannot_hold_is_bad_input_and_costs_no_connection(
    postgres_life: Life,
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    answer = life.client.post(
        "/api/v1/otp/verify",
        json={"username": "ali\x00ce", "code": code_now(token)},
        headers={"Authorization": f"Bearer {life.keys['aerospace-portal']}"},
    )
    assert answer.status_code == 400, answer.json
    checked = _pooled_connections_must_be_idle_and_transactional(life)
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"]
    assert checked and all(checked)


def test_the_statements_are_planned_once_as_index_lookups_even_on_tables_almost_empty(
    postgres_life: Life,
) -> None:
    life = postgres_life
    url = life.system.db.url.set(drivername="postgresql").render_as_string(False)
    prepared = held.prepared_for(life.system.db.dialect)
    with psycopg.connect(url, autocommit=True) as pg:
        prepared.prepare_on(pg)
        pg.execute("BEGIN")
        for setting in prepared.PLANNING.split(";"):
            pg.execute(setting)
        for name, text in prepared.definitions.items():
            # Every parameter NULL: only the plan matters.
            arguments = ", ".join(["NULL"] * len(set(re.findall(r"\$\d+", text))))
            plan = "\n".join(row[0] for row in pg.execute(f"EXPLAIN EXECUTE {name}({arguments})"))
            assert "Seq Scan" not in plan and "Hash" not in plan and "Merge" not in plan, plan
            assert "Index Scan" in plan and "$1" in plan, plan  # generic: no values in it
        pg.execute("ROLLBACK")


def test_a_read_whose_statement_was_deallocated_prepares_it_again_and_answers(
    postgres_life: Life, trips: Trips
) -> None:
    life = postgres_life
    token = issue_credential(life, "alice", "TOK001")
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"]
    clock.advance(timedelta(seconds=30))

    def deallocate(dbapi_conn: Any, *_: Any) -> None:  # as psycopg's DEALLOCATE ALL would
        dbapi_conn.autocommit = True
        names = [row[0] for row in dbapi_conn.execute("SELECT name FROM pg_prepared_statements")]
        if held.Prepared.READ_NAME in names:
            dbapi_conn.execute(f"DEALLOCATE {held.Prepared.READ_NAME}")
        dbapi_conn.autocommit = False

    event.listen(life.system.db, "checkout", deallocate)
    try:
        assert counted(trips, life, code_now(token))["valid"]
    finally:
        event.remove(life.system.db, "checkout", deallocate)
    assert trips.counts["preparing"] >= 2  # the lookup, the PREPARE of the read
    assert counted(trips, life, code_now(token))["reason"] == "replayed"
    with unit_of_work(life.system.session_factory) as s:
        assert audit.verify(s) == []
