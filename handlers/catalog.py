"""Quoting the chosen product: its price is fixed for this order when it is chosen.

A price is quoted when the customer chooses a product (`quote_product`, the validator of
`choose_product`) and that quote travels with the instance: checkout shows it, the card
is charged it, the order keeps it. A price changed later by an admin or analyst applies
to the next quote, never to an order already placed (`domain.catalog.prices`).
"""

from __future__ import annotations

from typing import Any

from domain.catalog.prices import Quote, UnknownProduct, chosen_quote, quote_in
from engine.registry import FieldErrors, HandlerContext
from handlers import registry


def quote_of(ctx: HandlerContext) -> Quote:
    """The price this instance's customer was quoted."""
    return quote_in(ctx.session, ctx.data)


@registry.validator()
def quote_product(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Fix the chosen product's price for this order at the moment it is chosen. A customer
    who already holds a license key (`already_purchased`) buys nothing and gets no price."""
    try:
        quote = chosen_quote(ctx.session, values.get("product"))
    except UnknownProduct:
        raise FieldErrors({"product": "This product is no longer sold."}) from None
    return quote.variables() if quote is not None else {}
