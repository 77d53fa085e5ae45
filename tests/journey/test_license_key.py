from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.license_keys.models import LicenseKey
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import InvalidInput
from engine.registry import HandlerContext
from handlers.license_keys import resend_license_key
from tests.builders import (
    AGENT,
    OTHER_CUSTOMER,
    SUPPORT,
    Journey,
    journey_system,
)
from tests.journey.builders_purchase import (
    buy,
    license_keys_emailed,
    stored_text,
    system_with_broken_mail,
)
from tests.journey.builders_tokens import stock_tokens

WRONG_KEY = "0000-0000-0000-0000"


def bought(system, actor=None) -> tuple[Journey, str]:
    """A paid journey waiting at enter_license_key, and the key emailed for it."""
    journey = buy(system) if actor is None else buy(system, actor)
    [key] = license_keys_emailed(system, journey.view()["business_key"])
    return journey, key


def refusal(journey: Journey, key: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        journey.complete("enter_license_key", {"license_key": key})
    assert "enter_license_key" in journey.active
    return refused.value.errors["license_key"]


def key_rows(system) -> list[LicenseKey]:
    with unit_of_work(system.session_factory) as s:
        rows = list(s.scalars(select(LicenseKey).order_by(LicenseKey.id)))
        s.expunge_all()
        return rows


def test_the_emailed_key_is_accepted_once_and_the_journey_moves_on(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey, key = bought(system)

    journey.complete("enter_license_key", {"license_key": key.lower().replace("-", " ")})

    assert "confirm_profile" in journey.active
    variables = journey.variables
    assert variables["license_order_number"] == journey.view()["business_key"]
    assert variables["token_serial"] == "TF000001"
    [row] = key_rows(system)
    assert (row.status, row.used_by_owner_id) == ("used", journey.actor.user_id)


def test_the_clear_key_is_stored_nowhere_only_its_hash(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey, key = bought(system)
    journey.complete("enter_license_key", {"license_key": key})

    compact = key.replace("-", "")
    dump = stored_text(system) + repr(journey.view())
    assert key not in dump and compact not in dump
    assert journey.variables["license_key"] == "XXXX-XXXX-XXXX-" + compact[-4:]


def test_a_wrong_key_is_refused_and_the_task_stays_open(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey, _ = bought(system)

    assert refusal(journey, WRONG_KEY) == (
        "This license key is not valid. Please check it against the email we sent."
    )
    assert "16 letters and digits" in refusal(journey, "not a key")


def test_a_used_key_is_refused(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    first, key = bought(system)
    first.complete("enter_license_key", {"license_key": key})
    second, _ = bought(system, OTHER_CUSTOMER)

    assert refusal(second, key) == "This license key has already been used."


def test_an_unused_key_from_another_order_is_accepted_and_names_that_order(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    giver, key = bought(system)
    taker, _ = bought(system, OTHER_CUSTOMER)

    taker.complete("enter_license_key", {"license_key": key})

    assert taker.variables["license_order_number"] == giver.view()["business_key"]
    assert taker.variables["license_token_serial"] == giver.variables["token_serial"]
    assert taker.variables["token_serial"] == "TF000002"  # the token shipped to the taker
    assert refusal(giver, key) == "This license key has already been used."
    [row, _] = key_rows(system)
    assert (row.used_by_owner_id, row.used_in_instance_id) == (
        OTHER_CUSTOMER.user_id,
        taker.instance_id,
    )


def test_repeated_wrong_keys_lock_entry_for_fifteen_minutes(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey, key = bought(system)

    messages = [refusal(journey, WRONG_KEY) for _ in range(5)]

    assert "Too many attempts" not in messages[3]
    assert messages[4].endswith("Too many attempts. Try again in 15 minutes.")
    assert refusal(journey, key) == "Too many attempts. Try again in 15 minutes."
    journey.advance(minutes=15)
    journey.complete("enter_license_key", {"license_key": key})
    assert "confirm_profile" in journey.active


def test_the_lockout_follows_the_customer_to_another_order(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    first, _ = bought(system)
    for _ in range(5):
        refusal(first, WRONG_KEY)
    second, key = bought(system)

    assert refusal(second, key).startswith("Too many attempts.")


def test_no_support_task_opens_when_the_key_email_went_out_in_time(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey, _ = bought(system)
    journey.advance(hours=25)
    assert not journey.tasks(SUPPORT, "license_key_sla_breach")
    assert "enter_license_key" in journey.active


def test_support_is_alerted_when_the_key_email_has_not_gone_out_after_24_hours(config):
    system, mail = system_with_broken_mail(config)
    stock_tokens(system, 1)
    journey = buy(system)
    number = journey.view()["business_key"]

    for _ in range(3):  # the retries, with backoff, run out
        journey.advance(minutes=10)
    assert journey.view()["status"] == "incident"
    journey.advance(hours=23)
    assert not journey.tasks(SUPPORT, "license_key_sla_breach")

    journey.advance(minutes=30, seconds=1)
    breach = journey.task("license_key_sla_breach", SUPPORT)
    assert breach["lane"] == "support"
    assert license_keys_emailed(system, number) == []

    mail.repaired = True
    journey.complete("license_key_sla_breach", {"resolution": "resend"}, actor=SUPPORT)

    [key] = license_keys_emailed(system, number)
    journey.complete("enter_license_key", {"license_key": key})
    assert "confirm_profile" in journey.active
    first, resent = key_rows(system)
    assert (first.status, first.emailed_at) == ("replaced", None)
    assert resent.status == "used"


def test_the_sla_breach_is_also_offered_to_the_support_leads_group(config):
    """A lane says support may act; the group says who else should: the leads, whatever
    their role (here a proofing agent who leads the support shift)."""
    system, _ = system_with_broken_mail(config)
    stock_tokens(system, 1)
    journey = buy(system)
    lead = Actor("lee", frozenset({"proofing_agent"}), 302, frozenset({"support_leads"}))
    for _ in range(3):
        journey.advance(minutes=10)
    journey.advance(hours=23, minutes=30, seconds=1)
    assert journey.task("license_key_sla_breach", lead)["lane"] == "support"
    assert not journey.tasks(AGENT, "license_key_sla_breach")
    journey.complete("license_key_sla_breach", {"resolution": "contacted_customer"}, actor=lead)
    assert not journey.tasks(SUPPORT, "license_key_sla_breach")


def test_a_resent_key_replaces_the_key_emailed_before(config):
    system, mail = system_with_broken_mail(config)
    mail.repaired = True
    stock_tokens(system, 1)
    journey, first = bought(system)

    with unit_of_work(system.session_factory) as s:
        row = s.scalars(select(LicenseKey)).one()
        context = _support_context(system, s, journey, row.order_number)
        assert resend_license_key(context)["license_key_resent"] is True
    _, second = license_keys_emailed(system, journey.view()["business_key"])

    assert second != first
    assert refusal(journey, first).startswith("This license key was replaced")
    journey.complete("enter_license_key", {"license_key": second})


def _support_context(system, session, journey, order_number):
    return HandlerContext(
        session=session,
        instance_id=journey.instance_id,
        element="resend_license_key",
        task_id="support-resend-1",
        business_key=order_number,
        owner_id=journey.actor.user_id,
        now=clock.now(),
        data={"order_number": order_number},
        actor=SUPPORT.name,
        services=system.services,
    )
