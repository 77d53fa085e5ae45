"""Card details checked at checkout, before the payment processor is asked for anything.

A typo should cost the customer one glance at a message that says what is expected, not
a declined charge and a cleared form. The checks only read the card fields (they are
sensitive: `ctx.secrets`-style values that never reach task data) and never repeat them
in a message.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from engine.registry import FieldErrors, HandlerContext
from handlers import registry

_SEPARATORS = re.compile(r"[\s-]+")
_EXPIRY = re.compile(r"(\d{1,2})\s*/\s*(\d{2})")
NUMBER_DIGITS = (12, 19)

NUMBER_EXPECTED = "Enter the 12 to 19 digits on the front of your card, e.g. 4242 4242 4242 4242."
NUMBER_INVALID = "This card number is not valid: please check the digits on your card."
EXPIRY_EXPECTED = "Enter the expiry date as month/year (MM/YY), e.g. 04/29."
CVC_EXPECTED = "Enter the 3 or 4 digits of the security code on the back of your card, e.g. 123."


def card_digits(text: object) -> str:
    """The digits of a card number as printed (groups split by spaces or dashes)."""
    return _SEPARATORS.sub("", text) if isinstance(text, str) else ""


def passes_luhn(digits: str) -> bool:
    """The Luhn checksum every card number carries (ISO/IEC 7812-1)."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def number_problem(text: object) -> str | None:
    digits = card_digits(text)
    if not digits.isdigit() or not NUMBER_DIGITS[0] <= len(digits) <= NUMBER_DIGITS[1]:
        return NUMBER_EXPECTED
    return None if passes_luhn(digits) else NUMBER_INVALID


def expiry_problem(text: object, now: datetime) -> str | None:
    """A card is valid to the end of its expiry month, so this month still passes."""
    match = _EXPIRY.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or not 1 <= int(match[1]) <= 12:
        return EXPIRY_EXPECTED
    month, year = int(match[1]), 2000 + int(match[2])
    if (year, month) < (now.year, now.month):
        return f"This card expired at the end of {month:02d}/{year % 100:02d}: use a valid card."
    return None


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
