"""Card details checked at checkout, before the payment processor is asked for anything:
the validator of the checkout form. The rules, in words for the customer, are
`domain.orders.cards`; the card fields are sensitive, so the check never returns them.
"""

from __future__ import annotations

from typing import Any

from domain.orders.cards import card_problems
from engine.registry import FieldErrors, HandlerContext
from handlers import registry


@registry.validator()
def check_card_details(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """When the customer pays by card: a Luhn-valid number, an expiry date that has not
    passed by the engine's clock, and a 3 or 4 digit security code."""
    if values.get("payment_method") != "card":
        return {}
    errors = card_problems(values, ctx.now)
    if errors:
        raise FieldErrors(errors)
    return {}
