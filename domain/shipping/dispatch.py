"""An order's token on its way: handed to the carrier, then delivered.

Both happen once per order: a repeated step finds the tracking number or the delivery
already noted and changes nothing (the carrier deduplicates on the idempotency key).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from adapters.carrier import Carrier
from domain.auditing import Audit
from domain.orders.models import SalesOrder
from domain.shipping.tracking import record_shipment


def ship_order(
    session: Session,
    carrier: Carrier,
    order: SalesOrder,
    address: Mapping[str, object],
    idempotency_key: str,
    now: datetime,
    audit: Audit,
) -> None:
    """Hand the order's allocated token to the carrier (once) and follow the parcel."""
    if order.token_serial is None:
        raise RuntimeError(f"order {order.order_number} has no token allocated")
    if order.tracking_number is not None:
        return
    shipment = carrier.ship(order.order_number, order.token_serial, address, idempotency_key, now)
    order.tracking_number = shipment.tracking_number
    order.estimated_delivery, order.shipped_at = shipment.estimated_delivery, now
    record_shipment(session, shipment.tracking_number, order.order_number, now)
    audit(
        "token.shipped", order_number=order.order_number, tracking_number=shipment.tracking_number
    )


def record_delivery(order: SalesOrder, now: datetime, audit: Audit) -> None:
    """The carrier delivered the order's token: note when (once)."""
    if order.delivered_at is None:
        order.delivered_at = now
        audit("token.delivered", order_number=order.order_number)
