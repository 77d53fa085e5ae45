"""Verifying a code for a relying application, under that application's policy.

The caller is the application (its API key), not the person: it sends a username and the
code the person typed, and learns whether the code proves one of that person's
credentials that the application accepts. Every answer is audited (application, user,
result, reason; never the code).

The token row is read `FOR UPDATE`, so two requests carrying the same code queue on it and
the second sees the first one's replay guard: a code is accepted once, however many
requests race. Each failure counts towards a lockout and a success resets the count; a
locked token verifies nothing until its owner resyncs it or support resets it, so a
guesser gets `max_failures` tries per token, ever, not per time window.

The answer is audited in the person's own chain, so that verifications of different
people share no row and no lock; what is read and written, and in how few round trips,
is `held`'s part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from adapters.messaging import MessageRejected
from domain import audit_subjects
from domain.credentials.held import (
    Held,
    LockedToken,
    held_by,
    save_tokens,
    verify_in_two_round_trips,
)
from domain.phone.otp import app_purpose, check_code, check_send_rate, registered_phone, send_code
from domain.relying_apps.apps import KnownApp
from domain.tokens.otp import LOGIN_HOTP_LOOKAHEAD, Match, find_login_match
from domain.tokens.seed_crypto import open_sealed
from engine import audit
from engine.db import unit_of_work

HARDWARE = "hardware_token"
PHONE = "phone"
DEFAULT_MAX_FAILURES = 10
# Time steps either side of the learnt drift. A hardware token's clock cannot be set by
# its owner and drifts between sign-ins; ±3 steps absorbs that, and the lockout bounds
# guessing to max_failures x 7 codes per token before the owner must resync.
TOTP_DRIFT_WINDOW = 3
ANSWERED = "otp.verified"
_PHONE_REASONS = {"expired": "code_expired", "exhausted": "too_many_attempts"}


@dataclass(frozen=True)
class VerifyPolicy:
    """Lockout and windows; `Services.settings` may override them (`otp_max_failures`,
    `otp_totp_window`, `otp_hotp_lookahead`)."""

    max_failures: int = DEFAULT_MAX_FAILURES
    totp_window: int = TOTP_DRIFT_WINDOW
    hotp_lookahead: int = LOGIN_HOTP_LOOKAHEAD

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> VerifyPolicy:
        settings = settings or {}
        return cls(
            int(settings.get("otp_max_failures", DEFAULT_MAX_FAILURES)),
            int(settings.get("otp_totp_window", TOTP_DRIFT_WINDOW)),
            int(settings.get("otp_hotp_lookahead", LOGIN_HOTP_LOOKAHEAD)),
        )

    def window(self, token: LockedToken) -> int:
        return self.totp_window if token.kind == "totp" else self.hotp_lookahead


@dataclass(frozen=True)
class Outcome:
    """The API's answer: `reason` says why a code was refused (None when valid)."""

    valid: bool
    credential: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "credential": self.credential, "reason": self.reason}


def verify(
    session: Session,
    services: Any,
    app: KnownApp,
    username: str,
    code: str,
    now: datetime,
    policy: VerifyPolicy | None = None,
) -> Outcome:
    """Check `code` for `username` under `app`'s policy; learn from a match, count a
    failure, and audit the answer in the person's chain (the application's when the
    username is unknown)."""
    policy = policy or _policy(services)
    held = held_by(session.connection(), username, now, lock_tokens=HARDWARE in app.accepted)
    subject = _subject(held, app)
    outcome, serial, changed = _verify(
        session, services.seed_key, app, held, subject, code, now, policy
    )
    audit.record(session, ANSWERED, **_answer(app, username, subject, outcome, serial))
    save_tokens(session.connection(), changed)
    return outcome


