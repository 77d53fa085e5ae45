"""Card details checked at checkout, before the payment processor is asked for anything.

A typo should cost the customer one glance at a message that says what is expected, not
a declined charge and a cleared form. The rules are the payment adapter's own (Luhn,
expiry); this module says them in words. The card fields are sensitive: the checks read
them, never return them and never repeat them in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from adapters.payment import expiry_problem as card_expiry_code
from adapters.payment import luhn_valid

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


def card_problems(values: Mapping[str, object], now: datetime) -> dict[str, str]:
    """What is wrong with the card fields of `values`, by field; empty when nothing is: a
    Luhn-valid number, an expiry date that has not passed by `now`, a 3 or 4 digit
    security code."""
    problems = {
        "card_number": number_problem(values.get("card_number")),
        "card_expiry": expiry_problem(values.get("card_expiry"), now),
        "card_cvc": cvc_problem(values.get("card_cvc")),
    }
    return {name: message for name, message in problems.items() if message}
