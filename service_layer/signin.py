"""The account use cases behind the log-in, sign-up and account pages and the API's token,
each one unit of work. The HTML login and `POST /api/v1/auth/token` both go through
`log_in`: one throttle, one session table.

A refused login still commits: the failure must count."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from adapters.email import render_email
from domain.accounts import login_throttle, sessions
from domain.accounts import users as accounts
from domain.accounts.models import LoginSession, User
from engine.clock import clock
from engine.db import unit_of_work
from service_layer.system import System

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """A login's outcome: the new session's secret, or why not (with the HTTP status, and
    for 429 the seconds to wait)."""

    secret: str | None = None
    error: str | None = None
    status: int = 200
    retry_after: int | None = None


def lifetimes(system: System) -> sessions.Lifetimes:
    return sessions.Lifetimes(system.config.session_idle, system.config.session_max)


def log_in(
    system: System, username: str, password: str, client: str, device: str, kind: str
) -> Attempt:
    """Check the throttle and the password; on success start a session of `kind`."""
    warn_owner: User | None = None
    with unit_of_work(system.session_factory) as s:
        now = clock.now()
        try:
            login_throttle.check(s, username, client, now)
        except login_throttle.Wait as wait:
            return Attempt(error=wait.message, status=429, retry_after=wait.seconds)
        try:
            user = accounts.authenticate(s, username, password)
        except accounts.AccountError as exc:
            if login_throttle.failed(s, username, client, now):
                warn_owner = accounts.find_user(s, username)
            attempt = Attempt(error=str(exc), status=401)
        else:
            login_throttle.succeeded(s, user, client, now)
            secret = sessions.start(s, user, kind, device, now, lifetimes(system))
            attempt = Attempt(secret)
    if warn_owner is not None:
        _warn_owner(system, warn_owner, now)
    return attempt


def _warn_owner(system: System, user: User, now: datetime) -> None:
    """Tell the owner that someone keeps guessing their password (after the commit: the
    count stands whether or not the mail goes out)."""
    log.warning(
        "user %s: %d failed logins in a row; strangers' attempts are slowed, owner told",
        user.id,
        login_throttle.ACCOUNT_THRESHOLD,
    )
    if not user.email:
        return
    rendered = render_email(
        "failed_logins",
        name=user.username,
        failures=login_throttle.ACCOUNT_THRESHOLD,
        since=now,
    )
    try:
        system.services.adapters.email.send(
            user.email,
            rendered.subject,
            rendered.text,
            rendered.html,
            idempotency_key=f"failed-logins:{user.id}:{now.isoformat()}",
        )
    except Exception as exc:  # the mail server's trouble must not fail the login reply
        log.warning("failed-logins warning to user %s not sent: %s", user.id, type(exc).__name__)


def resolve(system: System, secret: str, kind: str) -> sessions.Resolved | None:
    with unit_of_work(system.session_factory) as s:
        return sessions.resolve(s, secret, kind, clock.now(), lifetimes(system))


def active_sessions(system: System, user_id: int) -> list[LoginSession]:
    with unit_of_work(system.session_factory) as s:
        return sessions.active(s, user_id, clock.now(), lifetimes(system))


def end_session(system: System, user_id: int, session_id: int) -> bool:
    with unit_of_work(system.session_factory) as s:
        return sessions.end(s, user_id, session_id)


def end_all_sessions(system: System, user_id: int, keep: int | None = None) -> int:
    with unit_of_work(system.session_factory) as s:
        return sessions.end_all(s, user_id, keep)


def change_password(
    system: System, user_id: int, current: str, new: str, keep_session: int | None
) -> str | None:
    """None when the password changed, else the reason it did not."""
    try:
        with unit_of_work(system.session_factory) as s:
            accounts.change_password(s, user_id, current, new, keep_session)
    except accounts.AccountError as exc:
        return str(exc)
    return None


def sign_up(
    system: System, username: str, email: str, password: str, device: str
) -> tuple[str | None, dict[str, str]]:
    """A new customer account, logged in: the session's secret, or the errors by field."""
    try:
        with unit_of_work(system.session_factory) as s:
            user = accounts.create_user(s, username, password, ["customer"], email=email)
            secret = sessions.start(
                s, user, sessions.BROWSER, device, clock.now(), lifetimes(system)
            )
    except accounts.AccountError as exc:
        return None, {"password" if "password" in str(exc) else "username": str(exc)}
    except IntegrityError:  # the same name, taken a moment earlier
        return None, {"username": "That username is taken."}
    return secret, {}