def verify_quickly(
    connection: Connection,
    factory: sessionmaker[Session],
    services: Any,
    app: KnownApp,
    username: str,
    code: str,
    now: datetime,
) -> Outcome:
    """`verify` as the API runs it, committed on `connection`. The common case on
    PostgreSQL, a token's code right or wrong without locking the token, takes two
    round trips and no ORM session: the locked read, then the token's write, the audit
    event and the commit (`held.verify_in_two_round_trips`). Every other case (SQLite,
    phone codes, a lockout, an unknown person, the person's first audit event) writes
    nothing there and runs `verify` in a session on the same connection."""
    outcome = _quickly(connection, services, app, username, code, now)
    if outcome is not None:
        return outcome
    connection.rollback()
    with unit_of_work(factory, bind=connection) as session:
        return verify(session, services, app, username, code, now)


def _quickly(
    connection: Connection,
    services: Any,
    app: KnownApp,
    username: str,
    code: str,
    now: datetime,
) -> Outcome | None:
    if connection.dialect.name != "postgresql" or HARDWARE not in app.accepted:
        return None
    policy = _policy(services)
    answers: list[Outcome] = []

    def decide(held: Held) -> tuple[LockedToken, Any] | None:
        if held.owner_id is None or held.reason(now) is not None:
            return None
        token, usable = _match(services.seed_key, held, code, now, policy)
        if token is not None:
            outcome, serial = Outcome(True, HARDWARE, None), token.serial
        elif PHONE in app.accepted or len(usable) != 1:
            return None
        else:
            token = usable[0][0]
            if add_failure(token, now, policy.max_failures):
                return None
            outcome, serial = _refusal(usable, code, now, policy)
        answers.append(outcome)
        subject = _subject(held, app)
        return token, audit.new_event(ANSWERED, **_answer(app, username, subject, outcome, serial))

    return answers[0] if verify_in_two_round_trips(connection, username, now, decide) else None


def _policy(services: Any) -> VerifyPolicy:
    return VerifyPolicy.from_settings(getattr(services, "settings", None))


def _answer(
    app: KnownApp, username: str, subject: str, outcome: Outcome, serial: str | None
) -> dict[str, Any]:
    """The audit event's fields for one answer (never the code)."""
    return {
        "subject": subject,
        "actor": f"app:{app.name}",
        "application": app.name,
        "username": username,
        "valid": outcome.valid,
        "credential": outcome.credential,
        "reason": outcome.reason,
        "serial": serial,
    }


def offer_phone_code(
    session: Session, services: Any, app: KnownApp, username: str, now: datetime
) -> dict[str, Any]:
    """Send `username` a sign-in code for `app` by SMS or voice (the phone's registered
    channel). Raises `domain.phone.otp.TooManyCodes` when too many went out lately."""
    held = held_by(session.connection(), username, now, lock_tokens=False)
    reason = held.reason(now)
    phone = None
    if reason is None and held.owner_id is not None:
        phone = registered_phone(session, held.owner_id)
    if reason is None and phone is None:
        reason = "no_phone"
    row = None
    if reason is None and phone is not None:
        check_send_rate(session, phone.owner_id or 0, now)
        try:
            row = send_code(session, services, phone, app_purpose(app.id), now)
        except MessageRejected:
            reason = "phone_unreachable"
    audit.record(
        session,
        "phone_otp.sent" if row else "phone_otp.not_sent",
        subject=_subject(held, app),
        actor=f"app:{app.name}",
        application=app.name,
        username=username,
        reason=reason,
    )
    if row is None:
        return {"sent": False, "channel": None, "expires_at": None, "reason": reason}
    return {
        "sent": True,
        "channel": row.channel,
        "expires_at": row.expires_at.isoformat(),
        "reason": None,
    }


def _subject(held: Held, app: KnownApp) -> str:
    if held.owner_id is None:
        return audit_subjects.application(app.id)
    return audit_subjects.person(held.owner_id)


