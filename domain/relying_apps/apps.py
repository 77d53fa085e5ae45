"""Relying applications: registering one with its policy, and knowing one by its API key.

The key is shown once, when the application is created, and kept only as its SHA-256;
a lost key means a new application entry, never a key read back from the database.

Every verification starts by knowing its caller, so each process remembers the
applications it has recognised for `KEY_CACHE_SECONDS`: a deactivated application is
refused by the process that deactivated it at once, and by every other within that time.
Only keys of active applications are remembered, so guessed keys cannot fill memory.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from domain import audit_subjects
from domain.relying_apps.models import CREDENTIAL_KINDS, RelyingApp, accepted_kinds
from engine import audit
from engine.clock import clock

KEY_PREFIX = "tfk_"
KEY_CACHE_SECONDS = 5
KEY_CACHE_SIZE = 1024
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class AppError(ValueError):
    """A refusal to show as it is: bad name, unknown credential kind, name taken."""


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def parse_accepts(text: str) -> str:
    """`hardware_token,phone` in canonical order; unknown kinds are refused."""
    kinds = {part.strip() for part in text.split(",") if part.strip()}
    unknown = kinds - set(CREDENTIAL_KINDS)
    if unknown or not kinds:
        raise AppError(f"--accepts takes a comma list of: {', '.join(CREDENTIAL_KINDS)}")
    return ",".join(kind for kind in CREDENTIAL_KINDS if kind in kinds)


def create_app(
    session: Session, name: str, accepts: str, actor: str | None = None
) -> tuple[RelyingApp, str]:
    """Register an application; returns it and its API key, which is never shown again."""
    name = name.strip().lower()
    if not _NAME.fullmatch(name):
        raise AppError("An application name is 1-64 lower-case letters, digits or . - _")
    if session.scalar(select(RelyingApp.id).where(RelyingApp.name == name)) is not None:
        raise AppError(f"An application named {name!r} exists already.")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    app = RelyingApp(name=name, api_key_hash=key_digest(api_key), accepts=parse_accepts(accepts))
    session.add(app)
    session.flush()
    audit.record(
        session,
        "app.created",
        subject=audit_subjects.application(app.id),
        actor=actor,
        application=name,
        accepts=app.accepts,
    )
    return app, api_key


@dataclass(frozen=True)
class KnownApp:
    """What a request needs of its calling application: who it is and what it accepts."""

    id: int
    name: str
    accepted: frozenset[str]


class _KnownKeys:
    """Active applications by key digest, each remembered for `ttl` from when it was read."""

    def __init__(self, ttl: timedelta, size: int) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[KnownApp, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str, now: datetime) -> KnownApp | None:
        entry = self._entries.get(digest)
        # A clock set back must not stretch an entry's life: read_at is in the future then.
        if entry is None or not entry[1] <= now < entry[1] + self.ttl:
            return None
        return entry[0]

    def put(self, digest: str, app: KnownApp, now: datetime) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[digest] = (app, now)

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)


_known_keys = _KnownKeys(timedelta(seconds=KEY_CACHE_SECONDS), KEY_CACHE_SIZE)
_APP_BY_DIGEST = select(RelyingApp.id, RelyingApp.name, RelyingApp.accepts).where(
    RelyingApp.api_key_hash == bindparam("b_digest"), RelyingApp.active.is_(True)
)


def app_for_key(session: Session | Connection, api_key: str) -> KnownApp | None:
    """The active application holding `api_key`, if any (as of `KEY_CACHE_SECONDS` ago
    at most); read on `session`'s connection (or on a Core connection) when not known."""
    if not api_key.startswith(KEY_PREFIX):
        return None
    digest, now = key_digest(api_key), clock.now()
    known = _known_keys.get(digest, now)
    if known is not None:
        return known
    connection = session if isinstance(session, Connection) else session.connection()
    row = connection.execute(_APP_BY_DIGEST, {"b_digest": digest}).first()
    if row is None:
        return None
    known = KnownApp(row.id, row.name, accepted_kinds(row.accepts))
    _known_keys.put(digest, known, now)
    return known


def deactivate_app(session: Session, name: str, actor: str | None = None) -> RelyingApp:
    """Stop accepting the application's key: here at once, in other processes within
    `KEY_CACHE_SECONDS`. Raises AppError for an unknown name."""
    app = find_app(session, name)
    if app is None:
        raise AppError(f"No application is named {name!r}.")
    if app.active:
        app.active = False
        audit.record(
            session,
            "app.deactivated",
            subject=audit_subjects.application(app.id),
            actor=actor,
            application=app.name,
        )
    _known_keys.forget(app.api_key_hash)
    return app


def find_app(session: Session, name: str) -> RelyingApp | None:
    return session.scalar(select(RelyingApp).where(RelyingApp.name == name))


def list_apps(session: Session) -> list[RelyingApp]:
    return list(session.scalars(select(RelyingApp).order_by(RelyingApp.name)))
