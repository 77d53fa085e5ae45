"""`tokenflow db backup FILE` and `tokenflow db restore FILE`: the embedded SQLite database.

A backup is SQLite's online backup API copying the whole database in one step, which is
one read transaction: in WAL mode the web and the worker go on writing meanwhile, and the
copy is the database as it was at one commit, never half a step. The copy is a single
self-contained file (its journal mode set back to DELETE), mode 0600, and is checked
before the command reports success. PostgreSQL has its own tools (pg_dump, continuous
archiving for point-in-time recovery); the README says how.

A restore copies a backup into an empty database only, so that it can never mix two
histories or overwrite rows someone still needs.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from . import files

ON_POSTGRESQL = (
    "db backup and db restore are for the embedded SQLite database; on PostgreSQL use "
    "pg_dump and point-in-time recovery (README: Backups)"
)
BUSY_TIMEOUT = 15.0  # seconds, as the application's own connections wait


class BackupError(Exception):
    pass


def backup(database_url: str, target: Path) -> None:
    source = _database(database_url)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    _create_private(target)
    try:
        with (
            closing(sqlite3.connect(_read_only(source), uri=True, timeout=BUSY_TIMEOUT)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            _check(dst, target)
    except BaseException:
        target.unlink(missing_ok=True)  # no half-written file that looks like a backup
        raise


def restore(database_url: str, backup_file: Path) -> None:
    target = _database(database_url)
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such file")
    with closing(sqlite3.connect(_read_only(backup_file), uri=True)) as src:
        _check(src, backup_file)
        if target.exists():
            with closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT)) as existing:
                if existing.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise BackupError(
                        f"the database at {target} is not empty: restore only into an empty "
                        "database (move this one aside, or point TOKENFLOW_DATABASE_URL "
                        "at a new file)"
                    )
        else:
            _create_private(target)
        with closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # what the application's connections use


def _database(database_url: str) -> Path:
    path = files.sqlite_path(database_url)
    if path is None:
        raise BackupError(ON_POSTGRESQL)
    return path


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _create_private(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, files.FILE_MODE))
    except FileExistsError:
        raise BackupError(f"{path}: already exists; a backup never overwrites a file") from None


def _check(conn: sqlite3.Connection, path: Path) -> None:
    """A readable SQLite database with Tokenflow's migrations table: a backup of ours."""
    try:
        intact = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError:
        intact, tables = False, set()
    if not intact or "alembic_version" not in tables:
        raise BackupError(f"{path}: not a Tokenflow database backup")
