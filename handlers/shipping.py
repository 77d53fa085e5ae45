"""Shipping: take a token from inventory, send it with the carrier, note its delivery.

Allocation is the one place two journeys compete for the same rows. On PostgreSQL the
pick skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`), so concurrent
orders take different tokens without waiting; SQLite serializes writers anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.common import ADDRESS_FIELDS
from domain.shipping.tracking import record_shipment
from domain.tokens.models import HardwareToken
from engine.registry import HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.orders import iso, order_of


class OutOfStock(RuntimeError):
    """No available token: retried, then an incident until someone imports a seed file."""


def take_from_stock(ctx: HandlerContext, order_number: str) -> str:
    """Allocate the oldest available token to `order_number` and return its serial.
    SKIP LOCKED: concurrent orders take different tokens without waiting on each other."""
    token = ctx.session.scalars(
        select(HardwareToken)
        .where(HardwareToken.status == "available")
        .order_by(HardwareToken.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if token is None:
        raise OutOfStock("no hardware token is in stock: import a seed file, then retry")
    token.status, token.order_number = "allocated", order_number
    ctx.audit("token.allocated", order_number=order_number, serial=token.serial)
    return token.serial


@registry.handler()
def allocate_token(ctx: HandlerContext) -> dict[str, Any]:
    """Reserve the order's tokens (one per unit of quantity, all or none: a shortage fails
    the whole step) and record the first one's serial on the order: the buyer's own,
    unless the buyer enters another of the order's keys."""
    order = order_of(ctx, lock=True)
    if order.token_serial is None:
        serials = [take_from_stock(ctx, order.order_number) for _ in range(order.quantity)]
        order.token_serial = serials[0]
    return {"token_serial": order.token_serial}


@registry.handler()
def ship_token(ctx: HandlerContext) -> dict[str, Any]:
    """Hand the allocated token to the carrier, addressed from the checkout form, and
    email the tracking number (once: the email is keyed by this task)."""
    order = order_of(ctx, lock=True)
    if order.token_serial is None:
        raise RuntimeError(f"order {order.order_number} has no token allocated")
    if order.tracking_number is None:
        shipment = ctx.services.adapters.carrier.ship(
            order.order_number,
            order.token_serial,
            shipping_address(ctx.data),
            ctx.idempotency_key,
            ctx.now,
        )
        order.tracking_number = shipment.tracking_number
        order.estimated_delivery, order.shipped_at = shipment.estimated_delivery, ctx.now
        record_shipment(ctx.session, shipment.tracking_number, order.order_number, ctx.now)
        ctx.audit(
            "token.shipped",
            order_number=order.order_number,
            tracking_number=shipment.tracking_number,
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


def shipping_address(data: Any) -> dict[str, Any]:
    """The `ship_*` fields of the checkout form as the carrier's address."""
    return {field: data.get(f"ship_{field}") for field in ADDRESS_FIELDS}


@registry.handler()
def record_delivery(ctx: HandlerContext) -> dict[str, Any]:
    """The carrier's `token_delivered` message arrived: note when, and tell the customer
    what to do with the token."""
    order = order_of(ctx, lock=True)
    if order.delivered_at is None:
        order.delivered_at = ctx.now
        ctx.audit("token.delivered", order_number=order.order_number)
    send_email(
        ctx, "token_delivered", order_number=order.order_number, delivered_at=order.delivered_at
    )
    return {"delivered_at": iso(order.delivered_at)}
