"""An order for several people: quantity N ships N tokens and emails N keys to the buyer,
who keeps one and hands the others on with their tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.catalog.prices import current_quote
from domain.credentials.models import Credential
from domain.license_keys.models import LicenseKey
from domain.orders.models import SalesOrder
from domain.tokens.models import HardwareToken
from engine.actors import Actor
from engine.db import unit_of_work
from engine.errors import InvalidInput
from tests.builders import CUSTOMER, OTHER_CUSTOMER, Journey, add_people, journey_system
from tests.journey.builders_proofing import PROFILE
from tests.journey.builders_purchase import LICENSE_KEY, buy, emails_about, text_of
from tests.journey.builders_tokens import stock_tokens, two_codes

THIRD_CUSTOMER = Actor("carol", frozenset({"customer"}), user_id=103)


def keys_emailed(system, number: str) -> list[str]:
    [message] = emails_about(system, f"license keys for order {number}")
    return LICENSE_KEY.findall(text_of(message))


def redeem(system, actor: Actor, key: str) -> Journey:
    journey = Journey(system, actor)
    journey.start()
    journey.complete("choose_product", {"product": "already_purchased"})
    journey.complete("enter_license_key", {"license_key": key})
    return journey


def register(journey: Journey) -> None:
    journey.complete("confirm_profile", PROFILE)
    journey.complete("activate_token", {})
    serial = journey.variables["license_token_serial"]
    code1, code2 = two_codes(serial)
    journey.complete("register_token", {"serial_number": serial, "code1": code1, "code2": code2})
    journey.complete("register_phone", {"skip": True})


def test_an_order_of_three_ships_three_tokens_and_emails_three_keys(config):
    system = journey_system(config)
    stock_tokens(system, 4)

    buyer = buy(system, quantity=3)

    number = buyer.view()["business_key"]
    assert len(set(keys_emailed(system, number))) == 3
    with unit_of_work(system.session_factory) as s:
        order = s.scalars(select(SalesOrder)).one()
        unit = current_quote(s, order.product).unit_price_cents
        assert (order.quantity, order.amount_cents) == (3, 3 * unit)
        serials = s.scalars(
            select(HardwareToken.serial)
            .where(HardwareToken.order_number == number)
            .order_by(HardwareToken.serial)
        ).all()
        assert serials == ["TF000001", "TF000002", "TF000003"]
        keys = s.scalars(select(LicenseKey).order_by(LicenseKey.id)).all()
        assert [k.position for k in keys] == [1, 2, 3]
    assert buyer.variables["token_serial"] == "TF000001"


def test_each_key_of_the_order_registers_its_own_token_for_whoever_enters_it(config):
    system = journey_system(config)
    add_people(system, THIRD_CUSTOMER)
    stock_tokens(system, 3)
    buyer = buy(system, quantity=3)
    number = buyer.view()["business_key"]
    first, second, third = keys_emailed(system, number)
    buyer.message("token_delivered", {"carrier_status": "delivered"})

    buyer.complete("enter_license_key", {"license_key": second})
    bob = redeem(system, OTHER_CUSTOMER, first)
    carol = redeem(system, THIRD_CUSTOMER, third)

    assert [j.variables["token_serial"] for j in (bob, carol)] == ["TF000001", "TF000003"]
    assert buyer.variables["license_token_serial"] == "TF000002"
    for journey in (buyer, bob, carol):
        register(journey)
        assert journey.view()["status"] == "completed"
    with unit_of_work(system.session_factory) as s:
        owners = {
            c.token_serial: c.owner_id
            for c in s.scalars(select(Credential).where(Credential.order_number == number))
        }
    assert owners == {
        "TF000001": OTHER_CUSTOMER.user_id,
        "TF000002": CUSTOMER.user_id,
        "TF000003": THIRD_CUSTOMER.user_id,
    }


@pytest.mark.parametrize("quantity", [0, 101])
def test_a_quantity_outside_one_to_a_hundred_is_refused_at_checkout(config, quantity):
    system = journey_system(config)
    with pytest.raises(InvalidInput) as refused:
        buy(system, quantity=quantity)
    assert "quantity" in refused.value.errors


def test_a_resend_replaces_only_the_keys_nobody_has_used(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    buyer = buy(system, quantity=2)
    number = buyer.view()["business_key"]
    first, second = keys_emailed(system, number)
    redeem(system, OTHER_CUSTOMER, first)

    buyer.message("resend_license_key")

    [resent] = emails_about(system, f"license key for order {number}, once more")
    [new] = LICENSE_KEY.findall(text_of(resent))
    assert new not in (first, second)
    with pytest.raises(InvalidInput) as refused:
        buyer.complete("enter_license_key", {"license_key": second})
    assert "replaced by a newer one" in refused.value.errors["license_key"]
    buyer.complete("enter_license_key", {"license_key": new})
    assert buyer.variables["license_token_serial"] == "TF000002"
