"""The `lost_token` process: block a lost token at once, then replace it.

The report revokes the token in the same step that accepts it, so a finder can sign in
with it not a moment longer. The customer then proves who they are with a code sent to
their registered phone (or, without one, by identity proofing again) and the
replacement is shipped and registered exactly like the first token
(`check_token_codes`, `token_delivered`). The credential keeps its term: only its
token changes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adapters.messaging import MessageRejected
from domain.credentials.models import Credential, TokenReplacement
from domain.phone.otp import check_code, registered_phone, send_code
from domain.ratelimit import Limit, RateLimited, check_allowed, record_failure
from domain.shipping.tracking import record_shipment
from domain.tokens.models import HardwareToken
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import credentials_link, send_email
from handlers.registration import normalize_serial
from handlers.shipping import shipping_address, take_from_stock

CODE_SCOPE = "lost_token_code"
DEFAULT_VALIDITY = "PT5M"
# Codes are resent while the task waits, each with a few tries: this caps the tries of
# the whole report, after which only identity proofing is left.
CODE_LIMIT = Limit(max_failures=10, window=timedelta(days=30), lockout=timedelta(days=30))
_CODE_MESSAGES = {
    "wrong": "This code is not right. Check the message and try again.",
    "expired": "This code has expired. A new one is on its way shortly.",
    "exhausted": "Too many wrong tries for this code. A new one is on its way shortly.",
    "none": "No code is waiting. A new one is on its way shortly.",
}


def purpose(ctx: HandlerContext) -> str:
    return f"lost_token:{ctx.instance_id}"


def replacement(ctx: HandlerContext) -> TokenReplacement:
    found = ctx.session.scalars(
        select(TokenReplacement).where(TokenReplacement.instance_id == ctx.instance_id)
    ).first()
    if found is None:
        raise RuntimeError(f"instance {ctx.instance_id} has no lost-token report")
    return found


def credential_of(ctx: HandlerContext, serial: str) -> Credential | None:
    return ctx.session.scalars(
        select(Credential).where(
            Credential.token_serial == serial, Credential.owner_id == ctx.owner_id
        )
    ).first()


@registry.validator()
def check_lost_token(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """The serial must be a token registered to this customer and not yet reported."""
    serial = normalize_serial(values.get("serial_number"))
    token = ctx.session.scalars(
        select(HardwareToken).where(
            HardwareToken.serial == serial, HardwareToken.owner_id == ctx.owner_id
        )
    ).first()
    if token is None or credential_of(ctx, serial) is None:
        raise FieldErrors({"serial_number": "You have no registered token with this serial."})
    if token.status == "revoked":
        raise FieldErrors({"serial_number": "This token has already been blocked."})
    return {"lost_serial": token.serial, "serial_number": None}


@registry.handler()
def revoke_lost_token(ctx: HandlerContext) -> dict[str, Any]:
    """Block the token for good, record the report, and name the journey after the
    credential's order (the carrier's `token_delivered` correlates on it)."""
    serial = str(ctx.data["lost_serial"])
    token = ctx.session.scalars(
        select(HardwareToken).where(HardwareToken.serial == serial).with_for_update()
    ).one()
    credential = credential_of(ctx, serial)
    if credential is None:
        raise RuntimeError(f"token {serial} belongs to no credential of this customer")
    if token.status != "revoked":
        token.status = "revoked"
        ctx.audit("token.revoked", serial=serial, reason=ctx.data.get("circumstances"))
    if (
        ctx.session.scalar(
            select(TokenReplacement.id).where(TokenReplacement.instance_id == ctx.instance_id)
        )
        is None
    ):
        ctx.session.add(
            TokenReplacement(
                instance_id=ctx.instance_id,
                order_number=credential.order_number,
                owner_id=ctx.owner_id,
                lost_serial=serial,
                circumstances=str(ctx.data.get("circumstances") or "lost"),
                reported_at=ctx.now,
            )
        )
    ctx.set_business_key(credential.order_number)
    ctx.notice(revoked_serial=serial)
    has_phone = ctx.owner_id is not None and registered_phone(ctx.session, ctx.owner_id) is not None
    return {
        "order_number": credential.order_number,
        "lost_token_revoked_at": ctx.now.isoformat(),
        "has_phone": has_phone,
    }


@registry.handler()
def send_loss_code(ctx: HandlerContext) -> dict[str, Any]:
    """Send a sign-in code to the registered phone; a phone that is gone or refuses the
    message throws `phone_unreachable`, and the diagram turns to identity proofing."""
    phone = registered_phone(ctx.session, ctx.owner_id) if ctx.owner_id is not None else None
    if phone is None:
        raise BpmnError("phone_unreachable", "no registered phone")
    try:
        row = send_code(
            ctx.session,
            ctx.services,
            phone,
            purpose(ctx),
            ctx.now,
            idempotency_key=f"{ctx.idempotency_key}:loss",
            validity=parse_duration(ctx.config.get("validity") or DEFAULT_VALIDITY),
        )
    except MessageRejected as exc:
        raise BpmnError("phone_unreachable", str(exc)) from None
    ctx.audit("phone_otp.sent", channel=row.channel)
    return {
        "loss_code_phone": "•••" + phone.phone_number[-2:],
        "loss_code_expires_at": row.expires_at.isoformat(),
    }


@registry.validator()
def check_loss_code(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept the newest code sent for this report, or the customer's word that they
    cannot receive it (identity proofing follows). Wrong codes are capped per report."""
    if values.get("cannot_receive"):
        return {"code": None, "phone_authenticated": False}
    subject = ctx.instance_id
    try:
        check_allowed(ctx.session, CODE_SCOPE, subject, ctx.now)
    except RateLimited:
        raise FieldErrors(
            {
                "code": "Too many wrong codes. Tick 'I cannot receive the code' to prove "
                "your identity instead."
            }
        ) from None
    result = check_code(
        ctx.session,
        ctx.services.seed_key,
        ctx.owner_id or 0,
        purpose(ctx),
        str(values.get("code") or ""),
        ctx.now,
    )
    if result != "ok":
        record_failure(ctx.session, CODE_SCOPE, subject, ctx.now, CODE_LIMIT)
        ctx.audit("phone_otp.refused", reason=result)
        raise FieldErrors({"code": _CODE_MESSAGES[result]})
    ctx.audit("phone_otp.accepted")
    return {"code": None, "phone_authenticated": True}