def _verify(
    session: Session,
    seed_key: bytes,
    app: KnownApp,
    held: Held,
    subject: str,
    code: str,
    now: datetime,
    policy: VerifyPolicy,
) -> tuple[Outcome, str | None, list[LockedToken]]:
    """The answer, the token it concerns, and the tokens changed (to be written)."""
    why_not = held.reason(now)
    if why_not or held.owner_id is None:
        return Outcome(False, None, why_not or "no_credential"), None, []
    owner_id, tokens = held.owner_id, held.tokens
    token, usable = _match(seed_key, held, code, now, policy)
    if token is not None:
        return Outcome(True, HARDWARE, None), token.serial, [token]
    phone_result = None
    if PHONE in app.accepted:
        phone_result = check_code(session, seed_key, owner_id, app_purpose(app.id), code, now)
        if phone_result == "ok":
            return Outcome(True, PHONE, None), None, []
    if phone_result in ("expired", "exhausted"):
        # The phone code itself, spent by time or tries: no guess at the token.
        return Outcome(False, None, _PHONE_REASONS[phone_result]), None, []
    for token, _ in usable:
        count_failure(session, token, now, policy.max_failures, f"app:{app.name}", subject)
    if usable:
        return (*_refusal(usable, code, now, policy), [token for token, _ in usable])
    if phone_result == "wrong":
        return Outcome(False, None, "invalid_code"), None, []
    for status in ("locked", "revoked"):
        if any(t.status == status for t in tokens):
            return Outcome(False, None, status), next(t.serial for t in tokens), []
    if PHONE in app.accepted and registered_phone(session, owner_id) is not None:
        return Outcome(False, None, "invalid_code"), None, []
    return Outcome(False, None, "no_credential"), None, []


def _match(
    seed_key: bytes, held: Held, code: str, now: datetime, policy: VerifyPolicy
) -> tuple[LockedToken | None, list[tuple[LockedToken, bytes]]]:
    """The active token `code` proves (its match learnt, its failures cleared), or None;
    and every active token with its opened secret."""
    usable = [
        (t, open_sealed(seed_key, t.sealed_secret, t.serial))
        for t in held.tokens
        if t.status == "active"
    ]
    for token, secret in usable:
        match = find_login_match(token.otp_params(), secret, code, now, policy.window(token))
        if match is not None:
            token.record_match(match)
            token.failures = 0
            return token, usable
    return None, usable


def _refusal(
    usable: list[tuple[LockedToken, bytes]], code: str, now: datetime, policy: VerifyPolicy
) -> tuple[Outcome, str]:
    """The answer to a code no token took: a replay of a spent code, or just wrong."""
    token, secret = usable[0]
    replayed = _was_used(token, secret, code, now, policy.window(token))
    return Outcome(False, None, "replayed" if replayed else "invalid_code"), token.serial


def add_failure(token: LockedToken, now: datetime, max_failures: int) -> bool:
    """One more failure; True when it locks the token (at `max_failures`), which stays
    locked until resync or reset."""
    token.failures = (token.failures or 0) + 1
    if token.failures >= max_failures and token.status == "active":
        token.status, token.locked_at = "locked", now
        return True
    return False


def count_failure(
    session: Session,
    token: LockedToken,
    now: datetime,
    max_failures: int,
    actor: str,
    subject: str,
) -> None:
    """`add_failure`, auditing a lockout."""
    if add_failure(token, now, max_failures):
        audit.record(
            session,
            "token.locked",
            subject=subject,
            actor=actor,
            serial=token.serial,
            failures=token.failures,
        )


def _was_used(token: LockedToken, secret: bytes, code: str, now: datetime, window: int) -> bool:
    """Whether a refused code is one this token already spent: worth telling the
    application, since a replay suggests a phished or shoulder-surfed code."""
    params = token.otp_params()
    if token.kind == "totp":
        if params.last_time_step is None:
            return False
        match: Match | None = find_login_match(
            replace(params, last_time_step=None), secret, code, now, window
        )
        return match is not None and match.step_or_counter <= params.last_time_step
    earlier = replace(params, counter=max(0, params.counter - window))
    match = find_login_match(earlier, secret, code, now, window)
    return match is not None and match.step_or_counter < params.counter
