"""The `renewal` process: reminder, renewal purchase, expiry, grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.credentials.registration import add_years
from engine.clock import clock
from tests.builders import Journey
from tests.journey.builders_proofing import emails
from tests.journey.builders_purchase import APPROVED_CARD, DECLINED_CARD
from tests.journey.builders_tokens import TestToken
from tests.lifecycle.builders import Life, code_now, credential_row, issue_credential

CARD = {"card_number": APPROVED_CARD, "card_expiry": "12/39", "card_cvc": "737"}


def watch(life: Life) -> tuple[Journey, datetime, TestToken]:
    """A credential of one year and its renewal process, started for the customer as
    registration would (customers may not start `renewal` themselves)."""
    token = issue_credential(life, "alice", "TOK001")
    journey = Journey(life.system, life.actor("alice"))
    journey.start("renewal", {})
    assert journey.view()["business_key"] == "SO-10001"
    return journey, credential_row(life).expires_at, token


def until(moment: datetime) -> dict[str, float]:
    return {"seconds": (moment - clock.now()).total_seconds()}


def test_a_reminder_goes_out_30_days_before_expiry_and_renewal_adds_twelve_months(
    life: Life,
) -> None:
    journey, expires, token = watch(life)
    journey.advance(**until(expires - timedelta(days=30, minutes=1)))
    assert not any("expires on" in text for text in emails(life.system))
    journey.advance(minutes=2)
    assert "renew_subscription" in journey.active
    assert any("Your credential expires on" in text for text in emails(life.system))
    journey.complete("renew_subscription", CARD)
    assert journey.notices["credential_expires_at"] == add_years(expires, 1).isoformat()
    assert credential_row(life).expires_at == add_years(expires, 1)
    assert journey.active == ["renewal_reminder_due"]
    # The old expiry passes unnoticed; the token keeps working.
    journey.advance(days=31)
    assert credential_row(life).status == "active"
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"] is True


def test_an_unrenewed_credential_expires_and_renewal_after_expiry_restores_it(
    life: Life,
) -> None:
    journey, expires, _ = watch(life)
    journey.advance(**until(expires + timedelta(minutes=1)))
    row = credential_row(life)
    assert row.status == "expired"
    assert any("Your credential has expired" in text for text in emails(life.system))
    assert "renew_subscription" in journey.active
    # Renewing late counts from the old expiry: twelve months from it, not from today.
    journey.advance(days=10)
    journey.complete("renew_subscription", CARD)
    row = credential_row(life)
    assert (row.status, row.expires_at) == ("active", add_years(expires, 1))


def test_an_expired_credential_verifies_no_codes_until_renewed(life: Life) -> None:
    journey, expires, token = watch(life)
    journey.advance(**until(expires + timedelta(minutes=1)))
    answer = life.verify("aerospace-portal", "alice", code_now(token))
    assert answer == {"valid": False, "credential": None, "reason": "expired"}
    journey.complete("renew_subscription", CARD)
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"] is True


def test_a_declined_card_keeps_the_renewal_open_and_changes_nothing(life: Life) -> None:
    journey, expires, _ = watch(life)
    journey.advance(**until(expires - timedelta(days=29)))
    journey.complete("renew_subscription", {**CARD, "card_number": DECLINED_CARD})
    assert "renew_subscription" in journey.active
    assert "declined" in journey.variables["payment_error"]
    assert credential_row(life).expires_at == expires
    journey.complete("renew_subscription", CARD)
    assert credential_row(life).expires_at == add_years(expires, 1)
    assert journey.variables["payment_error"] is None


def test_renewal_closes_when_the_grace_period_is_over(life: Life) -> None:
    journey, expires, _ = watch(life)
    journey.advance(**until(expires + timedelta(days=90, minutes=1)))
    view = journey.view()
    assert view["status"] == "completed"
    assert credential_row(life).status == "expired"


def test_a_customer_without_a_credential_has_nothing_to_renew(life: Life) -> None:
    journey = Journey(life.system, life.actor("bob"))
    journey.start("renewal", {})
    assert journey.view()["status"] == "completed"
