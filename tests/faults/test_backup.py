"""Backups without a lost row: `tokenflow db backup` taken while customers' journeys run
through the engine, restored with `tokenflow db restore` into an empty database, is a
database as it was at one commit: its audit trail verifies and every table holds exactly
the backup's rows."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.stack import ROOT, TOKENFLOW
from engine.db import unit_of_work
from engine.models import ProcessInstance
from service_layer.config import Config
from tests.builders import journey_system
from tests.faults.builders import wait_until
from tests.journey.builders_proofing import PROFILE
from tests.journey.builders_purchase import buy, license_keys_emailed
from tests.journey.builders_tokens import deliver_and_register, stock_tokens
from tokenflow.schema import metadata, upgrade

pytestmark = pytest.mark.faults
CUSTOMERS = 3
JOURNEYS_EACH = 4


def tokenflow(database: Path, instance: Path, *args: str) -> str:
    done = subprocess.run(
        [TOKENFLOW, *args],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "TOKENFLOW_DATABASE_URL": f"sqlite:///{database}",
            "TOKENFLOW_INSTANCE_DIR": str(instance),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def row_counts(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as conn:
        return {
            table.name: conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]
            for table in metadata.sorted_tables
        }


def test_a_backup_taken_under_load_restores_whole_and_verifies(tmp_path):
    live = tmp_path / "live.db"
    upgrade(f"sqlite:///{live}")
    instance = tmp_path / "instance"
    config = Config.from_env(
        {"TOKENFLOW_INSTANCE_DIR": str(instance), "TOKENFLOW_DATABASE_URL": f"sqlite:///{live}"}
    )
    system = journey_system(config)
    stock_tokens(system, CUSTOMERS * JOURNEYS_EACH, prefix="BK")
    finished: list[str] = []
    failures: list[BaseException] = []

    def customer() -> None:
        try:
            for _ in range(JOURNEYS_EACH):
                journey = buy(system)
                [key] = license_keys_emailed(system, journey.view()["business_key"])
                journey.complete("enter_license_key", {"license_key": key})
                journey.complete("confirm_profile", PROFILE)
                journey.complete("activate_token", {})
                deliver_and_register(journey)
                finished.append(journey.instance_id)
        except BaseException as exc:  # reported by the test, not lost in a thread
            failures.append(exc)

    def instances() -> int:
        with unit_of_work(system.session_factory) as s:
            return s.scalar(select(func.count()).select_from(ProcessInstance)) or 0

    customers = [threading.Thread(target=customer) for _ in range(CUSTOMERS)]
    for thread in customers:
        thread.start()
    wait_until(lambda: len(finished) >= 2 or bool(failures), what="journeys to complete")
    backup = tmp_path / "backup.db"
    tokenflow(live, instance, "db", "backup", str(backup))
    under_way = len(finished) < CUSTOMERS * JOURNEYS_EACH
    for thread in customers:
        thread.join(300)
    assert not failures, failures
    assert under_way, "the load was over before the backup: the test proves nothing"

    restored = tmp_path / "restored.db"
    tokenflow(restored, instance, "db", "restore", str(backup))
    assert "audit trail intact" in tokenflow(restored, instance, "audit", "verify")
    in_backup = row_counts(backup)
    assert row_counts(restored) == in_backup
    assert 0 < in_backup["process_instances"] < instances()  # a moment inside the load
    assert "audit trail intact" in tokenflow(live, instance, "audit", "verify")
    system.close()
