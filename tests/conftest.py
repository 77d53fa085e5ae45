"""Fixtures: a migrated database per backend (SQLite always, PostgreSQL when a URL is
given or under CI), a wired Tokenflow system, and small helper actions."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, MetaData, Table, make_url, text

from engine.clock import clock
from engine.db import make_db_engine
from service_layer.config import Config
from tokenflow.schema import head, upgrade

PG_URL = os.environ.get("TOKENFLOW_TEST_POSTGRES_URL")
if os.environ.get("CI") == "true" and not PG_URL:
    raise pytest.UsageError("CI=true needs TOKENFLOW_TEST_POSTGRES_URL: PostgreSQL is mandatory")

# The instant every test's business time starts at (the engine's clock runs on from it).
# A Monday 02:00 UTC by default: the first interview slot is seven hours away, closer than
# a reminder's lead. `.ci/run` also runs the suite at another instant (see README).
TEST_NOW = datetime.fromisoformat(os.environ.get("TOKENFLOW_TEST_NOW", "2026-12-07T02:00:00+00:00"))
if TEST_NOW.utcoffset() is None:
    raise pytest.UsageError("TOKENFLOW_TEST_NOW needs a time zone, e.g. 2026-12-11T18:00:00+00:00")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = Path(__file__).parent / "bpmn"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    """A database of this test session's own, so parallel runs never share tables."""
    assert PG_URL, "no PostgreSQL URL"
    name = f"tokenflow_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_db_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_seeded(postgres_ready: str) -> dict[str, list[dict[str, object]]]:
    """The rows the migrations seed (the catalog's products), by table: each test starts
    from them, as each SQLite test starts from a copy of the migrated template."""
    db = make_db_engine(postgres_ready)
    seeded: dict[str, list[dict[str, object]]] = {}
    with db.connect() as conn:
        for table in _tables(conn):
            rows = [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{table}"'))]
            if rows:
                seeded[table] = rows
    db.dispose()
    return seeded


def _tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        ).scalars()
    )


def _reset_postgres(url: str, seeded: dict[str, list[dict[str, object]]]) -> None:
    """Empty every table and put the migrations' seed rows back."""
    db = make_db_engine(url)
    with db.begin() as conn:
        names = ", ".join(f'"{t}"' for t in _tables(conn))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        # A test may have moved the recorded migration (readiness, schema checks).
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head()})
        for table, rows in seeded.items():
            conn.execute(Table(table, MetaData(), autoload_with=conn).insert(), rows)
            # Serial ids go on after the seed rows, as they do after the migration.
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
                    f' (SELECT MAX(id) FROM "{table}"))'
                )
            )
    db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "tokenflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_ready")
        _reset_postgres(url, request.getfixturevalue("postgres_seeded"))
        yield url


@pytest.fixture(autouse=True)
def _pin_clock() -> Iterator[None]:
    """Every test runs on business time pinned to TEST_NOW, whatever the machine's date."""
    clock.set(TEST_NOW)
    yield
    clock.reset()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    env = {
        "TOKENFLOW_INSTANCE_DIR": str(instance),
        "TOKENFLOW_DATABASE_URL": database_url,
        # Journeys move the clock on by days and years with people logged in; tests of
        # session lifetimes set their own.
        "TOKENFLOW_SESSION_IDLE": "P36500D",
        "TOKENFLOW_SESSION_MAX": "P36500D",
    }
    return Config.from_env(env, testing=True)


@pytest.fixture(autouse=True)
def _dispose_databases(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every database engine a test builds through build_system is disposed after it."""
    import tokenflow.system

    created = []

    def tracking_make_db_engine(url: str, **kwargs: object):
        db = make_db_engine(url, **kwargs)
        created.append(db)
        return db

    monkeypatch.setattr(tokenflow.system, "make_db_engine", tracking_make_db_engine)
    yield
    for db in created:
        db.dispose()


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production argon2 parameters cost ~50 ms a hash; tests only need the same code path."""
    from argon2 import PasswordHasher

    import domain.accounts.users

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(domain.accounts.users, "_hasher", cheap)
    # Unknown usernames are checked against this hash, whose own parameters set the cost.
    monkeypatch.setattr(domain.accounts.users, "_DUMMY_HASH", cheap.hash("not a password"))
