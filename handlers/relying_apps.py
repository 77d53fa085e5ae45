"""Relying applications: registering one with its policy, and knowing one by its API key.

The key is shown once, when the application is created, and kept only as its SHA-256;
a lost key means a new application entry, never a key read back from the database.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from handlers.lifecycle_models import CREDENTIAL_KINDS, RelyingApp

KEY_PREFIX = "tfk_"
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
    audit.record(session, "app.created", actor=actor, application=name, accepts=app.accepts)
    return app, api_key


def app_for_key(session: Session, api_key: str) -> RelyingApp | None:
    """The active application holding `api_key`, if any."""
    if not api_key.startswith(KEY_PREFIX):
        return None
    app = session.scalar(select(RelyingApp).where(RelyingApp.api_key_hash == key_digest(api_key)))
    return app if app is not None and app.active else None


def find_app(session: Session, name: str) -> RelyingApp | None:
    return session.scalar(select(RelyingApp).where(RelyingApp.name == name))


def list_apps(session: Session) -> list[RelyingApp]:
    return list(session.scalars(select(RelyingApp).order_by(RelyingApp.name)))
