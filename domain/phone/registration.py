"""Phone registration: a backup credential, proven by a short code sent by SMS or call.

Phone codes are six digits, so they are kept short-lived (a few minutes), allow only a
handful of tries each, and count towards a lockout besides; only the newest code works.
Like activation codes they are derived from the seed key and the task's idempotency key,
so a retried send repeats the same message, and stored only as a keyed digest.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.messaging import Channel, Messenger
from domain.codes import code_digest, derive_phone_code
from domain.phone.models import PhoneCode, PhoneCredential
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset
from domain.tokens.otp import normalize_code

MAX_TRIES_PER_CODE = 3
RATE_SCOPE = "phone_code"
DIGEST_PURPOSE = "phone"


class CodeRefused(Exception):
    """A registration code not accepted; `counted` when it was a wrong guess (a try of
    the code and a failure towards the lockout)."""

    def __init__(self, message: str, *, counted: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.counted = counted


def send_registration_code(
    session: Session,
    seed_key: bytes,
    messenger: Messenger,
    *,
    instance_id: str,
    number: str,
    channel: Channel,
    idempotency_key: str,
    now: datetime,
    validity: timedelta,
) -> PhoneCode:
    """Send one code under `idempotency_key` (the messenger's MessageRejected passes on)
    and store its digest."""
    code = derive_phone_code(seed_key, idempotency_key)
    text = f"Your Tokenflow verification code is {code}. It expires soon. Never share it."
    messenger.send_code(number, channel, text, idempotency_key)
    row = PhoneCode(
        instance_id=instance_id,
        phone_number=number,
        channel=channel,
        code_hash=code_digest(seed_key, DIGEST_PURPOSE, code),
        issued_at=now,
        expires_at=now + validity,
    )
    session.add(row)
    return row


def verify_registration_code(
    session: Session,
    seed_key: bytes,
    *,
    instance_id: str,
    subject: str,
    owner_id: int | None,
    order_number: str | None,
    typed: str,
    now: datetime,
) -> PhoneCredential:
    """Accept the newest code sent to the instance while it is fresh: the phone becomes
    the owner's backup credential. Refusals (CodeRefused) count towards a lockout of
    `subject` when the code typed was wrong."""
    try:
        check_allowed(session, RATE_SCOPE, subject, now)
    except RateLimited as exc:
        raise CodeRefused(exc.message) from None
    sent = session.scalars(
        select(PhoneCode)
        .where(PhoneCode.instance_id == instance_id)
        .order_by(PhoneCode.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if sent is None:
        raise RuntimeError(f"instance {instance_id} sent no phone code")
    if now >= sent.expires_at:
        raise CodeRefused("This code has expired. Wait a moment: you will be asked for a new one.")
    if sent.attempts >= MAX_TRIES_PER_CODE:
        raise CodeRefused("Too many wrong codes. Wait until you are asked for a new one.")
    code = normalize_code(typed)
    if code is None or not hmac.compare_digest(
        code_digest(seed_key, DIGEST_PURPOSE, code), sent.code_hash
    ):
        sent.attempts += 1
        record_failure(session, RATE_SCOPE, subject, now)
        raise CodeRefused("This code is not right. Check the message and try again.", counted=True)
    sent.used_at = now
    reset(session, RATE_SCOPE, subject)
    phone = PhoneCredential(
        owner_id=owner_id,
        order_number=order_number,
        phone_number=sent.phone_number,
        channel=sent.channel,
        verified_at=now,
    )
    session.add(phone)
    return phone
