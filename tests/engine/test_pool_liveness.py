"""Pooled PostgreSQL connections: checked without a round trip while busy, replaced
before use when the server ended them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine as DbEngine
from sqlalchemy import text

from engine import db as engine_db
from engine.db import make_db_engine


@pytest.fixture
def pg(database_url: str) -> Iterator[DbEngine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("pool liveness checks are PostgreSQL's (SQLite has no server)")
    db = make_db_engine(database_url, pool_size=1, max_overflow=0)
    yield db
    db.dispose()


def _backend(db: DbEngine) -> int:
    with db.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _pings(db: DbEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    ping = db.dialect.do_ping

    def counting(dbapi_conn: object) -> bool:
        counted.append(1)
        return ping(dbapi_conn)

    monkeypatch.setattr(db.dialect, "do_ping", counting)
    return counted


def test_a_connection_in_use_is_handed_out_again_without_a_ping(
    pg: DbEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(pg)
    pings = _pings(pg, monkeypatch)
    assert [_backend(pg) for _ in range(5)] == [first] * 5
    assert pings == []


def test_a_connection_the_server_ended_is_replaced_before_anyone_uses_it(
    pg: DbEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(pg)
    pings = _pings(pg, monkeypatch)
    admin = make_db_engine(pg.url.render_as_string(False))
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": first}).scalar()
    admin.dispose()
    # The server wrote its farewell on the idle connection's socket: pinged, found dead,
    # replaced; the caller sees a working connection and no error.
    with pg.connect() as conn:
        second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert second != first
    assert pings


def test_a_connection_idle_for_a_while_is_pinged(
    pg: DbEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(pg)
    pings = _pings(pg, monkeypatch)
    monkeypatch.setattr(engine_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(pg) == first
    assert pings == [1]
