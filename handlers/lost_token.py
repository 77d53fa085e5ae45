"""The `lost_token` process: block a lost token at once, then replace it.

The report revokes the token in the same step that accepts it, so a finder can sign in
with it not a moment longer. The customer then proves who they are with a code sent to
their registered phone (or, without one, by identity proofing again) and the
replacement is shipped and registered exactly like the first token
(`check_token_codes`, `token_delivered`). The credential keeps its term: only its
token changes. The rules are `domain.credentials.replacement`'s.
"""

from __future__ import annotations

from typing import Any

from adapters.messaging import MessageRejected
from domain.credentials.replacement import (
    CodeRefused,
    NotReportable,
    code_purpose,
    record_report,
    replace_token,
    report_of,
    reportable_token,
    revoke,
)
from domain.credentials.replacement import (
    check_loss_code as accept_loss_code,
)
from domain.phone.otp import registered_phone, send_code
from domain.shipping import stock
from domain.shipping.stock import shipping_address
from domain.shipping.tracking import record_shipment
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import credentials_link, send_email

DEFAULT_VALIDITY = "PT5M"


@registry.validator()
def check_lost_token(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """The serial must be a token registered to this customer and not yet reported."""
    try:
        token = reportable_token(ctx.session, ctx.owner_id, values.get("serial_number"))
    except NotReportable as exc:
        raise FieldErrors({"serial_number": str(exc)}) from None
    return {"lost_serial": token.serial, "serial_number": None}


@registry.handler()
def revoke_lost_token(ctx: HandlerContext) -> dict[str, Any]:
    """Block the token for good, record the report, and name the journey after the
    credential's order (the carrier's `token_delivered` correlates on it)."""
    serial = str(ctx.data["lost_serial"])
    credential, revoked = revoke(ctx.session, ctx.owner_id, serial)
    if revoked:
        ctx.audit("token.revoked", serial=serial, reason=ctx.data.get("circumstances"))
    record_report(
        ctx.session,
        credential,
        instance_id=ctx.instance_id,
        owner_id=ctx.owner_id,
        serial=serial,
        circumstances=str(ctx.data.get("circumstances") or "lost"),
        now=ctx.now,
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
            code_purpose(ctx.instance_id),
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
    try:
        accept_loss_code(
            ctx.session,
            ctx.services.seed_key,
            instance_id=ctx.instance_id,
            owner_id=ctx.owner_id,
            typed=str(values.get("code") or ""),
            now=ctx.now,
        )
    except CodeRefused as exc:
        if exc.reason is not None:
            ctx.audit("phone_otp.refused", reason=exc.reason)
        raise FieldErrors({"code": exc.message}) from None
    ctx.audit("phone_otp.accepted")
    return {"code": None, "phone_authenticated": True}


@registry.handler()
def allocate_replacement_token(ctx: HandlerContext) -> dict[str, Any]:
    """Reserve a token from inventory for the credential's order (once per report)."""
    report = report_of(ctx.session, ctx.instance_id)
    if report.replacement_serial is None:
        report.replacement_serial = stock.take_from_stock(
            ctx.session, report.order_number, ctx.audit
        )
    return {"token_serial": report.replacement_serial}


@registry.handler()
def ship_replacement_token(ctx: HandlerContext) -> dict[str, Any]:
    """Hand the replacement to the carrier, addressed from the report, and email the
    tracking number (the carrier and the email are both keyed by this task)."""
    report = report_of(ctx.session, ctx.instance_id)
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
    report = report_of(ctx.session, ctx.instance_id)
    credential = replace_token(ctx.session, report, ctx.now)
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
