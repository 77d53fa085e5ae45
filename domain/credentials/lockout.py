"""Unlocking a token: the owner's resync with two consecutive codes, or support's reset.
The service layer calls these for the owner's page and the API, the `reset_token`
task's validator for support.

Resync searches a far wider window than sign-in (two consecutive codes are much harder
to guess than one), re-learns the drift or counter and clears the lockout. Its own
failures are rate limited per token, so the wide window never becomes a guessing aid.
A token whose clock ran off even the resync window is support's case: support unlocks
it, and with two codes the customer reads out, re-learns it over a day's worth of steps.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit_subjects
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset
from domain.tokens.models import HardwareToken
from domain.tokens.otp import RESYNC_HOTP_LOOKAHEAD, RESYNC_TOTP_WINDOW, find_consecutive_match
from domain.tokens.seed_crypto import open_sealed
from domain.tokens.serials import normalize_serial
from engine import audit

RATE_SCOPE = "token_resync"
SUPPORT_WINDOW_SECONDS = 24 * 3600
SUPPORT_HOTP_LOOKAHEAD = 5000
UNLOCKABLE = ("active", "locked")


class TokenRefused(Exception):
    """Why a resync or reset did not happen: `kind` is `not_found`, `revoked`,
    `rate_limited` or `no_match`; the message is for the person."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def resync(
    session: Session,
    seed_key: bytes,
    owner_id: int,
    serial: str,
    code1: str,
    code2: str,
    now: datetime,
    actor: str,
) -> HardwareToken:
    """The owner proves possession with two consecutive codes: drift or counter re-learnt,
    failures cleared, a locked token unlocked."""
    token = _token(session, serial, owner_id)
    try:
        check_allowed(session, RATE_SCOPE, token.serial, now)
    except RateLimited as exc:
        raise TokenRefused("rate_limited", exc.message) from None
    window = RESYNC_TOTP_WINDOW if token.kind == "totp" else RESYNC_HOTP_LOOKAHEAD
    if not _relearn(token, seed_key, code1, code2, now, window):
        record_failure(session, RATE_SCOPE, token.serial, now)
        audit.record(
            session,
            "token.resync_refused",
            subject=audit_subjects.token(token.id, token.owner_id),
            actor=actor,
            serial=token.serial,
        )
        raise TokenRefused(
            "no_match",
            f"These are not two consecutive codes of token {token.serial} close enough to "
            "the time we expect. Check them and try once more; if it fails again, contact "
            "support: they can reset your token.",
        )
    reset(session, RATE_SCOPE, token.serial)
    audit.record(
        session,
        "token.resynced",
        subject=audit_subjects.token(token.id, token.owner_id),
        actor=actor,
        serial=token.serial,
    )
    return token


def support_reset(
    session: Session,
    seed_key: bytes,
    serial: str,
    now: datetime,
    actor: str,
    codes: tuple[str, str] | None = None,
) -> HardwareToken:
    """Support unlocks a token and clears its failures; with two consecutive codes read
    out by the customer it also re-learns a drift far beyond the resync window."""
    token = _token(session, serial, None)
    if codes is not None:
        window = SUPPORT_HOTP_LOOKAHEAD
        if token.kind == "totp":
            window = SUPPORT_WINDOW_SECONDS // (token.period or 30)
        if not _relearn(token, seed_key, codes[0], codes[1], now, window):
            raise TokenRefused(
                "no_match", f"These are not two consecutive codes of token {token.serial}."
            )
    token.status, token.failures, token.locked_at = "active", 0, None
    reset(session, RATE_SCOPE, token.serial)
    audit.record(
        session,
        "token.reset",
        subject=audit_subjects.token(token.id, token.owner_id),
        actor=actor,
        serial=token.serial,
        resynced=codes is not None,
    )
    return token


def _token(session: Session, serial: str, owner_id: int | None) -> HardwareToken:
    query = select(HardwareToken).where(HardwareToken.serial == normalize_serial(serial))
    if owner_id is not None:
        query = query.where(HardwareToken.owner_id == owner_id)
    token = session.scalars(query.with_for_update()).first()
    if token is None or (token.status not in UNLOCKABLE and token.status != "revoked"):
        raise TokenRefused("not_found", "No registered token has this serial number.")
    if token.status == "revoked":
        raise TokenRefused(
            "revoked", f"Token {token.serial} was reported lost and is revoked for good."
        )
    return token


def _relearn(
    token: HardwareToken, seed_key: bytes, code1: str, code2: str, now: datetime, window: int
) -> bool:
    secret = open_sealed(seed_key, token.sealed_secret, token.serial)
    match = find_consecutive_match(token.otp_params(), secret, code1, code2, now, window)
    if match is None:
        return False
    token.record_match(match)
    token.status, token.failures, token.locked_at = "active", 0, None
    return True
