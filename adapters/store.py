"""Crash-safe JSON records on disk: the sandboxes' memory across process restarts.

One file per record under a directory. A record is created by linking a fully written
temporary file into place, so it appears whole or not at all and the first writer wins
when two processes race; updates go through a temporary file and `os.replace`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class IdempotencyConflict(ValueError):
    """An idempotency key came back with a different request: a caller's bug, not a retry."""


def _write_temporary(directory: Path, data: bytes) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def create_file(path: Path, data: bytes) -> bool:
    """Write `path` unless it exists, atomically; True when this call created it."""
    temporary = _write_temporary(path.parent, data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True


def replace_file(path: Path, data: bytes) -> None:
    """Write `path` atomically, replacing what was there."""
    os.replace(_write_temporary(path.parent, data), path)


def _loads(data: str | bytes) -> Record:
    record: Record = json.loads(data)
    return record


def _canonical(record: Record) -> Record:
    return _loads(json.dumps(record, sort_keys=True))


class JsonFileStore:
    """Named JSON records in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, name: str) -> Path:
        # Names come from callers (idempotency keys): unsafe ones become a digest, which
        # cannot collide with a plain name because a plain name never starts with "_".
        if not _SAFE_NAME.fullmatch(name):
            name = "_" + hashlib.sha256(name.encode()).hexdigest()
        return self.directory / f"{name}.json"

    def get(self, name: str) -> Record | None:
        try:
            return _loads(self.path(name).read_bytes())
        except FileNotFoundError:
            return None

    def create(self, name: str, record: Record) -> Record:
        """Store `record` unless `name` exists; return whichever record is stored."""
        data = json.dumps(record, sort_keys=True, indent=2).encode()
        while True:
            if create_file(self.path(name), data):
                return _loads(data)
            stored = self.get(name)
            if stored is not None:  # else it was deleted meanwhile: try again
                return stored

    def replace(self, name: str, record: Record) -> None:
        replace_file(self.path(name), json.dumps(record, sort_keys=True, indent=2).encode())

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def recall(self, key: str, request: Record) -> Record | None:
        """The result stored for an idempotency key, or None when the key is new."""
        stored = self.get(key)
        if stored is None:
            return None
        return self._check(key, request, stored)

    def remember(self, key: str, request: Record, result: Record) -> Record:
        """Store a key's result; a concurrent first writer's result wins and is returned."""
        stored = self.create(key, {"request": request, "result": result})
        return self._check(key, request, stored)

    def once(self, key: str, request: Record, make_result: Callable[[], Record]) -> Record:
        """The key's stored result, or the result of `make_result()` stored under the key."""
        result = self.recall(key, request)
        return result if result is not None else self.remember(key, request, make_result())

    @staticmethod
    def _check(key: str, request: Record, stored: Record) -> Record:
        if stored["request"] != _canonical(request):
            raise IdempotencyConflict(
                f"idempotency key {key!r} was already used for a different request"
            )
        result: Record = stored["result"]
        return result
