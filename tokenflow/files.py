"""What Tokenflow keeps on disk is for the account that runs it alone.

The instance folder holds the secret and seed keys, the embedded database (token seeds,
password hashes, the audit trail) and the outbox, whose emails, letters and SMS files
carry license keys and one-time codes. So the folder and its subfolders are made 0700,
the database file 0600, and every process started from `tokenflow` runs with umask 077
so that anything it creates later (SQLite's `-wal` and `-shm` files, outbox messages,
sandbox records, backups) is private as well.

An existing installation made before this, or a folder an operator opened up, is not
changed behind their back: the long-running commands log a warning for each path other
users can reach, with the `chmod` that closes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import make_url

from service_layer.config import Config

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def use_private_umask() -> None:
    """Files and folders this process creates from now on: no access for group or others."""
    os.umask(PRIVATE_UMASK)


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory ones."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def prepare(config: Config) -> None:
    """Create the private folders and the (empty) SQLite database file where missing,
    with private modes whatever the umask: SQLite gives its `-wal` and `-shm` files the
    mode of the database file."""
    for directory in (config.instance_dir, config.outbox_dir, config.sandbox_dir):
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    database = sqlite_path(config.database_url)
    if database is not None and not database.exists():
        database.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        # Another process may make it meanwhile: then its mode is the one checked.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def open_to_others(config: Config) -> list[tuple[Path, int]]:
    """Each path of the instance that group or others may use, with its mode."""
    return [
        (path, mode)
        for path in _private_paths(config)
        if (mode := _mode(path)) is not None and mode & 0o077
    ]


def warn_if_open(config: Config) -> None:
    """At start-up: one warning per path that other local users can reach."""
    for path, mode in open_to_others(config):
        wanted = DIRECTORY_MODE if path.is_dir() else FILE_MODE
        log.warning(
            "%s can be read by other users (mode %04o): chmod %o %s",
            path,
            mode,
            wanted,
            path,
        )


def _private_paths(config: Config) -> Iterator[Path]:
    yield config.instance_dir
    yield from (config.instance_dir / name for name in ("secret_key", "seed_key"))
    database = sqlite_path(config.database_url)
    if database is not None:
        yield from (Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm"))
    yield config.outbox_dir
    # Its messages; its folders (the senders' records) are closed by the outbox's own mode.
    if config.outbox_dir.is_dir():
        yield from (Path(e.path) for e in os.scandir(config.outbox_dir) if e.is_file())


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
