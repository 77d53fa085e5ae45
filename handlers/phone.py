"""Phone registration: a backup credential, proven by a short code sent by SMS or call.

Phone codes are six digits, so they are kept short-lived (a few minutes), allow only a
handful of tries each, and count towards a lockout besides; only the newest code works.
Like activation codes they are derived from the seed key and the task's idempotency key,
so a retried send repeats the same message, and stored only as a keyed digest.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import select

from adapters.messaging import MessageRejected, validate_e164
from domain.codes import code_digest, derive_phone_code
from domain.phone.models import PhoneCode, PhoneCredential
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset
from domain.tokens.otp import normalize_code
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.proofing import order_number

DEFAULT_VALIDITY = "PT10M"
MAX_TRIES_PER_CODE = 3
RATE_SCOPE = "phone_code"


def _send(ctx: HandlerContext, number: str, channel: str, key: str, validity: str) -> PhoneCode:
    """Send one code under idempotency key `key` and store its digest."""
    code = derive_phone_code(ctx.services.seed_key, key)
    text = f"Your Tokenflow verification code is {code}. It expires soon. Never share it."
    ctx.services.adapters.messaging.send_code(number, channel, text, key)
    row = PhoneCode(
        instance_id=ctx.instance_id,
        phone_number=number,
        channel=channel,
        code_hash=code_digest(ctx.services.seed_key, "phone", code),
        issued_at=ctx.now,
        expires_at=ctx.now + parse_duration(validity),
    )
    ctx.session.add(row)
    ctx.audit("phone_code.sent", channel=channel)
    return row


@registry.handler()
def send_phone_code(ctx: HandlerContext) -> dict[str, Any]:
    """Send a code to the phone the customer gave. A number the provider refuses throws
    `phone_rejected`, and the diagram asks for another number."""
    number = validate_e164(str(ctx.data.get("phone_number") or ""))
    channel = str(ctx.data.get("channel") or "sms")
    validity = ctx.config.get("validity") or DEFAULT_VALIDITY
    try:
        row = _send(ctx, number, channel, ctx.idempotency_key, validity)
    except MessageRejected as exc:
        raise BpmnError("phone_rejected", str(exc), {"phone_error": str(exc)}) from None
    return {
        "phone_number": number,
        "phone_code_expires_at": row.expires_at.isoformat(),
        "phone_error": None,
    }


def _refuse(message: str) -> FieldErrors:
    return FieldErrors({"code": message})


@registry.validator()
def check_phone_code(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept the newest code sent in this journey while it is fresh; on success the phone
    becomes the customer's backup credential. An expired code is the diagram's business
    (its timer goes back to `register_phone`); this only guards the instant before."""
    subject = order_number(ctx) or ctx.instance_id
    try:
        check_allowed(ctx.session, RATE_SCOPE, subject, ctx.now)
    except RateLimited as exc:
        raise _refuse(exc.message) from None
    sent = ctx.session.scalars(
        select(PhoneCode)
        .where(PhoneCode.instance_id == ctx.instance_id)
        .order_by(PhoneCode.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if sent is None:
        raise RuntimeError(f"instance {ctx.instance_id} sent no phone code")
    if ctx.now >= sent.expires_at:
        raise _refuse("This code has expired. Wait a moment: you will be asked for a new one.")
    if sent.attempts >= MAX_TRIES_PER_CODE:
        raise _refuse("Too many wrong codes. Wait until you are asked for a new one.")
    typed = normalize_code(str(values.get("code") or ""))
    if typed is None or not hmac.compare_digest(
        code_digest(ctx.services.seed_key, "phone", typed), sent.code_hash
    ):
        sent.attempts += 1
        record_failure(ctx.session, RATE_SCOPE, subject, ctx.now)
        ctx.audit("phone_code.refused")
        raise _refuse("This code is not right. Check the message and try again.")
    sent.used_at = ctx.now
    reset(ctx.session, RATE_SCOPE, subject)
    ctx.session.add(
        PhoneCredential(
            owner_id=ctx.owner_id,
            order_number=order_number(ctx),
            phone_number=sent.phone_number,
            channel=sent.channel,
            verified_at=ctx.now,
        )
    )
    ctx.audit("phone.verified", channel=sent.channel)
    # The field is not sensitive; a spent code is worthless, but it need not be kept.
    return {"code": None, "phone_verified_at": ctx.now.isoformat()}
