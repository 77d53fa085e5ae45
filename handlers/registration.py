"""Token registration: the customer proves possession of the shipped token, and the
credential starts its one-year term (`domain.credentials.registration`). These read the
task (which token goes with the key entered, the codes typed) and report what happened.
"""

from __future__ import annotations

from typing import Any

from domain.credentials.registration import (
    RegistrationRefused,
    Shipped,
    register_token,
)
from domain.credentials.registration import (
    activate_credential as open_credential,
)
from engine.registry import FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.proofing import order_number


def shipped(ctx: HandlerContext) -> Shipped:
    """The token that goes with the license key the customer entered (keys are
    transferable and each has its token, of this journey's order or of someone else's;
    see check_license_key): by its serial when known, else the first token allocated to
    the key's order."""
    own = order_number(ctx)
    number = ctx.data.get("license_order_number") or own
    serial = ctx.data.get("license_token_serial")
    if not serial and number == own:
        serial = ctx.data.get("token_serial")
    return Shipped(serial if isinstance(serial, str) and serial else None, number)


@registry.validator()
def check_token_codes(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept the shipped token's serial with two consecutive fresh codes, then bind the
    token to the customer. Every refusal counts towards a lockout, because each try is
    another guess at a code."""
    try:
        token = register_token(
            ctx.session,
            ctx.services.seed_key,
            shipped(ctx),
            subject=order_number(ctx) or ctx.instance_id,
            serial=values.get("serial_number"),
            code1=str(values.get("code1") or ""),
            code2=str(values.get("code2") or ""),
            owner_id=ctx.owner_id,
            now=ctx.now,
        )
    except RegistrationRefused as exc:
        if exc.reason is not None:
            ctx.audit("token.registration_refused", reason=exc.reason)
        raise FieldErrors({exc.field: exc.message}) from None
    ctx.audit("token.registered", serial=token.serial, kind=token.kind)
    # Spent codes are worthless, but task data need not keep them.
    return {
        "code1": None,
        "code2": None,
        "token_serial": token.serial,
        "token_registered_at": ctx.now.isoformat(),
    }


@registry.handler()
def activate_credential(ctx: HandlerContext) -> dict[str, Any]:
    """Record the active credential: its token and a term of one year from purchase. One
    per journey: an order of several tokens has one for each journey that entered one of
    its keys."""
    credential, opened = open_credential(
        ctx.session,
        shipped(ctx),
        instance_id=ctx.instance_id,
        order_number=order_number(ctx),
        owner_id=ctx.owner_id,
        given_purchase=ctx.data.get("paid_at") or ctx.data.get("purchased_at"),
        now=ctx.now,
    )
    if opened:
        ctx.audit(
            "credential.activated",
            order_number=credential.order_number,
            expires_at=credential.expires_at.isoformat(),
        )
        # From now on the `renewal` process watches the term: reminder, renewal, expiry.
        ctx.start_process(
            "renewal", {"order_number": credential.order_number, "credential_id": credential.id}
        )
    return {
        "credential_status": credential.status,
        "credential_expires_at": credential.expires_at.isoformat(),
    }


@registry.handler()
def send_registration_complete(ctx: HandlerContext) -> dict[str, Any]:
    """Tell the customer the token works and until when."""
    send_email(
        ctx,
        "registration_complete",
        order_number=order_number(ctx) or "",
        serial_number=ctx.data.get("token_serial") or "",
        expires_on=ctx.data["credential_expires_at"],
    )
    return {"registration_email_sent_at": ctx.now.isoformat()}
