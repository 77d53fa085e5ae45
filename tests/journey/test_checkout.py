"""Checkout as a shop does it: prices from the catalog, quoted when the product is chosen
and kept by the order; card details checked before any charge."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.catalog.prices import parse_price, set_price
from domain.orders.models import CardCharge, SalesOrder
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import InvalidInput
from engine.models import AuditEvent
from tests.builders import CUSTOMER, Journey, journey_system
from tests.journey.builders_purchase import CHECKOUT, INVOICE_CHECKOUT, stored_text
from tests.journey.builders_tokens import stock_tokens


def chosen(system, product: str = "token_without_proofing") -> Journey:
    journey = Journey(system, CUSTOMER)
    journey.start()
    journey.complete("choose_product", {"product": product})
    return journey


def the_order(system, journey: Journey) -> SalesOrder:
    with unit_of_work(system.session_factory) as s:
        query = select(SalesOrder).where(SalesOrder.instance_id == journey.instance_id)
        row = s.scalars(query).one()
        s.expunge(row)
        return row


def reprice(system, product: str, cents: int) -> None:
    with unit_of_work(system.session_factory) as s:
        set_price(s, product, cents, "analyst")


def charges(system) -> list[CardCharge]:
    with unit_of_work(system.session_factory) as s:
        return list(s.scalars(select(CardCharge)))


def test_the_catalog_opens_with_both_products_priced_in_dollars(config):
    system = journey_system(config)
    for product, cents in (("token_with_proofing", 8900), ("token_without_proofing", 4900)):
        variables = chosen(system, product).variables
        assert (variables["unit_price_cents"], variables["currency"]) == (cents, "USD")
        assert variables["total_cents"] == cents
        assert variables["product_name"].startswith("OTP hardware token")


def test_an_order_keeps_the_price_it_was_quoted_when_the_catalog_changes(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    card_order, invoice_order = chosen(system), chosen(system)
    reprice(system, "token_without_proofing", 5900)
    card_order.complete("checkout", CHECKOUT)
    invoice_order.complete("checkout", INVOICE_CHECKOUT)

    assert the_order(system, card_order).amount_cents == 4900
    assert [c.amount_cents for c in charges(system)] == [4900]
    assert the_order(system, invoice_order).amount_cents == 4900
    assert chosen(system).variables["unit_price_cents"] == 5900


def test_the_quote_comes_from_the_catalog_whatever_the_instance_was_started_with(config):
    system = journey_system(config)
    forged = {"unit_price_cents": 1, "currency": "USD", "product_name": "x", "total_cents": 1}
    journey = Journey(system, CUSTOMER)
    journey.start(data=forged)
    journey.complete("choose_product", {"product": "token_with_proofing"})
    assert (journey.variables["unit_price_cents"], journey.variables["total_cents"]) == (8900, 8900)


def test_a_price_change_is_audited_with_who_and_both_prices(config):
    system = journey_system(config)
    reprice(system, "token_with_proofing", 9900)
    with unit_of_work(system.session_factory) as s:
        [event] = s.scalars(
            select(AuditEvent).where(AuditEvent.event == "catalog.price_changed")
        ).all()
        assert event.actor == "analyst"
        assert event.details == {
            "product": "token_with_proofing",
            "previous_cents": 8900,
            "price_cents": 9900,
        }


@pytest.mark.parametrize(
    ("text", "cents"), [("49", 4900), ("49.5", 4950), ("$1,049.00", 104900), ("0.99", 99)]
)
def test_a_price_is_read_as_dollars_and_cents(text, cents):
    assert parse_price(text) == cents


@pytest.mark.parametrize("text", ["", "forty", "49.999", "-5", "1e3", "49.-1"])
def test_a_price_that_is_not_an_amount_says_what_is_expected(text):
    with pytest.raises(ValueError, match=r"such as 49\.00"):
        parse_price(text)


def refused_checkout(journey: Journey, **card: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        journey.complete("checkout", {**CHECKOUT, **card})
    assert "checkout" in journey.active
    return refused.value.errors


def last_month() -> str:
    earlier = clock.now().replace(day=1) - timedelta(days=1)
    return f"{earlier:%m/%y}"


@pytest.mark.parametrize(
    ("card", "field", "expected"),
    [
        ({"card_number": "4242424242424241"}, "card_number", "not valid"),
        ({"card_number": "4242"}, "card_number", "12 to 19 digits"),
        ({"card_number": ""}, "card_number", "12 to 19 digits"),
        ({"card_expiry": "13/30"}, "card_expiry", "MM/YY"),
        ({"card_expiry": "2030-01"}, "card_expiry", "e.g. 04/29"),
        ({"card_expiry": ""}, "card_expiry", "MM/YY"),
        ({"card_cvc": "12"}, "card_cvc", "3 or 4 digits"),
        ({"card_cvc": "12a"}, "card_cvc", "3 or 4 digits"),
    ],
)
def test_card_details_are_checked_before_any_charge_with_what_is_expected(
    config, card, field, expected
):
    system = journey_system(config)
    errors = refused_checkout(chosen(system), **card)
    assert list(errors) == [field]
    assert expected in errors[field]
    assert charges(system) == []


def test_an_expired_card_is_refused_by_the_engines_clock_and_this_month_still_passes(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = chosen(system)
    errors = refused_checkout(journey, card_expiry=last_month())
    assert "expired" in errors["card_expiry"]
    journey.complete("checkout", {**CHECKOUT, "card_expiry": f"{clock.now():%m/%y}"})
    assert journey.variables["order_status"] == "paid"


def test_spaced_card_numbers_are_accepted(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = chosen(system)
    journey.complete("checkout", {**CHECKOUT, "card_number": "4242 4242 4242 4242"})
    assert journey.variables["order_status"] == "paid"


def test_an_invoice_checkout_ignores_the_card_fields(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = chosen(system)
    journey.complete("checkout", {**INVOICE_CHECKOUT, "card_number": "1234"})
    assert journey.variables["invoice_number"]


def test_refused_card_details_leave_no_trace_in_tables_or_the_audit_trail(config):
    system = journey_system(config)
    journey = chosen(system)
    refused_checkout(journey, card_number="4242424242424241", card_cvc="9876")
    dump = stored_text(system) + json.dumps(journey.view())
    # The CVC as a value of its own: its digits may well occur inside a time stamp.
    assert "4242424242424241" not in dump and not re.search(r"(?<!\d)9876(?!\d)", dump)
