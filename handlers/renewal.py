"""The `renewal` process: remind, take a renewal payment, extend or expire the credential.

The diagram owns the calendar (a reminder `remind_before` the expiry, the expiry itself,
a grace period for late renewals); these handlers keep the credential row
(`domain.credentials.renewal`) and the timers' variables in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.credentials.models import Credential
from domain.credentials.renewal import (
    apply_renewals,
    charged_by,
    credential_to_renew,
    expire,
    record_renewal,
    term,
)
from domain.orders.orders import CURRENCY
from engine.durations import parse_duration
from engine.registry import BpmnError, HandlerContext
from handlers import registry
from handlers.notifications import credentials_link, send_email
from handlers.payment import charge_entered_card

DEFAULT_REMIND_BEFORE = "P30D"
DEFAULT_GRACE = "P90D"
DEFAULT_AMOUNT_CENTS = 1900


def credential_of(ctx: HandlerContext, *, lock: bool = False) -> Credential | None:
    """The `order_number` variable's credential (and `credential_id`'s, when set); without
    one (a customer renewing on their own) the customer's credential that expires last."""
    number = ctx.data.get("order_number")
    credential_id = ctx.data.get("credential_id")
    return credential_to_renew(
        ctx.session,
        order_number=number if isinstance(number, str) and number else None,
        credential_id=credential_id if isinstance(credential_id, int) else None,
        owner_id=ctx.owner_id,
        lock=lock,
    )


def _required(ctx: HandlerContext) -> Credential:
    credential = credential_of(ctx, lock=True)
    if credential is None:
        raise RuntimeError(f"instance {ctx.instance_id} has no credential to renew")
    return credential


def term_variables(ctx: HandlerContext, expires_at: datetime) -> dict[str, Any]:
    """When the reminder, the expiry and the end of the grace period fall (ISO 8601, for
    the diagram's timeDate timers); a reminder already due fires at once."""
    dates = term(
        expires_at,
        parse_duration(ctx.config.get("remind_before") or DEFAULT_REMIND_BEFORE),
        parse_duration(ctx.config.get("grace") or DEFAULT_GRACE),
        ctx.now,
    )
    return {
        "credential_expires_at": dates.expires_at.isoformat(),
        "subscription_reminder_at": dates.remind_at.isoformat(),
        "subscription_closes_at": dates.closes_at.isoformat(),
    }


@registry.handler()
def load_subscription(ctx: HandlerContext) -> dict[str, Any]:
    """Find the credential to watch and set the timers' dates. A customer without a
    credential throws `no_credential`."""
    credential = credential_of(ctx)
    if credential is None or credential.status == "revoked":
        raise BpmnError("no_credential", "nothing to renew")
    ctx.set_business_key(credential.order_number)
    return {"order_number": credential.order_number, **term_variables(ctx, credential.expires_at)}


@registry.handler()
def send_renewal_reminder(ctx: HandlerContext) -> dict[str, Any]:
    """Email that the credential expires soon and how renewal counts."""
    credential = _required(ctx)
    send_email(
        ctx,
        "renewal_reminder",
        **credentials_link(ctx),
        order_number=credential.order_number,
        expires_on=credential.expires_at.isoformat(),
    )
    return {"renewal_reminded_at": ctx.now.isoformat()}


@registry.handler()
def charge_renewal(ctx: HandlerContext) -> dict[str, Any]:
    """Charge the renewal (`amount_cents` on the task) to the card just entered and record
    the term it buys. A decline throws `card_declined` with `payment_error`."""
    credential = _required(ctx)
    if charged_by(ctx.session, ctx.task_id):
        return {"payment_error": None}  # this task charged already (a repeated run)
    amount = int(ctx.config.get("amount_cents") or DEFAULT_AMOUNT_CENTS)
    result = charge_entered_card(ctx, credential.order_number, amount, CURRENCY)
    record_renewal(
        ctx.session,
        credential,
        instance_id=ctx.instance_id,
        task_id=ctx.task_id,
        charge_id=result.charge_id,
        amount_cents=amount,
        currency=CURRENCY,
        now=ctx.now,
    )
    ctx.audit("renewal.paid", order_number=credential.order_number, amount_cents=amount)
    # As in charge_card, the charge id stays out of the output (it could echo the CVC).
    return {"payment_error": None}


@registry.handler()
def extend_credential(ctx: HandlerContext) -> dict[str, Any]:
    """Apply the paid renewal: twelve more months from the expiry it was bought for, and
    an expired credential is active again."""
    credential = _required(ctx)
    apply_renewals(ctx.session, credential, ctx.instance_id, ctx.now)
    ctx.audit(
        "credential.renewed",
        order_number=credential.order_number,
        expires_at=credential.expires_at.isoformat(),
    )
    ctx.notice(credential_expires_at=credential.expires_at.isoformat())
    return {**term_variables(ctx, credential.expires_at), "payment_error": None}


@registry.handler()
def expire_credential(ctx: HandlerContext) -> dict[str, Any]:
    """The term ended unrenewed: the credential verifies no more codes; tell the customer
    once (renewal stays open for the grace period)."""
    credential = _required(ctx)
    if expire(credential, ctx.now):
        ctx.audit("credential.expired", order_number=credential.order_number)
        send_email(
            ctx,
            "credential_expired",
            **credentials_link(ctx),
            order_number=credential.order_number,
            expired_on=credential.expires_at.isoformat(),
        )
    return {"credential_status": credential.status}
