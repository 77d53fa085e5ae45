"""Sales orders: opening the order that names a journey, finding it, and its rules for
quantity and cancellation.

The order number is the instance's business key (messages such as `payment_received`
correlate on it) and what a customer quotes on the phone, so it is short, readable and
never reused: it comes from the `order_numbers` counter table. An order keeps the price
quoted when the product was chosen, whatever the catalog says later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters.payment import PaymentGateway
from domain.auditing import Audit
from domain.catalog.prices import Quote, UnknownProduct, current_quote
from domain.license_keys.models import LicenseKey
from domain.orders import payments
from domain.orders.models import OrderNumber, SalesOrder
from domain.tokens.models import HardwareToken

# The currency of charges that quote no product (a renewal).
CURRENCY = "USD"
MAX_QUANTITY = 100
PAYMENT_METHODS = ("card", "invoice")
PO_NUMBER_CHARS = 100


class OrderMissing(LookupError):
    """A step that needs the order ran before the order was created: a diagram bug."""


# -- finding ---------------------------------------------------------------------------


def order_of_instance(session: Session, instance_id: str) -> SalesOrder | None:
    """The order `instance_id` placed itself, if it has one yet."""
    return session.scalars(select(SalesOrder).where(SalesOrder.instance_id == instance_id)).first()


def find_order(
    session: Session, instance_id: str, order_number: object, *, lock: bool = False
) -> SalesOrder:
    """The sales order of `instance_id`, else the one numbered `order_number` (a journey
    that took over an order bought in another); OrderMissing when there is none."""
    query = select(SalesOrder).where(SalesOrder.instance_id == instance_id)
    if isinstance(order_number, str):
        query = select(SalesOrder).where(
            (SalesOrder.instance_id == instance_id) | (SalesOrder.order_number == order_number)
        )
    if lock:
        query = query.with_for_update()
    order = session.scalars(query.order_by(SalesOrder.id)).first()
    if order is None:
        raise OrderMissing(f"instance {instance_id} has no sales order yet")
    return order


def quantity_of(data: Mapping[str, object]) -> int:
    """How many tokens checkout asked for; 1 when the form had no quantity field (an
    analyst's older diagram). The form keeps it within 1 to MAX_QUANTITY."""
    value = data.get("quantity")
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise ValueError(f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
    return value


def product_name(session: Session, sku: str) -> str:
    """The catalog's name for a product an order was placed for."""
    try:
        return current_quote(session, sku).name
    except UnknownProduct:  # withdrawn from the catalog since
        return sku.replace("_", " ")


# -- opening -----------------------------------------------------------------------------


def place_order(
    session: Session,
    instance_id: str,
    owner_id: int | None,
    quote: Quote,
    checkout: Mapping[str, object],
    now: datetime,
    audit: Audit,
) -> SalesOrder:
    """The order of `instance_id`: found when it has one (a repeated step mints no second
    number), else created at `quote` for the checkout's quantity; in both cases with the
    checkout's payment method, PO number and, for a card, the charge that paid for it."""
    order = order_of_instance(session, instance_id) or _create_order(
        session, instance_id, owner_id, quote, quantity_of(checkout), now, audit
    )
    _remember_checkout(session, order, checkout.get("payment_method"), checkout.get("po_number"))
    session.flush()
    return order


def _create_order(
    session: Session,
    instance_id: str,
    owner_id: int | None,
    quote: Quote,
    quantity: int,
    now: datetime,
    audit: Audit,
) -> SalesOrder:
    """A new order for `instance_id`, numbered from the counter table."""
    counter = OrderNumber(instance_id=instance_id, created_at=now)
    session.add(counter)
    session.flush()
    order = SalesOrder(
        order_number=counter.order_number,
        instance_id=instance_id,
        owner_id=owner_id,
        product=quote.product,
        quantity=quantity,
        amount_cents=payments.price_of(quote, quantity),
        currency=quote.currency,
        status="open",
        created_at=now,
    )
    session.add(order)
    audit(
        "order.created",
        order_number=order.order_number,
        product=quote.product,
        amount_cents=quote.total_cents,
    )
    return order


def _remember_checkout(
    session: Session, order: SalesOrder, payment_method: object, po_number: object
) -> None:
    """No card order without its charge."""
    if payment_method in PAYMENT_METHODS:
        order.payment_method = str(payment_method)
    if isinstance(po_number, str) and po_number.strip():
        order.po_number = po_number.strip()[:PO_NUMBER_CHARS]
    if payment_method == "card" and order.payment_reference is None:
        charge = payments.latest_charge(session, order.instance_id)
        if charge is None:
            raise RuntimeError("the card was not charged: no order without payment")
        order.payment_reference = charge.charge_id


# -- cancelling --------------------------------------------------------------------------


def unpaid_reason(order: SalesOrder) -> str:
    """What the customer is told when the invoice was not paid in time."""
    return (
        f"we did not receive payment for invoice {order.invoice_number or order.order_number}"
        " in time."
    )


def withdrawn_reason(order: SalesOrder) -> str:
    """What the customer is told who cancelled before paying: the invoice is void."""
    voided = (
        f"invoice {order.invoice_number} is void and nothing is owed."
        if order.invoice_number
        else "nothing is owed."
    )
    return f"you cancelled it; {voided}"


def cancel_open_order(order: SalesOrder, cause: str, now: datetime, audit: Audit) -> None:
    """End an order that was not paid (once); `cause` is the audit event's reason."""
    if order.status == "paid":
        # A payment recorded in the same instant wins: never cancel what was paid.
        raise RuntimeError(f"order {order.order_number} is paid and cannot be cancelled")
    if order.status != "cancelled":
        order.status, order.cancelled_at = "cancelled", now
        audit("order.cancelled", order_number=order.order_number, reason=cause)


def cancellation_refused(session: Session, order: SalesOrder) -> str | None:
    """Why `order` cannot be cancelled any more, or None while it can: it shipped, or
    one of its license keys was used (its token is someone's credential now)."""
    if order.status == "cancelled":
        return "it is cancelled already"
    if order.shipped_at is not None or order.tracking_number is not None:
        return "the token has shipped"
    used = session.scalar(
        select(LicenseKey.id).where(
            LicenseKey.order_number == order.order_number, LicenseKey.status == "used"
        )
    )
    return "one of its license keys was used" if used is not None else None


def cancel_paid_order(
    session: Session, gateway: PaymentGateway, order: SalesOrder, now: datetime, audit: Audit
) -> None:
    """Refund the card charge, put the order's allocated tokens back in stock and retire
    its unused license keys (once). An order that shipped or whose key was used in the
    instant since the page's check raises: a person sorts it out, nothing is refunded."""
    refused = cancellation_refused(session, order)
    if refused and order.status != "cancelled":
        raise RuntimeError(f"order {order.order_number} cannot be cancelled: {refused}")
    if order.status != "cancelled":
        payments.refund(gateway, order, now, audit)
        order.status, order.cancelled_at = "cancelled", now
        _release(session, order.order_number)
        audit("order.cancelled", order_number=order.order_number, reason="customer_paid")


def _release(session: Session, order_number: str) -> None:
    """The order's tokens go back to stock; its keys that nobody used stop working."""
    session.execute(
        update(HardwareToken)
        .where(HardwareToken.order_number == order_number, HardwareToken.status == "allocated")
        .values(status="available", order_number=None)
    )
    session.execute(
        update(LicenseKey)
        .where(LicenseKey.order_number == order_number, LicenseKey.status == "issued")
        .values(status="inactive")
    )


def refund_reason(order: SalesOrder) -> str:
    """What the customer is told of a paid order cancelled before it shipped."""
    if order.refunded_cents:
        amount = f"{order.refunded_cents // 100}.{order.refunded_cents % 100:02d}"
        return (
            f"you cancelled it before it shipped; we refunded {amount} {order.currency} "
            "to your card, and your license key no longer works."
        )
    invoice = f"invoice {order.invoice_number} is void; " if order.invoice_number else ""
    return (
        f"you cancelled it before it shipped; {invoice}we will transfer what you paid back "
        "to you, and your license key no longer works."
    )
