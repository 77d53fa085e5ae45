"""Redeeming a key someone else bought ("I already have a license key"): the customer skips
purchase and shipping, enters the key and gets a credential for that order's token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.credentials.models import Credential
from domain.orders.models import SalesOrder
from domain.tokens.models import HardwareToken
from engine.db import unit_of_work
from engine.errors import InvalidInput
from tests.builders import OTHER_CUSTOMER, Journey, journey_system
from tests.journey.builders_proofing import PROFILE
from tests.journey.builders_purchase import buy, license_keys_emailed
from tests.journey.builders_tokens import stock_tokens, two_codes

WRONG_KEY = "0000-0000-0000-0000"


def holder(system) -> Journey:
    """Customer B, who chose "I already have a license key"."""
    journey = Journey(system, OTHER_CUSTOMER)
    journey.start()
    journey.complete("choose_product", {"product": "already_purchased"})
    return journey


def bought(system, product: str = "token_without_proofing") -> tuple[Journey, str]:
    """Customer A's paid order and the key emailed for it."""
    buyer = buy(system, product=product)
    [key] = license_keys_emailed(system, buyer.view()["business_key"])
    return buyer, key


def refusal(journey: Journey, key: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        journey.complete("enter_license_key", {"license_key": key})
    assert "enter_license_key" in journey.active
    return refused.value.errors["license_key"]


def test_already_purchased_skips_checkout_and_shipping_and_asks_for_the_key(config):
    system = journey_system(config)

    journey = holder(system)

    # (resend_requested is the key entry's boundary event: nothing can reach it here)
    assert set(journey.active) == {"enter_license_key", "resend_requested"}
    view = journey.view()
    assert view["business_key"] is None
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(SalesOrder)).first() is None


def test_a_key_from_another_customers_order_brings_that_orders_data_along(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    buyer, key = bought(system, "token_with_proofing")
    journey = holder(system)

    journey.complete("enter_license_key", {"license_key": key})

    mine = journey.engine.instance(journey.instance_id, OTHER_CUSTOMER)
    number = buyer.view()["business_key"]
    assert mine["business_key"] == number
    given = mine["variables"]
    assert given["order_number"] == number
    assert given["product"] == "token_with_proofing"
    assert given["token_serial"] == buyer.variables["token_serial"] == "TF000001"
    assert given["paid_at"] == buyer.variables["paid_at"]
    assert given["purchase_skipped"] is True
    journey.complete("confirm_profile", PROFILE)
    assert "choose_proofing_method" in journey.active  # the buyer paid for proofing


def test_the_holder_registers_the_buyers_token_and_owns_the_credential(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    buyer, key = bought(system)
    journey = holder(system)
    journey.complete("enter_license_key", {"license_key": key})
    journey.complete("confirm_profile", PROFILE)
    journey.complete("activate_token", {})

    code1, code2 = two_codes("TF000001")
    journey.complete(
        "register_token", {"serial_number": "tf000001", "code1": code1, "code2": code2}
    )
    journey.complete("register_phone", {"skip": True})

    assert journey.view()["status"] == "completed"
    with unit_of_work(system.session_factory) as s:
        credential = s.scalars(select(Credential)).one()
        token = s.scalars(select(HardwareToken).where(HardwareToken.serial == "TF000001")).one()
        order = s.scalars(select(SalesOrder)).one()
        assert (credential.owner_id, credential.instance_id) == (
            OTHER_CUSTOMER.user_id,
            journey.instance_id,
        )
        assert credential.order_number == order.order_number
        assert credential.expires_at.replace(tzinfo=None) == order.paid_at.replace(
            tzinfo=None, year=order.paid_at.year + 1
        )
        assert (token.status, token.owner_id) == ("active", OTHER_CUSTOMER.user_id)
    # The buyer's own instance now learns that its key is spent.
    assert refusal(buyer, key) == "This license key has already been used."


def test_a_token_other_than_the_one_of_the_keys_order_is_refused_at_registration(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    _, key = bought(system)
    buy(system, OTHER_CUSTOMER)  # ships TF000002 to someone else
    journey = holder(system)
    journey.complete("enter_license_key", {"license_key": key})
    journey.complete("confirm_profile", PROFILE)
    journey.complete("activate_token", {})

    code1, code2 = two_codes("TF000002")
    with pytest.raises(InvalidInput) as refused:
        journey.complete(
            "register_token", {"serial_number": "TF000002", "code1": code1, "code2": code2}
        )
    assert "not the serial number" in refused.value.errors["serial_number"]


def test_a_used_key_is_refused_to_a_second_holder(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    _, key = bought(system)
    holder(system).complete("enter_license_key", {"license_key": key})

    assert refusal(holder(system), key) == "This license key has already been used."


def test_wrong_keys_are_refused_and_entry_locks_after_five(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    _, key = bought(system)
    journey = holder(system)

    messages = [refusal(journey, WRONG_KEY) for _ in range(5)]

    assert messages[0].startswith("This license key is not valid.")
    assert messages[4].endswith("Too many attempts. Try again in 15 minutes.")
    assert refusal(journey, key).startswith("Too many attempts.")
    assert journey.view()["business_key"] is None
