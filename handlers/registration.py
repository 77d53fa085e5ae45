"""Token registration: the customer proves possession of the shipped token, and the
credential starts its one-year term.

Two consecutive codes prove possession far better than one, so registration searches a
wider window than login (the token may have sat in a drawer, or its button been pressed
in the box). Storing the match makes both codes unusable for ever after.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.credentials.models import Credential
from domain.orders.models import SalesOrder
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset
from domain.tokens.models import HardwareToken
from domain.tokens.otp import (
    REGISTRATION_HOTP_LOOKAHEAD,
    REGISTRATION_TOTP_WINDOW,
    find_consecutive_match,
)
from domain.tokens.seed_crypto import open_sealed
from engine.registry import FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.proofing import order_number

RATE_SCOPE = "token_registration"
SUBSCRIPTION_YEARS = 1
_SPACES = re.compile(r"\s+")


def normalize_serial(text: object) -> str:
    """Serials are printed in small type: ignore spaces and letter case when comparing."""
    return _SPACES.sub("", text).upper() if isinstance(text, str) else ""


def shipped_token(ctx: HandlerContext, *, lock: bool = False) -> HardwareToken | None:
    """The token that goes with the license key the customer entered (keys are
    transferable and each has its token, of this journey's order or of someone else's;
    see check_license_key): by its serial when known, else the first token allocated to
    the key's order."""
    own = order_number(ctx)
    number = ctx.data.get("license_order_number") or own
    serial = ctx.data.get("license_token_serial")
    if not serial and number == own:
        serial = ctx.data.get("token_serial")
    if isinstance(serial, str) and serial:
        query = select(HardwareToken).where(HardwareToken.serial == serial)
    else:
        if not number:
            return None
        query = select(HardwareToken).where(HardwareToken.order_number == number)
    if lock:
        query = query.with_for_update()
    return ctx.session.scalars(query.order_by(HardwareToken.id)).first()


def _refuse(field: str, message: str) -> FieldErrors:
    return FieldErrors({field: message})


@registry.validator()
def check_token_codes(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept the shipped token's serial with two consecutive fresh codes, then bind the
    token to the customer. Every refusal counts towards a lockout, because each try is
    another guess at a code."""
    subject = order_number(ctx) or ctx.instance_id
    try:
        check_allowed(ctx.session, RATE_SCOPE, subject, ctx.now)
    except RateLimited as exc:
        raise _refuse("code2", exc.message) from None
    token = shipped_token(ctx, lock=True)
    entered = normalize_serial(values.get("serial_number"))
    if token is None or token.status != "allocated":
        raise _refuse(
            "serial_number",
            "No token is waiting to be registered for this order. Please contact support.",
        )
    if entered != normalize_serial(token.serial):
        _failed(ctx, subject, "serial")
        raise _refuse(
            "serial_number",
            "This is not the serial number of the token we sent you. "
            "It is printed on the back of the token.",
        )
    secret = open_sealed(ctx.services.seed_key, token.sealed_secret, token.serial)
    window = REGISTRATION_TOTP_WINDOW if token.kind == "totp" else REGISTRATION_HOTP_LOOKAHEAD
    match = find_consecutive_match(
        token.otp_params(),
        secret,
        str(values.get("code1") or ""),
        str(values.get("code2") or ""),
        ctx.now,
        window,
    )
    if match is None:
        _failed(ctx, subject, "codes")
        raise _refuse(
            "code2",
            f"These are not two consecutive codes of token {token.serial}. "
            "Press the button, enter the code, wait for the next one and enter it.",
        )
    token.record_match(match)
    token.status, token.owner_id = "active", ctx.owner_id
    token.failures, token.locked_at = 0, None
    reset(ctx.session, RATE_SCOPE, subject)
    ctx.audit("token.registered", serial=token.serial, kind=token.kind)
    # Spent codes are worthless, but task data need not keep them.
    return {
        "code1": None,
        "code2": None,
        "token_serial": token.serial,
        "token_registered_at": ctx.now.isoformat(),
    }


def _failed(ctx: HandlerContext, subject: str, reason: str) -> None:
    record_failure(ctx.session, RATE_SCOPE, subject, ctx.now)
    ctx.audit("token.registration_refused", reason=reason)


def purchase_date(ctx: HandlerContext) -> datetime:
    """When the customer paid (the subscription runs from the purchase, not from the
    day the token was registered); without an order row, the journey's own record."""
    number = order_number(ctx)
    order = (
        ctx.session.scalars(select(SalesOrder).where(SalesOrder.order_number == number)).first()
        if number
        else None
    )
    if order is not None:
        return order.paid_at or order.created_at
    given = ctx.data.get("paid_at") or ctx.data.get("purchased_at")
    return datetime.fromisoformat(given) if isinstance(given, str) else ctx.now


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@registry.handler()
def activate_credential(ctx: HandlerContext) -> dict[str, Any]:
    """Record the active credential: its token and a term of one year from purchase. One
    per journey: an order of several tokens has one for each journey that entered one of
    its keys."""
    number = order_number(ctx) or ctx.instance_id
    credential = ctx.session.scalars(
        select(Credential).where(Credential.instance_id == ctx.instance_id)
    ).first()
    token = shipped_token(ctx, lock=True)
    if credential is None:
        purchased = purchase_date(ctx)
        credential = Credential(
            order_number=number,
            instance_id=ctx.instance_id,
            owner_id=ctx.owner_id,
            token_serial=token.serial if token else None,
            status="active",
            purchased_at=purchased,
            activated_at=ctx.now,
            expires_at=add_years(purchased, SUBSCRIPTION_YEARS),
        )
        ctx.session.add(credential)
        ctx.audit(
            "credential.activated",
            order_number=number,
            expires_at=credential.expires_at.isoformat(),
        )
        # From now on the `renewal` process watches the term: reminder, renewal, expiry.
        ctx.session.flush()
        ctx.start_process("renewal", {"order_number": number, "credential_id": credential.id})
    if token is not None and token.owner_id is None:
        token.owner_id = ctx.owner_id
    ctx.session.flush()
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
