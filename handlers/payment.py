"""Payment: card charges, invoices, reminders, and recording a payment.

Card data arrives in `ctx.secrets` (the checkout form marks it sensitive), goes to the
payment adapter and nowhere else: not into task data, the order row, logs or the audit
trail. It lives only in memory for the step that follows checkout, so a retry of
`charge_card` (a job run later) has none: it then sends the customer back to checkout
to enter the card again, rather than failing until an incident. The rules are
`domain.orders.payments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.payment import ChargeResult
from domain.orders import payments
from domain.orders.orders import quantity_of
from domain.orders.payments import CARD_FIELDS, DEFAULT_CANCEL_AFTER_DAYS, CardNotCharged
from engine.registry import BpmnError, HandlerContext
from handlers import registry
from handlers.catalog import quote_of
from handlers.notifications import send_email
from handlers.orders import iso, order_of


def charge_entered_card(
    ctx: HandlerContext, reference: str, amount_cents: int, currency: str
) -> ChargeResult:
    """Charge the card of the form just completed (`ctx.secrets`), keyed by this task.
    Missing card data (a retried run has none), an unreachable processor or a decline
    throw `card_declined` with `payment_error` for the form that asks again."""
    card = {name: ctx.secrets.get(name) for name in CARD_FIELDS}
    try:
        return payments.charge_card(
            ctx.services.adapters.payment,
            card,
            reference,
            amount_cents,
            currency,
            ctx.idempotency_key,
            ctx.audit,
        )
    except CardNotCharged as refused:
        raise BpmnError(
            "card_declined", refused.reason, data={"payment_error": refused.reason}
        ) from None


@registry.handler()
def charge_card(ctx: HandlerContext) -> dict[str, Any]:
    """Charge the price quoted for the chosen product times the quantity. It runs right
    after checkout, before any order exists (a declined card leaves no order behind); the
    charge is keyed by this task, so each checkout attempt is charged at most once. A decline throws
    `card_declined`, whose boundary event returns the customer to checkout with
    `payment_error` shown."""
    quote = quote_of(ctx)
    amount = payments.price_of(quote, quantity_of(ctx.data))
    reference = ctx.business_key or ctx.instance_id
    result = charge_entered_card(ctx, reference, amount, quote.currency)
    payments.record_charge(ctx.session, ctx.instance_id, result, quote, amount, ctx.now, ctx.audit)
    # The charge id lives in CardCharge; task data only learns that payment went through.
    return {"payment_error": None}


@registry.handler()
def issue_invoice(ctx: HandlerContext) -> dict[str, Any]:
    """Issue the invoice through the payment adapter and email it."""
    order = order_of(ctx, lock=True)
    invoice = payments.issue_invoice(ctx.services.adapters.payment, order, ctx.idempotency_key)
    send_email(
        ctx,
        "invoice",
        order_number=order.order_number,
        invoice_number=invoice.invoice_number,
        amount_cents=order.amount_cents,
        currency=order.currency,
        due_date=invoice.due_date,
        po_number=order.po_number,
    )
    return {"invoice_number": invoice.invoice_number, "invoice_due": invoice.due_date.isoformat()}


@registry.handler()
def send_payment_reminder(ctx: HandlerContext) -> dict[str, Any]:
    """Remind the customer of the unpaid invoice and of the day the order is cancelled
    (`cancel_after_days` property, counted from the order; the diagram's timer decides)."""
    order = order_of(ctx)
    if order.status != "open":
        return {}
    days = int(ctx.config.get("cancel_after_days") or DEFAULT_CANCEL_AFTER_DAYS)
    cancel_on = payments.cancel_on(order, days)
    send_email(
        ctx,
        "payment_reminder",
        order_number=order.order_number,
        invoice_number=order.invoice_number or order.order_number,
        amount_cents=order.amount_cents,
        currency=order.currency,
        due_date=order.invoice_due or cancel_on,
        cancel_on=cancel_on,
    )
    reminders = int(ctx.data.get("payment_reminders_sent") or 0) + 1
    return {"payment_reminders_sent": reminders}


@registry.handler()
def record_payment(ctx: HandlerContext) -> dict[str, Any]:
    """Mark the order paid: after an approved card charge, or when the `payment_received`
    message for the invoice arrived (its data may carry a bank `reference`). A card
    order already carries its charge's id from `create_sales_order`."""
    order = order_of(ctx, lock=True)
    payments.record_payment(order, _payment_reference(ctx.data), ctx.now, ctx.audit)
    return {"order_status": order.status, "paid_at": iso(order.paid_at)}


def _payment_reference(data: Mapping[str, Any]) -> str | None:
    """The reference finance sent with the `payment_received` message, if any."""
    message = data.get("payment_received")
    if isinstance(message, dict) and message.get("reference"):
        return str(message["reference"])[:200]
    return None
