"""Sales orders: creating the order that names the journey, confirming and cancelling it.

The order number is the instance's business key (messages such as `payment_received`
correlate on it) and what a customer quotes on the phone, so it is short, readable and
never reused: it comes from the `order_numbers` counter table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalog.prices import UnknownProduct, current_quote
from domain.orders.models import CardCharge, OrderNumber, SalesOrder
from engine.registry import HandlerContext
from handlers import registry
from handlers.catalog import quote_of
from handlers.notifications import send_email

# The currency of charges that quote no product (a renewal).
CURRENCY = "USD"
MAX_QUANTITY = 100


class OrderMissing(LookupError):
    """A handler that needs the order ran before `create_sales_order`: a diagram bug."""


def order_of(ctx: HandlerContext, *, lock: bool = False) -> SalesOrder:
    """The sales order of this instance (by instance, else by the `order_number` variable)."""
    query = select(SalesOrder).where(SalesOrder.instance_id == ctx.instance_id)
    number = ctx.data.get("order_number")
    if isinstance(number, str):
        query = select(SalesOrder).where(
            (SalesOrder.instance_id == ctx.instance_id) | (SalesOrder.order_number == number)
        )
    if lock:
        query = query.with_for_update()
    order = ctx.session.scalars(query.order_by(SalesOrder.id)).first()
    if order is None:
        raise OrderMissing(f"instance {ctx.instance_id} has no sales order yet")
    return order


def quantity_of(data: dict[str, Any]) -> int:
    """How many tokens checkout asked for; 1 when the form had no quantity field (an
    analyst's older diagram). The form keeps it within 1 to MAX_QUANTITY."""
    value = data.get("quantity")
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise ValueError(f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
    return value


def order_variables(order: SalesOrder) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "order_status": order.status,
        "quantity": order.quantity,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
    }


def product_name(session: Session, sku: str) -> str:
    """The catalog's name for a product an order was placed for."""
    try:
        return current_quote(session, sku).name
    except UnknownProduct:  # withdrawn from the catalog since
        return sku.replace("_", " ")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@registry.handler()
def create_sales_order(ctx: HandlerContext) -> dict[str, Any]:
    """Create the instance's order (for a card, after the charge was approved), or find
    the one it already has, so that a repeated run never mints a second number. The
    order keeps the price quoted when the product was chosen, whatever the catalog says
    later."""
    quote = quote_of(ctx)
    order = ctx.session.scalars(
        select(SalesOrder).where(SalesOrder.instance_id == ctx.instance_id)
    ).first()
    if order is None:
        counter = OrderNumber(instance_id=ctx.instance_id, created_at=ctx.now)
        ctx.session.add(counter)
        ctx.session.flush()
        order = SalesOrder(
            order_number=counter.order_number,
            instance_id=ctx.instance_id,
            owner_id=ctx.owner_id,
            product=quote.product,
            quantity=quantity_of(ctx.data),
            amount_cents=quote.unit_price_cents * quantity_of(ctx.data),
            currency=quote.currency,
            status="open",
            created_at=ctx.now,
        )
        ctx.session.add(order)
        ctx.audit(
            "order.created",
            order_number=order.order_number,
            product=quote.product,
            amount_cents=quote.total_cents,
        )
    _remember_checkout(ctx, order)
    ctx.session.flush()
    ctx.set_business_key(order.order_number)
    return {
        **order_variables(order),
        **name_parts(ctx.data.get("ship_name")),
        "payment_reference": order.payment_reference,
    }


def name_parts(full: Any) -> dict[str, str | None]:
    """The shipping name split as the profile form prefills it: the last word as family
    name, the words before as given names (the customer corrects it to the legal name)."""
    words = str(full or "").split()
    if len(words) < 2:
        return {"ship_first_name": words[0] if words else None, "ship_last_name": None}
    return {"ship_first_name": " ".join(words[:-1]), "ship_last_name": words[-1]}


def _remember_checkout(ctx: HandlerContext, order: SalesOrder) -> None:
    """Payment method, PO number and, for a card, the charge that paid for the order."""
    method = ctx.data.get("payment_method")
    if method in ("card", "invoice"):
        order.payment_method = method
    po_number = ctx.data.get("po_number")
    if isinstance(po_number, str) and po_number.strip():
        order.po_number = po_number.strip()[:100]
    if method == "card" and order.payment_reference is None:
        charge = ctx.session.scalars(
            select(CardCharge)
            .where(CardCharge.instance_id == ctx.instance_id)
            .order_by(CardCharge.id.desc())
        ).first()
        if charge is None:
            raise RuntimeError("the card was not charged: no order without payment")
        order.payment_reference = charge.charge_id


@registry.handler()
def send_order_confirmation(ctx: HandlerContext) -> dict[str, Any]:
    """Tell the customer the order number they will quote and what they bought."""
    order = order_of(ctx)
    send_email(
        ctx,
        "order_confirmation",
        order_number=order.order_number,
        product=product_name(ctx.session, order.product),
        amount_cents=order.amount_cents,
        currency=order.currency,
        payment_method=order.payment_method or ctx.data.get("payment_method") or "invoice",
    )
    return {"order_confirmation_sent_at": ctx.now.isoformat()}


@registry.handler()
def cancel_unpaid_order(ctx: HandlerContext) -> dict[str, Any]:
    """The invoice was not paid in time: the order ends and the customer is told so."""
    order = order_of(ctx, lock=True)
    reason = ctx.config.get("reason") or (
        f"we did not receive payment for invoice {order.invoice_number or order.order_number}"
        " in time."
    )
    return _cancel(ctx, order, "unpaid", reason)


@registry.handler()
def cancel_order_on_request(ctx: HandlerContext) -> dict[str, Any]:
    """The customer cancelled before paying: the order ends and its invoice is void (the
    invoice page says so, and finance no longer waits for it)."""
    order = order_of(ctx, lock=True)
    voided = (
        f"invoice {order.invoice_number} is void and nothing is owed."
        if order.invoice_number
        else "nothing is owed."
    )
    return _cancel(ctx, order, "customer", f"you cancelled it; {voided}")


def _cancel(ctx: HandlerContext, order: SalesOrder, cause: str, reason: str) -> dict[str, Any]:
    if order.status == "paid":
        # A payment recorded in the same instant wins: never cancel what was paid.
        raise RuntimeError(f"order {order.order_number} is paid and cannot be cancelled")
    if order.status != "cancelled":
        order.status, order.cancelled_at = "cancelled", ctx.now
        ctx.audit("order.cancelled", order_number=order.order_number, reason=cause)
    send_email(ctx, "order_cancelled", order_number=order.order_number, reason=reason)
    return {"order_status": "cancelled", "cancelled_at": iso(order.cancelled_at)}
