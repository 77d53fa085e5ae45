"""Taking tokens from stock for an order, and where they are sent.

Allocation is the one place two journeys compete for the same rows. On PostgreSQL the
pick skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`), so concurrent
orders take different tokens without waiting; SQLite serializes writers anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.common import ADDRESS_FIELDS
from domain.auditing import Audit
from domain.orders.models import SalesOrder
from domain.tokens.models import HardwareToken


class OutOfStock(RuntimeError):
    """No available token: retried, then an incident until someone imports a seed file."""


def take_from_stock(session: Session, order_number: str, audit: Audit) -> str:
    """Allocate the oldest available token to `order_number` and return its serial.
    SKIP LOCKED: concurrent orders take different tokens without waiting on each other."""
    token = session.scalars(
        select(HardwareToken)
        .where(HardwareToken.status == "available")
        .order_by(HardwareToken.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if token is None:
        raise OutOfStock("no hardware token is in stock: import a seed file, then retry")
    token.status, token.order_number = "allocated", order_number
    audit("token.allocated", order_number=order_number, serial=token.serial)
    return token.serial


def allocate_tokens(session: Session, order: SalesOrder, audit: Audit) -> str:
    """Reserve the order's tokens once (one per unit of quantity, all or none: a shortage
    raises OutOfStock and the step's transaction keeps none) and record the first one's
    serial on the order, which it returns."""
    if order.token_serial is None:
        serials = [
            take_from_stock(session, order.order_number, audit) for _ in range(order.quantity)
        ]
        order.token_serial = serials[0]
    return order.token_serial


def shipping_address(data: Mapping[str, object]) -> dict[str, object]:
    """The `ship_*` fields of the checkout form as the carrier's address."""
    return {field: data.get(f"ship_{field}") for field in ADDRESS_FIELDS}
