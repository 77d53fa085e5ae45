"""Sign-in codes sent to the customer's registered phone (the backup credential).

A code is six digits, so it lives a few minutes, allows a few tries, works once, and only
the newest code of a purpose counts. Each code belongs to one purpose (an application, a
lost-token report): a code an attacker had sent through one application is worthless at
another. Codes come from `domain.codes.derive_phone_code` over a key, as registration codes do,
so a retried send repeats the same message; they are stored only as keyed digests.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.codes import code_digest, derive_phone_code
from domain.phone.models import PhoneCredential, PhoneOtp
from domain.tokens.otp import normalize_code

VALIDITY = timedelta(minutes=5)
MAX_TRIES = 3
# Each code sent costs money and reaches a person's pocket: at most this many a window.
MAX_SENDS = 5
SEND_WINDOW = timedelta(minutes=15)
DIGEST_PURPOSE = "phone-otp"


class TooManyCodes(Exception):
    """Too many codes were sent to this customer lately."""


def app_purpose(app_id: int) -> str:
    return f"app:{app_id}"


def registered_phone(session: Session, owner_id: int) -> PhoneCredential | None:
    """The customer's newest verified phone that is not revoked."""
    return session.scalars(
        select(PhoneCredential)
        .where(PhoneCredential.owner_id == owner_id, PhoneCredential.revoked_at.is_(None))
        .order_by(PhoneCredential.id.desc())
        .limit(1)
    ).first()


def check_send_rate(session: Session, owner_id: int, now: datetime) -> None:
    """Raise TooManyCodes when MAX_SENDS codes went to this customer within SEND_WINDOW."""
    sent = session.scalar(
        select(func.count())
        .select_from(PhoneOtp)
        .where(PhoneOtp.owner_id == owner_id, PhoneOtp.issued_at > now - SEND_WINDOW)
    )
    if (sent or 0) >= MAX_SENDS:
        raise TooManyCodes("Too many codes were sent lately. Wait a few minutes.")


def send_code(
    session: Session,
    services: Any,
    phone: PhoneCredential,
    purpose: str,
    now: datetime,
    *,
    idempotency_key: str | None = None,
    validity: timedelta = VALIDITY,
) -> PhoneOtp:
    """Send a new code for `purpose` to `phone` (the adapter's MessageRejected passes on)
    and store its digest. Without an idempotency key the code is random."""
    key = idempotency_key or f"phone-otp:{secrets.token_hex(16)}"
    code = derive_phone_code(services.seed_key, key)
    minutes = max(1, int(validity.total_seconds() // 60))
    text = (
        f"Your Tokenflow sign-in code is {code}. It expires in {minutes} minutes. Never share it."
    )
    services.adapters.messaging.send_code(phone.phone_number, phone.channel, text, key)
    row = PhoneOtp(
        owner_id=phone.owner_id,
        purpose=purpose,
        channel=phone.channel,
        code_hash=code_digest(services.seed_key, DIGEST_PURPOSE, code),
        issued_at=now,
        expires_at=now + validity,
    )
    session.add(row)
    session.flush()
    return row


def check_code(
    session: Session, seed_key: bytes, owner_id: int, purpose: str, code: str, now: datetime
) -> str:
    """`ok` (the code is now spent), `wrong` (a try counted), `expired` or `exhausted`
    (the right code, but too late or after too many tries), or `none` (no code waits)."""
    row = session.scalars(
        select(PhoneOtp)
        .where(PhoneOtp.owner_id == owner_id, PhoneOtp.purpose == purpose)
        .order_by(PhoneOtp.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None or row.used_at is not None:
        return "none"
    typed = normalize_code(code)
    right = typed is not None and hmac.compare_digest(
        code_digest(seed_key, DIGEST_PURPOSE, typed), row.code_hash
    )
    if now >= row.expires_at or row.attempts >= MAX_TRIES:
        # Only the code itself learns why it no longer works; other input finds none.
        return ("expired" if now >= row.expires_at else "exhausted") if right else "none"
    if not right:
        row.attempts += 1
        return "wrong"
    row.used_at = now
    return "ok"
