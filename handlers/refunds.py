"""A paid order cancelled before it ships: the payment goes back, the order's tokens go
back to stock and its license keys stop working.

`cancellation_refused` (`domain.orders.orders`) says why an order may no longer be
cancelled (the pages ask it before they send `order_cancel_requested`);
`cancel_paid_order` runs after the message, in the same step, with the order locked, so
it sees the same facts."""

from __future__ import annotations

from typing import Any

from domain.orders import orders
from engine.registry import HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.orders import iso, order_of


@registry.handler()
def cancel_paid_order(ctx: HandlerContext) -> dict[str, Any]:
    """Refund the card charge in full through the payment adapter (an invoice paid by
    bank transfer is paid back by finance: the email says so), void the invoice, put
    the order's allocated tokens back in stock, retire its unused license keys, email the
    customer. A repeated run refunds nothing twice (the adapter's idempotency key)."""
    order = order_of(ctx, lock=True)
    orders.cancel_paid_order(ctx.session, ctx.services.adapters.payment, order, ctx.now, ctx.audit)
    send_email(
        ctx, "order_cancelled", order_number=order.order_number, reason=orders.refund_reason(order)
    )
    return {
        "order_status": "cancelled",
        "cancelled_at": iso(order.cancelled_at),
        "refunded_at": iso(order.refunded_at),
        "refunded_cents": order.refunded_cents,
    }
