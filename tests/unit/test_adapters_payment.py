from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.payment import PaymentUnavailable, RefundRefused, SandboxPaymentGateway, luhn_valid
from adapters.store import IdempotencyConflict

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def gateway(directory: Path) -> SandboxPaymentGateway:
    return SandboxPaymentGateway(directory, clock=lambda: NOW)


def charge(directory: Path, card: str, key: str = "SO-10001:charge:1", **overrides: str):
    card_data = {"card_expiry": "12/30", "card_cvc": "123"} | overrides
    return gateway(directory).charge(
        "SO-10001", 4900, "USD", card, idempotency_key=key, **card_data
    )


def test_the_approved_test_card_is_charged(tmp_path: Path) -> None:
    result = charge(tmp_path, "4242 4242 4242 4242")
    assert result.approved
    assert result.charge_id.startswith("ch_")
    assert (result.decline_code, result.decline_reason) == (None, None)
    assert result.card_last4 == "4242"


@pytest.mark.parametrize(
    ("card", "code", "reason"),
    [
        ("4000000000000002", "card_declined", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000069", "expired_card", "Your card has expired."),
        ("4000000000000127", "incorrect_cvc", "Your card's security code is incorrect."),
        ("4242424242424241", "invalid_number", "Your card number is incorrect."),
    ],
)
def test_each_decline_test_card_is_declined_with_its_code_and_reason(
    tmp_path: Path, card: str, code: str, reason: str
) -> None:
    result = charge(tmp_path, card)
    assert not result.approved
    assert (result.decline_code, result.decline_reason) == (code, reason)


@pytest.mark.parametrize(
    ("expiry", "code"),
    [
        ("04/24", "expired_card"),
        ("05/24", None),
        ("5/2024", None),
        ("13/30", "invalid_expiry_month"),
        ("soon", "invalid_expiry_month"),
        ("01/99", "invalid_expiry_year"),
    ],
)
def test_the_expiry_is_judged_against_the_injected_clock(
    tmp_path: Path, expiry: str, code: str | None
) -> None:
    assert charge(tmp_path, "4242424242424242", card_expiry=expiry).decline_code == code


def test_a_cvc_that_is_not_three_or_four_digits_is_declined(tmp_path: Path) -> None:
    assert charge(tmp_path, "4242424242424242", card_cvc="12").decline_code == "invalid_cvc"


def test_the_processor_error_card_raises_and_records_nothing(tmp_path: Path) -> None:
    with pytest.raises(PaymentUnavailable):
        charge(tmp_path, "4000000000000119")
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4242424242424243", False),
        ("42424242", False),
        ("4242-4242-4242-4242", False),
        ("\uff14\uff12" * 8, False),
    ],
)
def test_luhn_accepts_only_well_formed_numbers_with_the_right_check_digit(
    number: str, valid: bool
) -> None:
    assert luhn_valid(number) is valid


def test_charging_twice_with_one_key_returns_the_first_charge_and_records_one(
    tmp_path: Path,
) -> None:
    first = charge(tmp_path, "4242424242424242")
    again = charge(tmp_path, "4242424242424242")
    assert again == first
    assert len(list((tmp_path / "charges").glob("*.json"))) == 1


def test_a_retry_after_a_restart_returns_the_first_charge(tmp_path: Path) -> None:
    first = charge(tmp_path, "4000000000000002")
    after_restart = SandboxPaymentGateway(tmp_path, clock=lambda: NOW).charge(
        "SO-10001", 4900, "USD", "4000000000000002", "12/30", "123", "SO-10001:charge:1"
    )
    assert after_restart == first
    assert len(list((tmp_path / "charges").glob("*.json"))) == 1


def test_a_new_key_makes_a_new_charge(tmp_path: Path) -> None:
    first = charge(tmp_path, "4000000000000002", key="SO-10001:charge:1")
    second = charge(tmp_path, "4242424242424242", key="SO-10001:charge:2")
    assert second.approved and second.charge_id != first.charge_id


def test_reusing_a_key_for_a_different_charge_is_refused(tmp_path: Path) -> None:
    charge(tmp_path, "4000000000000002")
    with pytest.raises(IdempotencyConflict):
        charge(tmp_path, "4242424242424242")


def test_no_card_number_or_cvc_reaches_the_state_directory(tmp_path: Path) -> None:
    cards = ["4242424242424242", "4000000000000002", "4000000000000069", "4242424242424241"]
    for attempt, card in enumerate(cards):
        charge(tmp_path, card, key=f"SO-10001:charge:{attempt}", card_cvc="987")
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files
    for path in files:
        text = path.read_text()
        assert not any(card in text for card in cards)
        # As a whole value: three digits can turn up inside a random charge id.
        assert not re.search(r"(?<![0-9A-Za-z])987(?![0-9A-Za-z])", text)


def test_an_invoice_is_due_after_the_payment_terms_and_issued_once_per_key(
    tmp_path: Path,
) -> None:
    invoice = gateway(tmp_path).issue_invoice("SO-10001", 4900, "PO-7", "SO-10001:invoice")
    assert invoice.invoice_number.startswith("INV-")
    assert invoice.due_date == date(2024, 6, 5)
    assert gateway(tmp_path).issue_invoice("SO-10001", 4900, "PO-7", "SO-10001:invoice") == invoice


@pytest.mark.parametrize("amount", [0, -1, 49.0, True])
def test_an_amount_that_is_not_a_positive_number_of_cents_is_refused(
    tmp_path: Path, amount: Any
) -> None:
    with pytest.raises(ValueError, match="amount_cents"):
        gateway(tmp_path).charge("SO-10001", amount, "USD", "4242424242424242", "12/30", "123", "k")


def test_an_approved_charge_is_refunded_once_per_key(tmp_path: Path) -> None:
    charged = charge(tmp_path, "4242424242424242")
    first = gateway(tmp_path).refund(charged.charge_id, 4900, "refund:SO-10001")
    again = gateway(tmp_path).refund(charged.charge_id, 4900, "refund:SO-10001")
    assert first == again and first.refund_id.startswith("re_") and first.amount_cents == 4900
    assert len(list((tmp_path / "refunds").glob("*.json"))) == 1


def test_a_refund_of_an_unknown_or_declined_charge_or_of_too_much_is_refused(
    tmp_path: Path,
) -> None:
    declined = charge(tmp_path, "4000000000000002", key="k-declined")
    approved = charge(tmp_path, "4242424242424242", key="k-approved")
    with pytest.raises(RefundRefused):
        gateway(tmp_path).refund("ch_nothing", 100, "r1")
    with pytest.raises(RefundRefused):
        gateway(tmp_path).refund(declined.charge_id, 100, "r2")
    with pytest.raises(RefundRefused):
        gateway(tmp_path).refund(approved.charge_id, 4901, "r3")
