"""Payment: card charges, invoices, reminders, and recording a payment.

Card data arrives in `ctx.secrets` (the checkout form marks it sensitive), goes to the
payment adapter and nowhere else: not into task data, the order row, logs or the audit
trail. It lives only in memory for the step that follows checkout, so a retry of
`charge_card` (a job run later) has none: it then sends the customer back to checkout
to enter the card again, rather than failing until an incident.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adapters.payment import ChargeResult, PaymentUnavailable
from domain.orders.models import CardCharge
from engine.registry import BpmnError, HandlerContext
from handlers import registry
from handlers.catalog import quote_of
from handlers.notifications import send_email
from handlers.orders import iso, order_of, quantity_of

CARD_FIELDS = ("card_number", "card_expiry", "card_cvc")
DEFAULT_CANCEL_AFTER_DAYS = 30
ASK_AGAIN = "Please enter your card details again: the payment could not be completed."


def charge_entered_card(
    ctx: HandlerContext, reference: str, amount_cents: int, currency: str
) -> ChargeResult:
    """Charge the card of the form just completed (`ctx.secrets`), keyed by this task.
    Missing card data (a retried run has none), an unreachable processor or a decline
    throw `card_declined` with `payment_error` for the form that asks again."""
    card = {name: ctx.secrets.get(name) for name in CARD_FIELDS}
    if not all(isinstance(value, str) and value for value in card.values()):
        raise BpmnError("card_declined", ASK_AGAIN, data={"payment_error": ASK_AGAIN})
    try:
        result = ctx.services.adapters.payment.charge(
            reference,
            amount_cents,
            currency,
            card["card_number"],
            card["card_expiry"],
            card["card_cvc"],
            idempotency_key=ctx.idempotency_key,
        )
    except PaymentUnavailable:
        # A retry would have no card data (it is never stored): ask for it again.
        raise BpmnError("card_declined", ASK_AGAIN, data={"payment_error": ASK_AGAIN}) from None
    if not result.approved:
        ctx.audit("payment.declined", code=result.decline_code)
        reason = result.decline_reason or "Your card was declined."
        raise BpmnError("card_declined", reason, data={"payment_error": reason})
    return result


@registry.handler()
def charge_card(ctx: HandlerContext) -> dict[str, Any]:
    """Charge the price quoted for the chosen product times the quantity. It runs right
    after checkout, before any order exists (a declined card leaves no order behind); the
    charge is keyed by this task, so each checkout attempt is charged at most once. A decline throws
    `card_declined`, whose boundary event returns the customer to checkout with
    `payment_error` shown."""
    quote = quote_of(ctx)
    amount = quote.unit_price_cents * quantity_of(ctx.data)
    reference = ctx.business_key or ctx.instance_id
    result = charge_entered_card(ctx, reference, amount, quote.currency)
    if ctx.session.scalar(select(CardCharge.id).where(CardCharge.charge_id == result.charge_id)):
        return {"payment_error": None}  # a repeated run: the adapter returned the same charge
    ctx.session.add(
        CardCharge(
            instance_id=ctx.instance_id,
            charge_id=result.charge_id,
            product=quote.product,
            amount_cents=amount,
            currency=quote.currency,
            card_last4=result.card_last4 or None,
            charged_at=ctx.now,
        )
    )
    ctx.audit("payment.charged", charge_id=result.charge_id, amount_cents=amount)
    # The charge id lives in CardCharge; task data only learns that payment went through.
    return {"payment_error": None}


@registry.handler()
def issue_invoice(ctx: HandlerContext) -> dict[str, Any]:
    """Issue the invoice through the payment adapter and email it."""
    order = order_of(ctx, lock=True)
    invoice = ctx.services.adapters.payment.issue_invoice(
        order.order_number, order.amount_cents, order.po_number, ctx.idempotency_key
    )
    order.payment_method = "invoice"
    order.invoice_number, order.invoice_due = invoice.invoice_number, invoice.due_date
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
    send_email(
        ctx,
        "payment_reminder",
        order_number=order.order_number,
        invoice_number=order.invoice_number or order.order_number,
        amount_cents=order.amount_cents,
        currency=order.currency,
        due_date=order.invoice_due or (order.created_at + timedelta(days=days)).date(),
        cancel_on=(order.created_at + timedelta(days=days)).date(),
    )
    reminders = int(ctx.data.get("payment_reminders_sent") or 0) + 1
    return {"payment_reminders_sent": reminders}


@registry.handler()
def record_payment(ctx: HandlerContext) -> dict[str, Any]:
    """Mark the order paid: after an approved card charge, or when the `payment_received`
    message for the invoice arrived (its data may carry a bank `reference`). A card
    order already carries its charge's id from `create_sales_order`."""
    order = order_of(ctx, lock=True)
    if order.status == "cancelled":
        raise RuntimeError(f"order {order.order_number} was cancelled; refund the payment")
    if order.status != "paid":
        reference = _payment_reference(ctx.data)
        order.status, order.paid_at = "paid", ctx.now
        order.payment_reference = reference or order.payment_reference
        ctx.audit("payment.recorded", order_number=order.order_number)
    return {"order_status": order.status, "paid_at": iso(order.paid_at)}


def _payment_reference(data: Any) -> str | None:
    """The reference finance sent with the `payment_received` message, if any."""
    message = data.get("payment_received")
    if isinstance(message, dict) and message.get("reference"):
        return str(message["reference"])[:200]
    return None
