"""A paid order cancelled before it ships: the payment goes back, the order's tokens go
back to stock and its license keys stop working.

`cancellation_refused` says why an order may no longer be cancelled (the pages ask it
before they send `order_cancel_requested`); `cancel_paid_order` runs after the message,
in the same step, with the order locked, so it sees the same facts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.license_keys.models import LicenseKey
from domain.orders.models import SalesOrder
from domain.tokens.models import HardwareToken
from engine.registry import HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.orders import iso, order_of


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


@registry.handler()
def cancel_paid_order(ctx: HandlerContext) -> dict[str, Any]:
    """Refund the card charge in full through the payment adapter (an invoice paid by
    bank transfer is paid back by finance: the email says so), void the invoice, put
    the order's allocated tokens back in stock, retire its unused license keys, email the
    customer. A repeated run refunds nothing twice (the adapter's idempotency key)."""
    order = order_of(ctx, lock=True)
    refused = cancellation_refused(ctx.session, order)
    if refused and order.status != "cancelled":
        # Shipped in the instant between the page's check and the message: a person
        # must sort it out (the incident names the order), nothing is refunded.
        raise RuntimeError(f"order {order.order_number} cannot be cancelled: {refused}")
    if order.status != "cancelled":
        _refund(ctx, order)
        order.status, order.cancelled_at = "cancelled", ctx.now
        _release(ctx, order)
        ctx.audit("order.cancelled", order_number=order.order_number, reason="customer_paid")
    send_email(ctx, "order_cancelled", order_number=order.order_number, reason=_said(order))
    return {
        "order_status": "cancelled",
        "cancelled_at": iso(order.cancelled_at),
        "refunded_at": iso(order.refunded_at),
        "refunded_cents": order.refunded_cents,
    }


def _refund(ctx: HandlerContext, order: SalesOrder) -> None:
    if order.payment_method != "card" or not order.payment_reference:
        return  # paid by transfer: finance pays it back
    refund = ctx.services.adapters.payment.refund(
        order.payment_reference, order.amount_cents, f"refund:{order.order_number}"
    )
    order.refund_reference, order.refunded_cents = refund.refund_id, refund.amount_cents
    order.refunded_at = ctx.now
    ctx.audit("payment.refunded", order_number=order.order_number)


def _release(ctx: HandlerContext, order: SalesOrder) -> None:
    """The order's tokens go back to stock; its keys that nobody used stop working."""
    ctx.session.execute(
        update(HardwareToken)
        .where(
            HardwareToken.order_number == order.order_number,
            HardwareToken.status == "allocated",
        )
        .values(status="available", order_number=None)
    )
    ctx.session.execute(
        update(LicenseKey)
        .where(LicenseKey.order_number == order.order_number, LicenseKey.status == "issued")
        .values(status="inactive")
    )


def _said(order: SalesOrder) -> str:
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
