"""What Tokenflow writes into its instance folder is private to the account running it,
whatever the umask it was started with; looser modes found at start-up are warned about."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from service_layer.config import Config
from tokenflow import files
from tokenflow.system import build_system


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that leaves everything readable by others, as a shell's default does."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def fresh(tmp_path: Path, permissive_umask: None) -> Config:
    """An installation about to be made: no instance folder, no database yet."""
    instance = tmp_path / "instance"
    return Config.from_env(
        {
            "TOKENFLOW_INSTANCE_DIR": str(instance),
            "TOKENFLOW_DATABASE_URL": f"sqlite:///{instance / 'tokenflow.db'}",
        }
    )


def test_the_instance_folder_and_its_key_files_are_made_private(fresh):
    assert mode(fresh.instance_dir) == 0o700
    assert mode(fresh.instance_dir / "secret_key") == 0o600
    assert mode(fresh.instance_dir / "seed_key") == 0o600


def test_the_embedded_database_and_its_wal_files_are_private_to_the_owner(fresh):
    system = build_system(fresh)
    with system.db.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        database = fresh.instance_dir / "tokenflow.db"
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert mode(path) == 0o600, path
    system.close()


def test_outbox_files_holding_license_keys_and_codes_are_private(fresh):
    system = build_system(fresh)
    system.services.adapters.email.send(
        "jane@example.com", "Your license key", "7QK2-M9XD-4TRA-B1CZ", idempotency_key="k1"
    )
    system.services.adapters.messaging.send_code("+14155550123", "sms", "code 123456", "s1")
    outbox = fresh.outbox_dir
    assert mode(outbox) == 0o700
    delivered = [p for p in outbox.iterdir() if p.is_file()]
    assert {p.suffix for p in delivered} == {".eml", ".txt"}
    assert all(mode(p) == 0o600 for p in delivered), {p.name: oct(mode(p)) for p in delivered}
    assert files.open_to_others(fresh) == []


def test_paths_other_users_can_read_are_warned_about_at_start_up(fresh, caplog):
    build_system(fresh).close()
    database = fresh.instance_dir / "tokenflow.db"
    database.chmod(0o644)
    fresh.instance_dir.chmod(0o755)
    (fresh.outbox_dir / "20261207T000000Z-email-x.eml").write_text("key")
    (fresh.outbox_dir / "20261207T000000Z-email-x.eml").chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="tokenflow.files"):
        files.warn_if_open(fresh)
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 3, warned
    assert f"{database} can be read by other users (mode 0644): chmod 600 {database}" in warned
    assert any(f"(mode 0755): chmod 700 {fresh.instance_dir}" in line for line in warned)
