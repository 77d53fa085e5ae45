"""Quoting the chosen product: its price is fixed for this order when it is chosen.

A price is quoted when the customer chooses a product (`quote_product`, the validator of
`choose_product`) and that quote travels with the instance: checkout shows it, the card
is charged it, the order keeps it. A price changed later by an admin or analyst applies
to the next quote, never to an order already placed.
"""

from __future__ import annotations

from typing import Any

from domain.catalog.prices import ALREADY_PURCHASED, Quote, UnknownProduct, current_quote
from engine.registry import FieldErrors, HandlerContext
from handlers import registry


def quote_of(ctx: HandlerContext) -> Quote:
    """The price this instance's customer was quoted; instances that chose their product
    before quotes existed get today's price."""
    data = ctx.data
    price, currency, name = (data.get(k) for k in ("unit_price_cents", "currency", "product_name"))
    if isinstance(price, int) and isinstance(currency, str) and isinstance(name, str):
        return Quote(str(data.get("product")), name, price, currency)
    return current_quote(ctx.session, data.get("product"))


@registry.validator()
def quote_product(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Fix the chosen product's price for this order at the moment it is chosen. A customer
    who already holds a license key (`already_purchased`) buys nothing and gets no price."""
    if values.get("product") == ALREADY_PURCHASED:
        return {}
    try:
        return current_quote(ctx.session, values.get("product")).variables()
    except UnknownProduct:
        raise FieldErrors({"product": "This product is no longer sold."}) from None
