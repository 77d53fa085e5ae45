"""Payment processor: card charges and invoices.

Card data goes to `charge` and nowhere else: the sandbox keeps only the last four digits,
and neither the number nor the CVC is stored, logged or put into an error message.

Sandbox test inputs (the common test-card convention; spaces and dashes are ignored):

| card number          | outcome                                                     |
| -------------------- | ----------------------------------------------------------- |
| 4242424242424242     | approved                                                    |
| 4000000000000002     | declined `card_declined`: "Your card was declined."          |
| 4000000000009995     | declined `insufficient_funds`                               |
| 4000000000000069     | declined `expired_card`                                     |
| 4000000000000127     | declined `incorrect_cvc`                                    |
| 4000000000000119     | raises PaymentUnavailable (processor error; nothing charged) |
| fails the Luhn check | declined `invalid_number`                                   |
| any other valid one  | approved                                                    |

Any card with an expiry (MM/YY) before the current month of the injected clock is declined
`expired_card`; a malformed expiry `invalid_expiry_month`, one more than 20 years ahead
`invalid_expiry_year`; a CVC that is not 3 or 4 digits `invalid_cvc`.

A charge is recorded once per idempotency key (`<directory>/charges/<key>.json`): a retry
returns the first result, approved or declined, and charges nothing more. Invoices are due
`payment_terms_days` after issue (`<directory>/invoices/<key>.json`). A refund gives back
an approved charge, in full or in part, once per idempotency key
(`<directory>/refunds/<key>.json`); the sandbox refuses a refund of a charge it did not
approve or of more than was charged.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

from adapters.common import Clock, as_utc, derive_id, require_text, utcnow
from adapters.store import JsonFileStore

DECLINE_REASONS = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "invalid_number": "Your card number is incorrect.",
    "invalid_expiry_month": "Your card's expiration month is invalid.",
    "invalid_expiry_year": "Your card's expiration year is invalid.",
    "invalid_cvc": "Your card's security code is invalid.",
}

TEST_CARD_DECLINES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
}
PROCESSOR_ERROR_CARD = "4000000000000119"

_EXPIRY = re.compile(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*")


class PaymentUnavailable(RuntimeError):
    """The processor failed; nothing was charged and a retry with the same key is safe."""


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    charge_id: str
    decline_code: str | None = None
    decline_reason: str | None = None
    card_last4: str = ""


@dataclass(frozen=True)
class Refund:
    refund_id: str
    charge_id: str
    amount_cents: int


class RefundRefused(ValueError):
    """The processor will not refund this: no such approved charge, or too much."""


@dataclass(frozen=True)
class Invoice:
    invoice_number: str
    due_date: date


class PaymentGateway(Protocol):
    def charge(
        self,
        order_number: str,
        amount_cents: int,
        currency: str,
        card_number: str,
        card_expiry: str,
        card_cvc: str,
        idempotency_key: str,
    ) -> ChargeResult: ...

    def issue_invoice(
        self, order_number: str, amount_cents: int, po_number: str | None, idempotency_key: str
    ) -> Invoice: ...

    def refund(self, charge_id: str, amount_cents: int, idempotency_key: str) -> Refund: ...


def luhn_valid(number: str) -> bool:
    """True for 12 to 19 ASCII digits whose Luhn checksum is right."""
    if not (12 <= len(number) <= 19 and number.isascii() and number.isdigit()):
        return False
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def expiry_problem(card_expiry: str, today: date) -> str | None:
    """The decline code for an unusable MM/YY expiry, or None; a card works to month end."""
    match = _EXPIRY.fullmatch(card_expiry)
    if not match or not 1 <= int(match.group(1)) <= 12:
        return "invalid_expiry_month"
    month, year = int(match.group(1)), int(match.group(2))
    year += 2000 if year < 100 else 0
    if (year, month) < (today.year, today.month):
        return "expired_card"
    if year > today.year + 20:
        return "invalid_expiry_year"
    return None


def _check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValueError("amount_cents must be a positive whole number of cents")


class SandboxPaymentGateway:
    def __init__(
        self, directory: Path, clock: Clock = utcnow, payment_terms_days: int = 30
    ) -> None:
        self._charges = JsonFileStore(Path(directory) / "charges")
        self._invoices = JsonFileStore(Path(directory) / "invoices")
        self._refunds = JsonFileStore(Path(directory) / "refunds")
        self._clock = clock
        self._terms = timedelta(days=payment_terms_days)

    def charge(
        self,
        order_number: str,
        amount_cents: int,
        currency: str,
        card_number: str,
        card_expiry: str,
        card_cvc: str,
        idempotency_key: str,
    ) -> ChargeResult:
        _check_amount(amount_cents)
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError("currency must be an ISO 4217 code such as USD")
        number = re.sub(r"[\s-]", "", card_number)
        last4 = number[-4:] if number.isascii() and number[-4:].isdigit() else ""
        request = {
            "order_number": require_text(order_number, "order_number"),
            "amount_cents": amount_cents,
            "currency": currency,
            "card_last4": last4,
        }

        def authorize() -> dict[str, object]:
            code = self._decline_code(number, card_expiry, card_cvc)
            return asdict(
                ChargeResult(
                    approved=code is None,
                    charge_id="ch_" + derive_id("charge", idempotency_key, 24),
                    decline_code=code,
                    decline_reason=DECLINE_REASONS.get(code) if code else None,
                    card_last4=last4,
                )
            )

        return ChargeResult(**self._charges.once(idempotency_key, request, authorize))

    def _decline_code(self, number: str, card_expiry: str, card_cvc: str) -> str | None:
        if not luhn_valid(number):
            return "invalid_number"
        problem = expiry_problem(card_expiry, as_utc(self._clock()).date())
        if problem:
            return problem
        if not re.fullmatch(r"[0-9]{3,4}", card_cvc.strip()):
            return "invalid_cvc"
        if number == PROCESSOR_ERROR_CARD:
            raise PaymentUnavailable("An error occurred while processing the card; try again.")
        return TEST_CARD_DECLINES.get(number)

    def issue_invoice(
        self, order_number: str, amount_cents: int, po_number: str | None, idempotency_key: str
    ) -> Invoice:
        _check_amount(amount_cents)
        request = {
            "order_number": require_text(order_number, "order_number"),
            "amount_cents": amount_cents,
            "po_number": po_number.strip() if po_number else None,
        }
        result = self._invoices.once(
            idempotency_key,
            request,
            lambda: {
                "invoice_number": "INV-" + derive_id("invoice", idempotency_key, 10).upper(),
                "due_date": (as_utc(self._clock()).date() + self._terms).isoformat(),
            },
        )
        return Invoice(result["invoice_number"], date.fromisoformat(result["due_date"]))

    def refund(self, charge_id: str, amount_cents: int, idempotency_key: str) -> Refund:
        _check_amount(amount_cents)
        request = {"charge_id": require_text(charge_id, "charge_id"), "amount_cents": amount_cents}

        def give_back() -> dict[str, object]:
            charged = self._approved_amount(charge_id)
            if charged is None:
                raise RefundRefused(f"charge {charge_id} was not approved here")
            if amount_cents > charged:
                raise RefundRefused(f"a refund of {amount_cents} cents exceeds the charge")
            refund_id = "re_" + derive_id("refund", idempotency_key, 24)
            return {"refund_id": refund_id, "charge_id": charge_id, "amount_cents": amount_cents}

        return Refund(**self._refunds.once(idempotency_key, request, give_back))

    def _approved_amount(self, charge_id: str) -> int | None:
        """The amount of the approved charge `charge_id`, or None (the sandbox reads its
        few charge records; a processor looks the charge up by its id)."""
        for path in sorted(self._charges.directory.glob("*.json")):
            stored = json.loads(path.read_bytes())
            result, request = stored.get("result") or {}, stored.get("request") or {}
            if result.get("charge_id") == charge_id and result.get("approved"):
                return int(request["amount_cents"])
        return None
