"""Phone registration: a backup credential, proven by a short code sent by SMS or call
(`domain.phone.registration` makes, keeps and checks the codes). A number the provider
refuses throws `phone_rejected`; the diagram's timer asks for a new code when one expires.
"""

from __future__ import annotations

from typing import Any

from adapters.messaging import MessageRejected, as_channel, validate_e164
from domain.phone.registration import CodeRefused, send_registration_code, verify_registration_code
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.proofing import order_number

DEFAULT_VALIDITY = "PT10M"


@registry.handler()
def send_phone_code(ctx: HandlerContext) -> dict[str, Any]:
    """Send a code to the phone the customer gave. A number the provider refuses throws
    `phone_rejected`, and the diagram asks for another number."""
    number = validate_e164(str(ctx.data.get("phone_number") or ""))
    channel = as_channel(ctx.data.get("channel") or "sms")
    validity = ctx.config.get("validity") or DEFAULT_VALIDITY
    try:
        row = send_registration_code(
            ctx.session,
            ctx.services.seed_key,
            ctx.services.adapters.messaging,
            instance_id=ctx.instance_id,
            number=number,
            channel=channel,
            idempotency_key=ctx.idempotency_key,
            now=ctx.now,
            validity=parse_duration(validity),
        )
    except MessageRejected as exc:
        raise BpmnError("phone_rejected", str(exc), {"phone_error": str(exc)}) from None
    ctx.audit("phone_code.sent", channel=channel)
    return {
        "phone_number": number,
        "phone_code_expires_at": row.expires_at.isoformat(),
        "phone_error": None,
    }


@registry.validator()
def check_phone_code(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept the newest code sent in this journey while it is fresh; on success the phone
    becomes the customer's backup credential. An expired code is the diagram's business
    (its timer goes back to `register_phone`); this only guards the instant before."""
    number = order_number(ctx)
    try:
        phone = verify_registration_code(
            ctx.session,
            ctx.services.seed_key,
            instance_id=ctx.instance_id,
            subject=number or ctx.instance_id,
            owner_id=ctx.owner_id,
            order_number=number,
            typed=str(values.get("code") or ""),
            now=ctx.now,
        )
    except CodeRefused as exc:
        if exc.counted:
            ctx.audit("phone_code.refused")
        raise FieldErrors({"code": exc.message}) from None
    ctx.audit("phone.verified", channel=phone.channel)
    # The field is not sensitive; a spent code is worthless, but it need not be kept.
    return {"code": None, "phone_verified_at": ctx.now.isoformat()}
