"""The account actions behind the log-in and sign-up pages, each one unit of work.

A refused login still commits: the failure must count (lockout and throttle)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from engine.clock import clock
from engine.db import unit_of_work
from web import accounts
from web.models import User

from . import throttle


@dataclass(frozen=True)
class Attempt:
    user: User | None
    error: str | None = None
    status: int = 200


def log_in(system: Any, username: str, password: str, client: str) -> Attempt:
    with unit_of_work(system.session_factory) as s:
        now = clock.now()
        try:
            throttle.check(s, username, client, now)
            user = accounts.authenticate(s, username, password)
        except throttle.Wait as wait:
            return Attempt(None, wait.message, 429)
        except accounts.LockedOut as exc:
            return Attempt(None, str(exc), 429)
        except accounts.AccountError as exc:
            throttle.failed(s, username, client, now)
            return Attempt(None, str(exc), 401)
        throttle.succeeded(s, username)
        return Attempt(user)


def sign_up(system: Any, username: str, email: str, password: str) -> tuple[User | None, dict]:
    """A new customer account, or the errors by form field."""
    try:
        with unit_of_work(system.session_factory) as s:
            user = accounts.create_user(s, username, password, ["customer"], email=email)
    except accounts.AccountError as exc:
        return None, {"password" if "password" in str(exc) else "username": str(exc)}
    except IntegrityError:  # the same name, taken a moment earlier
        return None, {"username": "That username is taken."}
    return user, {}
