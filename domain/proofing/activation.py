"""Activation codes: issued after video proofing or sent by letter, typed at `activate_token`.

A code is 10 characters of Crockford's base32 (50 bits), shown as `XXXXX-XXXXX`, read
case-insensitively, with the letters people confuse (I, L, O) taken as the digits they
look like. It is stored only as a keyed digest, works once, and expires.

A code is derived from the seed key and the task's idempotency key rather than drawn
at random: a task retried after a crash produces the same code, so the letter already
posted (the postal sandbox refuses a retry with other content) and the digest stored
agree. Deriving it needs the seed key, which never enters the database.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain import crockford
from domain.codes import code_digest
from domain.proofing.models import ActivationCode
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset

CODE_LENGTH = 10  # Crockford base32 characters
RATE_SCOPE = "activation_code"
DIGEST_PURPOSE = "activation"
MESSAGES = {
    "wrong": "This is not a valid activation code. Check it and try again.",
    "used": "This activation code has already been used.",
    "expired": "This activation code has expired. Please contact support for a new one.",
}
LOCKED_OUT = " Too many attempts: wait before trying again."


class CodeRefused(Exception):
    """A typed code that activates nothing. `reason` (wrong, used, expired) is for the
    audit trail, None when the subject is locked out and no code was looked at; the
    message is for the customer."""

    def __init__(self, reason: str | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def derive_code(seed_key: bytes, idempotency_key: str) -> str:
    """The activation code for one service task, as 10 base32 characters."""
    mac = hmac.new(
        seed_key, f"tokenflow:activation-code-gen:{idempotency_key}".encode(), hashlib.sha256
    ).digest()
    value = int.from_bytes(mac[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return crockford.encode(value, CODE_LENGTH)


def grouped(code: str) -> str:
    """How a code is shown: two groups of five, easy to read out and to type."""
    return f"{code[:5]}-{code[5:]}"


def normalize(text: object) -> str | None:
    """The code as typed, in canonical form; None when it cannot be a code."""
    return crockford.normalize(text, CODE_LENGTH)


def issue_code(
    session: Session,
    seed_key: bytes,
    *,
    idempotency_key: str,
    instance_id: str,
    order_number: str | None,
    channel: str,
    now: datetime,
    validity: timedelta,
) -> tuple[str, ActivationCode]:
    """Store a new code's digest for this order; returns the code in clear, for the one
    place that shows it (a notice or a letter)."""
    code = derive_code(seed_key, idempotency_key)
    row = ActivationCode(
        instance_id=instance_id,
        order_number=order_number,
        code_hash=code_digest(seed_key, DIGEST_PURPOSE, code),
        channel=channel,
        issued_at=now,
        expires_at=now + validity,
    )
    session.add(row)
    session.flush()
    return code, row


def find_code(
    session: Session, seed_key: bytes, instance_id: str, order_number: str | None, code: str
) -> ActivationCode | None:
    """The code's row, locked, when it belongs to this instance or this order."""
    mine = ActivationCode.instance_id == instance_id
    return session.scalars(
        select(ActivationCode)
        .where(ActivationCode.code_hash == code_digest(seed_key, DIGEST_PURPOSE, code))
        .where(or_(mine, ActivationCode.order_number == order_number) if order_number else mine)
        .with_for_update()
    ).first()


def problem(row: ActivationCode | None, now: datetime) -> str | None:
    """Why a code found (or not) cannot be used now: wrong, used, expired; None if it can."""
    if row is None:
        return "wrong"
    if row.used_at is not None:
        return "used"
    if now >= row.expires_at:
        return "expired"
    return None


def redeem(
    session: Session,
    seed_key: bytes,
    *,
    subject: str,
    instance_id: str,
    order_number: str | None,
    typed: object,
    now: datetime,
) -> ActivationCode:
    """Spend the code typed for this order, once, before it expires. Refusals (CodeRefused)
    count towards a lockout of `subject` that outlives them."""
    try:
        check_allowed(session, RATE_SCOPE, subject, now)
    except RateLimited as exc:
        raise CodeRefused(None, exc.message) from None
    code = normalize(typed)
    row = find_code(session, seed_key, instance_id, order_number, code) if code else None
    reason = problem(row, now)
    if reason:
        left = record_failure(session, RATE_SCOPE, subject, now)
        raise CodeRefused(reason, MESSAGES[reason] + ("" if left else LOCKED_OUT))
    assert row is not None
    row.used_at = now
    reset(session, RATE_SCOPE, subject)
    return row
