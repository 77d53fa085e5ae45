"""Use cases of relying applications' sign-ins: verify a user's code, send a user a phone
code. The calling application is named by its API key; each use case opens its one
transaction (a refused code still commits the failure it counts)."""

from __future__ import annotations

from typing import Any

from domain.credentials import verification
from domain.credentials.verification import Outcome
from domain.phone.otp import TooManyCodes
from domain.relying_apps import apps as relying_apps
from domain.relying_apps.apps import KnownApp
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import Forbidden

from .system import System

__all__ = ["Outcome", "TooManyCodes", "UnknownApplication", "send_phone_code", "verify_code"]


class UnknownApplication(LookupError):
    """No active application holds the API key."""


def verify_code(system: System, api_key: str, username: str, code: str) -> Outcome:
    """Verify `username`'s code under the policy of the application holding `api_key`.

    No ORM session on the common way: see `verification.verify_quickly`."""
    with system.db.connect() as connection:
        app = _application(relying_apps.app_for_key(connection, api_key))
        return verification.verify_quickly(
            connection,
            system.session_factory,
            system.services,
            app,
            username,
            code,
            clock.now(),
        )


def send_phone_code(system: System, api_key: str, username: str) -> dict[str, Any]:
    """Send `username` a sign-in code by SMS or voice for the application holding
    `api_key`. Raises Forbidden when that application accepts no phone codes, and
    TooManyCodes, after committing, when too many went out lately."""
    limited: TooManyCodes | None = None
    with unit_of_work(system.session_factory) as s:
        app = _application(relying_apps.app_for_key(s, api_key))
        if verification.PHONE not in app.accepted:
            raise Forbidden(f"Application {app.name} does not accept phone codes.")
        try:
            sent = verification.offer_phone_code(s, system.services, app, username, clock.now())
        except TooManyCodes as exc:
            limited = exc
    if limited is not None:
        raise limited
    return sent


def _application(app: KnownApp | None) -> KnownApp:
    if app is None:
        raise UnknownApplication("no active application holds this key")
    return app
