"""What the shop's pages read and change: the catalog, and one order as a receipt or an
invoice. Each function is one short unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain.catalog import prices as catalog
from domain.orders.models import CardCharge, SalesOrder
from domain.orders.orders import MAX_QUANTITY, cancellation_refused, product_name
from engine.actors import Actor
from engine.db import unit_of_work
from engine.form_formats import country_name
from engine.models import MessageSubscription
from service_layer.system import System

# The message the purchase diagram waits for while an order may still be cancelled.
CANCEL_MESSAGE = "order_cancel_requested"
# The task data a receipt or invoice prints, as the checkout form named it.
ADDRESS_PARTS = ("name", "street", "postal_code", "city", "country")


def products(system: System) -> list[dict[str, Any]]:
    with unit_of_work(system.session_factory) as s:
        return [
            {
                "sku": p.sku,
                "name": p.name,
                "price_cents": p.price_cents,
                "currency": p.currency,
                "updated_at": p.updated_at,
                "updated_by": p.updated_by,
            }
            for p in catalog.products(s)
        ]


def change_price(system: System, actor: Actor, sku: str, price_cents: int) -> None:
    with unit_of_work(system.session_factory) as s:
        catalog.set_price(s, sku, price_cents, actor.name)


def quote(system: System, variables: dict[str, Any]) -> dict[str, Any] | None:
    """What the customer is about to pay: the instance's quote, else today's price (an
    instance that chose its product before quotes existed); None without a product."""
    if isinstance(variables.get("total_cents"), int):
        keys = ("product_name", "unit_price_cents", "currency", "total_cents")
        return {k: variables.get(k) for k in keys}
    with unit_of_work(system.session_factory) as s:
        try:
            return catalog.current_quote(s, variables.get("product")).variables()
        except catalog.UnknownProduct:
            return None


def times(quote: dict[str, Any], quantity: Any) -> dict[str, Any]:
    """The quote for `quantity` tokens (as the form holds it: text or a number; 1 when it
    is no whole number from 1 to MAX_QUANTITY, as the form would refuse it)."""
    text = str(quantity if quantity is not None else "").strip()
    count = int(text) if text.isdigit() and 1 <= int(text) <= MAX_QUANTITY else 1
    unit = quote["unit_price_cents"]
    return {**quote, "quantity": count, "total_cents": unit * count if unit is not None else None}


def address(variables: dict[str, Any], prefix: str) -> list[str]:
    """An address's lines from the checkout's `ship_*` or `bill_*` fields."""
    if prefix == "bill" and variables.get("billing_same_as_shipping") is not False:
        prefix = "ship"
    values = [str(variables.get(f"{prefix}_{part}") or "").strip() for part in ADDRESS_PARTS]
    name, street, postal_code, city, country = values
    lines = [name, street, f"{postal_code} {city}".strip(), country_or_code(country)]
    return [line for line in lines if line]


def country_or_code(code: str) -> str:
    return country_name(code) or code.upper()


def order_document(system: System, instance_id: str) -> dict[str, Any] | None:
    """One order as its receipt and invoice print it (the caller checked access through
    the engine); None before the order exists."""
    with unit_of_work(system.session_factory) as s:
        order = s.scalars(select(SalesOrder).where(SalesOrder.instance_id == instance_id)).first()
        if order is None:
            return None
        last4 = None
        if order.payment_method == "card" and order.payment_reference:
            last4 = s.scalar(
                select(CardCharge.card_last4).where(CardCharge.charge_id == order.payment_reference)
            )
        return {
            "order_number": order.order_number,
            "status": order.status,
            "created_at": order.created_at,
            "paid_at": order.paid_at,
            "cancelled_at": order.cancelled_at,
            "refunded_at": order.refunded_at,
            "refunded_cents": order.refunded_cents,
            "payment_method": order.payment_method,
            "card_last4": last4,
            "invoice_number": order.invoice_number,
            "invoice_due": order.invoice_due,
            "po_number": order.po_number,
            "currency": order.currency,
            "total_cents": order.amount_cents,
            # One product per order, for one or several people (a license key each).
            "items": [
                {
                    "name": product_name(s, order.product),
                    "quantity": order.quantity,
                    "unit_price_cents": order.amount_cents // max(order.quantity, 1),
                    "amount_cents": order.amount_cents,
                }
            ],
        }


def cancellable(system: System, instance_id: str) -> bool:
    """Whether the order may still be cancelled: its diagram waits for the request, and a
    paid order has not shipped and none of its keys was used."""
    if not waits_for(system, instance_id, CANCEL_MESSAGE):
        return False
    with unit_of_work(system.session_factory) as s:
        order = s.scalars(select(SalesOrder).where(SalesOrder.instance_id == instance_id)).first()
        return order is None or order.status == "open" or cancellation_refused(s, order) is None


def waits_for(system: System, instance_id: str, message: str) -> bool:
    """Whether the instance's diagram waits for `message` now."""
    with unit_of_work(system.session_factory) as s:
        found = s.scalar(
            select(MessageSubscription.id).where(
                MessageSubscription.instance_id == instance_id,
                MessageSubscription.message_name == message,
            )
        )
        return found is not None
