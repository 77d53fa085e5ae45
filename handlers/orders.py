"""Sales orders: creating the order that names the journey, confirming and cancelling it.

The order's rules (its number, quantity, cancellation) are `domain.orders.orders`; these
handlers read the task's data, call them, email the customer and return variables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.orders import orders
from domain.orders.models import SalesOrder
from domain.orders.orders import product_name
from engine.registry import HandlerContext
from handlers import registry
from handlers.catalog import quote_of
from handlers.notifications import send_email


def order_of(ctx: HandlerContext, *, lock: bool = False) -> SalesOrder:
    """The sales order of this instance (by instance, else by the `order_number` variable)."""
    return orders.find_order(ctx.session, ctx.instance_id, ctx.data.get("order_number"), lock=lock)


def order_variables(order: SalesOrder) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "order_status": order.status,
        "quantity": order.quantity,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
    }


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@registry.handler()
def create_sales_order(ctx: HandlerContext) -> dict[str, Any]:
    """Create the instance's order (for a card, after the charge was approved), or find
    the one it already has, so that a repeated run never mints a second number. The
    order keeps the price quoted when the product was chosen, whatever the catalog says
    later."""
    order = orders.place_order(
        ctx.session, ctx.instance_id, ctx.owner_id, quote_of(ctx), ctx.data, ctx.now, ctx.audit
    )
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
    """The invoice was not paid in time: the order ends and the customer is told so (the
    task's `reason` property may say it otherwise)."""
    order = order_of(ctx, lock=True)
    reason = ctx.config.get("reason") or orders.unpaid_reason(order)
    return _cancel(ctx, order, "unpaid", reason)


@registry.handler()
def cancel_order_on_request(ctx: HandlerContext) -> dict[str, Any]:
    """The customer cancelled before paying: the order ends and its invoice is void (the
    invoice page says so, and finance no longer waits for it)."""
    order = order_of(ctx, lock=True)
    return _cancel(ctx, order, "customer", orders.withdrawn_reason(order))


def _cancel(ctx: HandlerContext, order: SalesOrder, cause: str, reason: str) -> dict[str, Any]:
    orders.cancel_open_order(order, cause, ctx.now, ctx.audit)
    send_email(ctx, "order_cancelled", order_number=order.order_number, reason=reason)
    return {"order_status": "cancelled", "cancelled_at": iso(order.cancelled_at)}
