"""Card details checked at checkout, before the payment processor is asked for anything.

A typo should cost the customer one glance at a message that says what is expected, not
a declined charge and a cleared form. The rules are the payment adapter's own (Luhn,
expiry); this module says them in words. The card fields are sensitive: the checks read
them, never return them and never repeat them in a message.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from adapters.payment import expiry_problem as card_expiry_code
from adapters.payment import luhn_valid
from engine.registry import FieldErrors, HandlerContext
from handlers import registry

_SEPARATORS = re.compile(r"[\s-]+")

NUMBER_EXPECTED = "Enter the 12 to 19 digits on the front of your card, e.g. 4242 4242 4242 4242."
NUMBER_INVALID = "This card number is not valid: please check the digits on your card."
EXPIRY_EXPECTED = "Enter the expiry date as month/year (MM/YY), e.g. 04/29."
CVC_EXPECTED = "Enter the 3 or 4 digits of the security code on the back of your card, e.g. 123."
# The payment adapter's own checks, in words for the customer.
EXPIRY_MESSAGES = {
    "expired_card": "This card has expired: use a card whose expiry date has not passed.",
    "invalid_expiry_year": "Check the expiry year: it is too far in the future.",
}


def number_problem(text: object) -> str | None:
    digits = _SEPARATORS.sub("", text) if isinstance(text, str) else ""
    if not (12 <= len(digits) <= 19 and digits.isascii() and digits.isdigit()):
        return NUMBER_EXPECTED
    return None if luhn_valid(digits) else NUMBER_INVALID


def expiry_problem(text: object, now: datetime) -> str | None:
    """By the engine's clock; a card works to the end of its expiry month."""
    code = card_expiry_code(text, now.date()) if isinstance(text, str) else "missing"
    return EXPIRY_MESSAGES.get(code, EXPIRY_EXPECTED) if code else None


def cvc_problem(text: object) -> str | None:
    value = text.strip() if isinstance(text, str) else ""
    return None if value.isdigit() and 3 <= len(value) <= 4 else CVC_EXPECTED


@registry.validator()
def check_card_details(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """When the customer pays by card: a Luhn-valid number, an expiry date that has not
    passed by the engine's clock, and a 3 or 4 digit security code."""
    if values.get("payment_method") != "card":
        return {}
    problems = {
        "card_number": number_problem(values.get("card_number")),
        "card_expiry": expiry_problem(values.get("card_expiry"), ctx.now),
        "card_cvc": cvc_problem(values.get("card_cvc")),
    }
    errors = {name: message for name, message in problems.items() if message}
    if errors:
        raise FieldErrors(errors)
    return {}
