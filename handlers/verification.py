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

A relying application's sign-ins are the one load that grows with every user, so the
path is kept to the database's pace: one prebuilt statement reads the person, their
credentials and their locked tokens, one writes the token back, and the answer is
audited in the person's own chain, so that verifications of different people share no
row and no lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, column, select, table, update
from sqlalchemy.orm import Session

from engine import audit
from engine import statements as sql
from engine.db import UTCDateTime
from handlers import audit_subjects
from handlers.adapters.messaging import MessageRejected
from handlers.phone_otp import (
    app_purpose,
    check_code,
    check_send_rate,
    registered_phone,
    send_code,
)
from handlers.proofing_models import Credential
from handlers.relying_apps import KnownApp
from handlers.tokens.models import HardwareToken
from handlers.tokens.otp import LOGIN_HOTP_LOOKAHEAD, Match, find_login_match
from handlers.tokens.seed_crypto import open_sealed

HARDWARE = "hardware_token"
PHONE = "phone"
DEFAULT_MAX_FAILURES = 10
# Time steps either side of the learnt drift. A hardware token's clock cannot be set by
# its owner and drifts between sign-ins; ±3 steps absorbs that, and the lockout bounds
# guessing to max_failures x 7 codes per token before the owner must resync.
TOTP_DRIFT_WINDOW = 3
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

    def window(self, token: HardwareToken) -> int:
        return self.totp_window if token.kind == "totp" else self.hotp_lookahead


@dataclass(frozen=True)
class Outcome:
    """The API's answer: `reason` says why a code was refused (None when valid)."""

    valid: bool
    credential: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "credential": self.credential, "reason": self.reason}


@dataclass(frozen=True)
class Held:
    """What a person holds, as one verification sees it: their id (None when the username
    is unknown), their credentials' (status, expires_at), and the tokens of those in force
    (locked until the commit when the caller asked for them)."""

    owner_id: int | None
    credentials: list[tuple[str, datetime]]
    tokens: list[HardwareToken]

    def reason(self, now: datetime) -> str | None:
        """Why none of the person's credentials is in force, or None when one is."""
        if any(status == "active" and expires > now for status, expires in self.credentials):
            return None
        if not self.credentials:
            return "no_credential"
        return "revoked" if all(s == "revoked" for s, _ in self.credentials) else "expired"


# Accounts belong to the web layer, which handlers must not import: read two columns.
_USERS = table("users", column("id"), column("username"))
_CREDENTIALS = Credential.__table__
_TOKENS = HardwareToken.__table__
_IN_FORCE_SERIALS = (
    select(_CREDENTIALS.c.token_serial)
    .join(_USERS, _USERS.c.id == _CREDENTIALS.c.owner_id)
    .where(
        _USERS.c.username == bindparam("b_username"),
        _CREDENTIALS.c.status == "active",
        _CREDENTIALS.c.expires_at > bindparam("b_now"),
    )
)
# Locked in id order, so concurrent requests for one person never deadlock; a locking
# clause is allowed in a WITH query, which is what lets one round trip read the person,
# their credentials and their tokens, and lock the tokens.
_LOCKED_TOKENS = (
    select(_TOKENS)
    .where(_TOKENS.c.serial.in_(_IN_FORCE_SERIALS.scalar_subquery()))
    .order_by(_TOKENS.c.id)
    .with_for_update()
    .cte("locked_tokens")
)
_PERSON = (
    _USERS.c.id.label("person"),
    _CREDENTIALS.c.status.label("credential_status"),
    _CREDENTIALS.c.expires_at.label("credential_expires"),
)
_HELD = (
    select(*_PERSON)
    .select_from(_USERS.outerjoin(_CREDENTIALS, _CREDENTIALS.c.owner_id == _USERS.c.id))
    .where(_USERS.c.username == bindparam("b_username"))
)
_HELD_WITH_TOKENS = (
    select(*_PERSON, _LOCKED_TOKENS)
    .select_from(
        _USERS.outerjoin(_CREDENTIALS, _CREDENTIALS.c.owner_id == _USERS.c.id).outerjoin(
            _LOCKED_TOKENS, _LOCKED_TOKENS.c.serial == _CREDENTIALS.c.token_serial
        )
    )
    .where(_USERS.c.username == bindparam("b_username"))
    .order_by(_LOCKED_TOKENS.c.id)
)
_TOKEN_FIELDS = [c.name for c in _LOCKED_TOKENS.c]
_SAVE_TOKEN = (
    update(_TOKENS)
    .where(_TOKENS.c.id == bindparam("b_id"))
    .values(
        counter=bindparam("counter"),
        last_time_step=bindparam("last_time_step"),
        drift_steps=bindparam("drift_steps"),
        failures=bindparam("failures"),
        status=bindparam("status"),
        locked_at=bindparam("locked_at"),
    )
)


