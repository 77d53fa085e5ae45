"""Shipping: take a token from inventory, send it with the carrier, note its delivery.

The rules (allocation that skips rows another order holds, the address, shipping once)
are `domain.shipping.stock` and `domain.shipping.dispatch`.
"""

from __future__ import annotations

from typing import Any

from domain.shipping import dispatch, stock
from domain.shipping.stock import shipping_address
from engine.registry import HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.orders import iso, order_of


@registry.handler()
def allocate_token(ctx: HandlerContext) -> dict[str, Any]:
    """Reserve the order's tokens (one per unit of quantity, all or none: a shortage fails
    the whole step) and record the first one's serial on the order: the buyer's own,
    unless the buyer enters another of the order's keys."""
    order = order_of(ctx, lock=True)
    return {"token_serial": stock.allocate_tokens(ctx.session, order, ctx.audit)}


@registry.handler()
def ship_token(ctx: HandlerContext) -> dict[str, Any]:
    """Hand the allocated token to the carrier, addressed from the checkout form, and
    email the tracking number (once: the email is keyed by this task)."""
    order = order_of(ctx, lock=True)
    dispatch.ship_order(
        ctx.session,
        ctx.services.adapters.carrier,
        order,
        shipping_address(ctx.data),
        ctx.idempotency_key,
        ctx.now,
        ctx.audit,
    )
    send_email(
        ctx,
        "token_shipped",
        order_number=order.order_number,
        tracking_number=order.tracking_number,
        estimated_delivery=order.estimated_delivery,
    )
    return {
        "tracking_number": order.tracking_number,
        "estimated_delivery": order.estimated_delivery.isoformat()
        if order.estimated_delivery
        else None,
        "shipped_at": iso(order.shipped_at),
    }


@registry.handler()
def record_delivery(ctx: HandlerContext) -> dict[str, Any]:
    """The carrier's `token_delivered` message arrived: note when, and tell the customer
    what to do with the token."""
    order = order_of(ctx, lock=True)
    dispatch.record_delivery(order, ctx.now, ctx.audit)
    send_email(
        ctx, "token_delivered", order_number=order.order_number, delivered_at=order.delivered_at
    )
    return {"delivered_at": iso(order.delivered_at)}
