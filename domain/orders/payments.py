"""Payments: card charges, invoices, recording a payment, and refunds.

Card data reaches `charge_card` as plain arguments, goes to the payment adapter and
nowhere else: not into a row, a log or the audit trail. The card is charged before any
order exists (a declined card leaves no order behind), so an approved charge is kept as a
`CardCharge` until the order takes over its reference (`orders.remember_checkout`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.payment import ChargeResult, Invoice, PaymentGateway, PaymentUnavailable
from domain.auditing import Audit
from domain.catalog.prices import Quote
from domain.orders.models import CardCharge, SalesOrder

CARD_FIELDS = ("card_number", "card_expiry", "card_cvc")
# An invoice unpaid this many days after the order is cancelled, unless the diagram says.
DEFAULT_CANCEL_AFTER_DAYS = 30
ASK_AGAIN = "Please enter your card details again: the payment could not be completed."
DECLINED = "Your card was declined."


class CardNotCharged(Exception):
    """Nothing was charged; `reason` is what the customer is told when asked again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def price_of(quote: Quote, quantity: int) -> int:
    """What an order of `quantity` units at `quote` costs."""
    return quote.unit_price_cents * quantity


def charge_card(
    gateway: PaymentGateway,
    card: Mapping[str, object],
    reference: str,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    audit: Audit,
) -> ChargeResult:
    """Charge `card` (its CARD_FIELDS), keyed by `idempotency_key`. Missing card data (a
    retried run has none: it is never stored), an unreachable processor or a decline
    raise CardNotCharged; a decline is audited with the processor's code."""
    filled = [value for name in CARD_FIELDS if isinstance(value := card.get(name), str) and value]
    if len(filled) != len(CARD_FIELDS):
        raise CardNotCharged(ASK_AGAIN)
    number, expiry, cvc = filled
    try:
        result = gateway.charge(
            reference,
            amount_cents,
            currency,
            number,
            expiry,
            cvc,
            idempotency_key=idempotency_key,
        )
    except PaymentUnavailable:
        # A retry would have no card data (it is never stored): ask for it again.
        raise CardNotCharged(ASK_AGAIN) from None
    if not result.approved:
        audit("payment.declined", code=result.decline_code)
        raise CardNotCharged(result.decline_reason or DECLINED)
    return result


def record_charge(
    session: Session,
    instance_id: str,
    result: ChargeResult,
    quote: Quote,
    amount_cents: int,
    now: datetime,
    audit: Audit,
) -> None:
    """Keep an approved charge for the order to come; a repeated run (the adapter
    returned the same charge) keeps nothing twice."""
    if session.scalar(select(CardCharge.id).where(CardCharge.charge_id == result.charge_id)):
        return
    session.add(
        CardCharge(
            instance_id=instance_id,
            charge_id=result.charge_id,
            product=quote.product,
            amount_cents=amount_cents,
            currency=quote.currency,
            card_last4=result.card_last4 or None,
            charged_at=now,
        )
    )
    audit("payment.charged", charge_id=result.charge_id, amount_cents=amount_cents)


def latest_charge(session: Session, instance_id: str) -> CardCharge | None:
    """The card charge this instance's checkout made last, if any."""
    return session.scalars(
        select(CardCharge)
        .where(CardCharge.instance_id == instance_id)
        .order_by(CardCharge.id.desc())
    ).first()


def issue_invoice(gateway: PaymentGateway, order: SalesOrder, idempotency_key: str) -> Invoice:
    """Issue the order's invoice through the payment adapter and note it on the order."""
    invoice = gateway.issue_invoice(
        order.order_number, order.amount_cents, order.po_number, idempotency_key
    )
    order.payment_method = "invoice"
    order.invoice_number, order.invoice_due = invoice.invoice_number, invoice.due_date
    return invoice


def cancel_on(order: SalesOrder, cancel_after_days: int) -> date:
    """The day an unpaid order is cancelled, counted from the order."""
    return (order.created_at + timedelta(days=cancel_after_days)).date()


def record_payment(order: SalesOrder, reference: str | None, now: datetime, audit: Audit) -> None:
    """Mark the order paid (once), with the bank's `reference` when finance gave one; a
    card order already carries its charge's id. A cancelled order is never paid: its
    payment must be given back, which a person does (the error says so)."""
    if order.status == "cancelled":
        raise RuntimeError(f"order {order.order_number} was cancelled; refund the payment")
    if order.status != "paid":
        order.status, order.paid_at = "paid", now
        order.payment_reference = reference or order.payment_reference
        audit("payment.recorded", order_number=order.order_number)


def refund(gateway: PaymentGateway, order: SalesOrder, now: datetime, audit: Audit) -> None:
    """Refund a card order's charge in full (the adapter's idempotency key refunds nothing
    twice); an order paid by bank transfer is paid back by finance, not here."""
    if order.payment_method != "card" or not order.payment_reference:
        return
    given = gateway.refund(
        order.payment_reference, order.amount_cents, f"refund:{order.order_number}"
    )
    order.refund_reference, order.refunded_cents = given.refund_id, given.amount_cents
    order.refunded_at = now
    audit("payment.refunded", order_number=order.order_number)