def held_by(session: Session, username: str, now: datetime, *, lock_tokens: bool) -> Held:
    """One statement, prebuilt: the person, their credentials and, with `lock_tokens`,
    the tokens of those in force, locked. The tokens are detached copies: a change is
    written with `save_tokens`."""
    statement = _HELD_WITH_TOKENS if lock_tokens else _HELD
    rows = session.connection().execute(statement, {"b_username": username, "b_now": now})
    owner_id, credentials, tokens = None, [], []
    for row in rows:
        owner_id = row.person
        if row.credential_status is not None:
            credentials.append((row.credential_status, row.credential_expires))
        if lock_tokens and row.serial is not None:
            tokens.append(HardwareToken(**{name: getattr(row, name) for name in _TOKEN_FIELDS}))
    return Held(owner_id, credentials, tokens)


_TOKEN_STATE = ("counter", "last_time_step", "drift_steps", "failures", "status", "locked_at")
# A verification's one token write and its audit event, in one round trip (PostgreSQL).
_SAVE_TOKEN_AND_AUDIT = sql.append_event_with(
    "saved_token AS (UPDATE hardware_tokens SET counter = :t_counter,"
    " last_time_step = :t_last_time_step, drift_steps = :t_drift_steps,"
    " failures = :t_failures, status = :t_status, locked_at = :t_locked_at WHERE id = :t_id)",
    bindparam("t_locked_at", type_=UTCDateTime()),
)


def _state(token: HardwareToken, prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}{name}": getattr(token, name) for name in _TOKEN_STATE}


def save_tokens(session: Session, tokens: list[HardwareToken]) -> None:
    """Write what a verification changed on tokens read by `held_by`."""
    if tokens:
        session.connection().execute(_SAVE_TOKEN, [{"b_id": t.id, **_state(t)} for t in tokens])


def _save_with_audit(session: Session, tokens: list[HardwareToken]) -> None:
    """Write the tokens, and with a single token the one pending audit event in the same
    statement where the backend allows (PostgreSQL)."""
    if len(tokens) == 1:
        params = {"t_id": tokens[0].id, **_state(tokens[0], "t_")}
        if audit.append_with(session, _SAVE_TOKEN_AND_AUDIT, params):
            return
    save_tokens(session, tokens)


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
    policy = policy or VerifyPolicy.from_settings(getattr(services, "settings", None))
    held = held_by(session, username, now, lock_tokens=HARDWARE in app.accepted)
    subject = _subject(held, app)
    outcome, serial, changed = _verify(
        session, services.seed_key, app, held, subject, code, now, policy
    )
    audit.record(
        session,
        "otp.verified",
        subject=subject,
        actor=f"app:{app.name}",
        application=app.name,
        username=username,
        valid=outcome.valid,
        credential=outcome.credential,
        reason=outcome.reason,
        serial=serial,
    )
    _save_with_audit(session, changed)
    return outcome


def offer_phone_code(
    session: Session, services: Any, app: KnownApp, username: str, now: datetime
) -> dict[str, Any]:
    """Send `username` a sign-in code for `app` by SMS or voice (the phone's registered
    channel). Raises `phone_otp.TooManyCodes` when too many went out lately."""
    held = held_by(session, username, now, lock_tokens=False)
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
) -> tuple[Outcome, str | None, list[HardwareToken]]:
    """The answer, the token it concerns, and the tokens changed (to be written)."""
    why_not = held.reason(now)
    if why_not or held.owner_id is None:
        return Outcome(False, None, why_not or "no_credential"), None, []
    owner_id, tokens = held.owner_id, held.tokens
    usable = [
        (t, open_sealed(seed_key, t.sealed_secret, t.serial))
        for t in tokens
        if t.status == "active"
    ]
    for token, secret in usable:
        match = find_login_match(token.otp_params(), secret, code, now, policy.window(token))
        if match is not None:
            token.record_match(match)
            token.failures = 0
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
    failed = [token for token, _ in usable]
    if usable:
        token, secret = usable[0]
        replayed = _was_used(token, secret, code, now, policy.window(token))
        reason = "replayed" if replayed else "invalid_code"
        return Outcome(False, None, reason), token.serial, failed
    if phone_result == "wrong":
        return Outcome(False, None, "invalid_code"), None, []
    for status in ("locked", "revoked"):
        if any(t.status == status for t in tokens):
            return Outcome(False, None, status), next(t.serial for t in tokens), []
    if PHONE in app.accepted and registered_phone(session, owner_id) is not None:
        return Outcome(False, None, "invalid_code"), None, []
    return Outcome(False, None, "no_credential"), None, []


def count_failure(
    session: Session,
    token: HardwareToken,
    now: datetime,
    max_failures: int,
    actor: str,
    subject: str,
) -> None:
    """One more failure; at `max_failures` the token locks until resync or reset."""
    token.failures = (token.failures or 0) + 1
    if token.failures >= max_failures and token.status == "active":
        token.status, token.locked_at = "locked", now
        audit.record(
            session,
            "token.locked",
            subject=subject,
            actor=actor,
            serial=token.serial,
            failures=token.failures,
        )


def _was_used(token: HardwareToken, secret: bytes, code: str, now: datetime, window: int) -> bool:
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
