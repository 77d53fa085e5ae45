"""What people do to a credential from the pages: the customer's resync, and the admin's
relying applications. Each call is one unit of work; a refusal still commits (the failed
attempt counts toward the rate limit)."""

from __future__ import annotations

from typing import Any

from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from handlers import lockout, relying_apps


def resync(system: Any, actor: Actor, serial: str, code1: str, code2: str) -> str | None:
    """None when the token is in step again; otherwise the message for the person."""
    refused: lockout.TokenRefused | None = None
    with unit_of_work(system.session_factory) as s:
        try:
            lockout.resync(
                s,
                system.services.seed_key,
                actor.user_id or 0,
                serial,
                code1,
                code2,
                clock.now(),
                actor.name,
            )
        except lockout.TokenRefused as exc:
            refused = exc
    return refused.message if refused is not None else None


def list_apps(system: Any) -> list[dict[str, Any]]:
    with unit_of_work(system.session_factory) as s:
        return [
            {"name": a.name, "accepts": a.accepts, "created_at": a.created_at}
            for a in relying_apps.list_apps(s)
        ]


def create_app(system: Any, actor: Actor, name: str, accepts: str) -> tuple[str | None, str]:
    """(API key, name) on success, (None, message) when refused. The key is shown once."""
    try:
        with unit_of_work(system.session_factory) as s:
            app, key = relying_apps.create_app(s, name, accepts, actor.name)
            return key, app.name
    except relying_apps.AppError as exc:
        return None, str(exc)