@registry.handler()
def allocate_replacement_token(ctx: HandlerContext) -> dict[str, Any]:
    """Reserve a token from inventory for the credential's order (once per report)."""
    report = replacement(ctx)
    if report.replacement_serial is None:
        report.replacement_serial = take_from_stock(ctx, report.order_number)
    return {"token_serial": report.replacement_serial}


@registry.handler()
def ship_replacement_token(ctx: HandlerContext) -> dict[str, Any]:
    """Hand the replacement to the carrier, addressed from the report, and email the
    tracking number (the carrier and the email are both keyed by this task)."""
    report = replacement(ctx)
    if report.replacement_serial is None:
        raise RuntimeError("no replacement token is allocated")
    shipment = ctx.services.adapters.carrier.ship(
        report.order_number,
        report.replacement_serial,
        shipping_address(ctx.data),
        ctx.idempotency_key,
        ctx.now,
    )
    record_shipment(ctx.session, shipment.tracking_number, report.order_number, ctx.now)
    send_email(
        ctx,
        "token_shipped",
        **credentials_link(ctx),
        order_number=report.order_number,
        tracking_number=shipment.tracking_number,
        estimated_delivery=shipment.estimated_delivery,
    )
    ctx.audit("token.shipped", order_number=report.order_number, serial=report.replacement_serial)
    return {
        "tracking_number": shipment.tracking_number,
        "estimated_delivery": shipment.estimated_delivery.isoformat(),
    }


@registry.handler()
def activate_replacement(ctx: HandlerContext) -> dict[str, Any]:
    """The replacement is registered: the credential now names it, for its unchanged term."""
    report = replacement(ctx)
    credential = ctx.session.scalars(
        select(Credential)
        .where(
            Credential.order_number == report.order_number,
            Credential.token_serial == report.lost_serial,
        )
        .with_for_update()
    ).one()
    credential.token_serial = report.replacement_serial
    report.registered_at = report.registered_at or ctx.now
    ctx.audit("credential.token_replaced", old=report.lost_serial, new=report.replacement_serial)
    send_email(
        ctx,
        "registration_complete",
        **credentials_link(ctx),
        order_number=report.order_number,
        serial_number=report.replacement_serial or "",
        expires_on=credential.expires_at.isoformat(),
    )
    return {"credential_expires_at": credential.expires_at.isoformat()}
