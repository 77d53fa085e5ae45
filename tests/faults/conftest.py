"""Fault tests: real `tokenflow web` and `tokenflow worker` processes on a PostgreSQL
server of their own (restarting it must disturb no one else), killed on purpose.

They run where PostgreSQL is part of the run (CI, or TOKENFLOW_TEST_POSTGRES_URL set),
since they need its server programs, and take about a minute. Those that need no
PostgreSQL (signals, backups) use `sqlite_stack` and always run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.stack import PrivatePostgres, Stack, create_database, create_users
from engine.db import make_db_engine
from tokenflow.schema import upgrade

RUN = os.environ.get("CI") == "true" or bool(os.environ.get("TOKENFLOW_TEST_POSTGRES_URL"))
HERE = Path(__file__).parent
FAULT_ENV = {
    "TOKENFLOW_EXTRA_HANDLERS": "tests.faults.slow_handlers",
    # A killed worker's claims come back after 2 s (60 s by default).
    "TOKENFLOW_WORKER_LEASE": "2",
}


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def database(pg_server: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = create_database(pg_server.url, "faults")
    create_users(url, {"alice": ["customer"], "root": ["admin"]})
    deployer = Stack(url, tmp_path_factory.mktemp("deploy"), FAULT_ENV)
    deployer.cli("deploy", str(HERE / "fault_charge.bpmn"))
    return url


@pytest.fixture
def db(database: str) -> Iterator:
    db = make_db_engine(database)
    yield db
    db.dispose()


@pytest.fixture
def stack(database: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(database, tmp_path / "instance", FAULT_ENV)
    yield running
    running.close()


@pytest.fixture
def sqlite_stack(tmp_path: Path) -> Iterator[Stack]:
    """The fault diagram deployed on a SQLite database of this test's own."""
    url = f"sqlite:///{tmp_path / 'tokenflow.db'}"
    upgrade(url)
    create_users(url, {"alice": ["customer"], "root": ["admin"]})
    running = Stack(url, tmp_path / "instance", FAULT_ENV)
    running.cli("deploy", str(HERE / "fault_charge.bpmn"))
    yield running
    running.close()
