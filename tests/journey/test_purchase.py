from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from domain.orders.models import CardCharge, SalesOrder
from engine.db import unit_of_work
from engine.models import Incident
from engine.registry import BpmnError, HandlerContext
from handlers.payment import charge_card
from handlers.shipping import allocate_token
from tests.builders import ADMIN, CUSTOMER, FINANCE, journey_system
from tests.journey.builders_purchase import (
    APPROVED_CARD,
    CHECKOUT,
    DECLINED_CARD,
    INVOICE_CHECKOUT,
    buy,
    emails_about,
    license_keys_emailed,
    stored_text,
)
from tests.journey.builders_tokens import stock_tokens
from tests.journey.builders_tokens import token_row as token


def order(system, order_number: str) -> SalesOrder:
    with unit_of_work(system.session_factory) as s:
        row = s.scalars(select(SalesOrder).where(SalesOrder.order_number == order_number)).one()
        s.expunge(row)
        return row


def approved_charges(system) -> list[dict]:
    records = [
        json.loads(p.read_text())
        for p in (system.config.sandbox_dir / "payment" / "charges").glob("*.json")
    ]
    return [r["result"] for r in records if r["result"]["approved"]]


def test_a_card_purchase_gets_an_order_number_confirmation_shipped_token_and_license_key(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    journey = buy(system, product="token_with_proofing")

    view = journey.view()
    number = view["business_key"]
    assert re.fullmatch(r"SO-\d{5,}", number)
    variables = view["variables"]
    assert variables["order_number"] == number
    assert variables["order_status"] == "paid"
    assert variables["amount_cents"] == 8900
    assert variables["token_serial"] == "TF000001"
    assert variables["tracking_number"].startswith("1Z")
    assert variables["license_key_sent_at"]
    assert "enter_license_key" in view["active"]
    [confirmation] = emails_about(system, f"Your order {number}")
    assert "customer-101@" in str(confirmation["To"])
    [shipped] = emails_about(system, f"Your token is on its way (order {number})")
    assert variables["tracking_number"] in shipped.get_body(("plain",)).get_content()
    assert len(license_keys_emailed(system, number)) == 1
    allocated = token(system, "TF000001")
    assert (allocated.status, allocated.order_number) == ("allocated", number)
    assert order(system, number).paid_at is not None


def test_order_numbers_count_up_and_are_never_shared(config):
    system = journey_system(config)
    stock_tokens(system, 2)
    first = buy(system).view()["business_key"]
    second = buy(system).view()["business_key"]
    assert int(second[3:]) == int(first[3:]) + 1


def test_a_declined_card_returns_to_checkout_with_the_reason_and_charges_only_once(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system, card_number=DECLINED_CARD)

    checkout = journey.task("checkout")
    assert checkout["name"] == "checkout"
    assert journey.variables["payment_error"] == "Your card was declined."
    assert journey.view()["business_key"] is None
    assert approved_charges(system) == []

    journey.complete("checkout", CHECKOUT)
    assert journey.variables["payment_error"] is None
    assert journey.variables["order_status"] == "paid"
    [charge] = approved_charges(system)
    assert charge["card_last4"] == "4242"
    assert order(system, journey.view()["business_key"]).payment_reference == charge["charge_id"]


def test_card_data_is_never_stored_in_task_data_tables_or_logs(config, caplog):
    caplog.set_level(logging.DEBUG)
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system, card_number=DECLINED_CARD, card_expiry="11/38")
    journey.complete("checkout", {**CHECKOUT, "card_expiry": "10/37"})

    dump = stored_text(system) + json.dumps(journey.view()) + caplog.text
    for value in (APPROVED_CARD, DECLINED_CARD, "11/38", "10/37"):
        assert value not in dump


def test_an_invoice_is_emailed_and_the_order_is_fulfilled_when_payment_received_arrives(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system, **INVOICE_CHECKOUT)
    number = journey.view()["business_key"]
    assert journey.variables["order_status"] == "open"
    assert "payment_or_reminder" in journey.active
    [invoice] = emails_about(system, f"for order {number}")
    assert "PO-4711" in invoice.get_body(preferencelist=("plain",)).get_content()
    assert license_keys_emailed(system, number) == []

    journey.message("payment_received", {"reference": "BANK-123"})

    assert journey.variables["order_status"] == "paid"
    assert order(system, number).payment_reference == "BANK-123"
    assert len(license_keys_emailed(system, number)) == 1
    assert "enter_license_key" in journey.active


def test_finance_records_an_invoice_payment_by_sending_the_message(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system, **INVOICE_CHECKOUT)
    number = journey.view()["business_key"]

    system.engine.correlate("payment_received", number, {}, FINANCE)

    assert order(system, number).status == "paid"
    assert journey.variables["token_serial"] == "TF000001"


def test_an_unpaid_invoice_is_reminded_weekly_and_cancelled_after_30_days(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system, **INVOICE_CHECKOUT)
    number = journey.view()["business_key"]

    journey.advance(days=7, minutes=1)
    assert len(emails_about(system, "Reminder: invoice")) == 1
    journey.advance(days=7)
    journey.advance(days=7)
    journey.advance(days=7)
    assert len(emails_about(system, "Reminder: invoice")) == 4
    assert journey.view()["status"] == "running"

    journey.advance(days=2)
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["order_status"] == "cancelled"
    assert order(system, number).status == "cancelled"
    assert len(emails_about(system, f"Your order {number} has been cancelled")) == 1
    assert token(system, "TF000001").status == "available"
    assert license_keys_emailed(system, number) == []


def test_the_carriers_delivery_message_records_the_delivery(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system)
    number = journey.view()["business_key"]

    journey.message("token_delivered")

    assert journey.variables["delivered_at"]
    assert order(system, number).delivered_at is not None
    assert "token_delivered_event" not in journey.active


def test_an_order_without_stock_becomes_an_incident_and_ships_once_tokens_arrive(config):
    system = journey_system(config)
    journey = buy(system)
    for _ in range(3):  # the retries, with backoff
        journey.advance(minutes=10)
    with unit_of_work(system.session_factory) as s:
        [incident] = s.scalars(select(Incident).where(Incident.status == "open"))
        assert (incident.element, incident.topic) == ("allocate_token", "allocate_token")
        assert "no hardware token is in stock" in incident.error

    stock_tokens(system, 1)
    system.engine.retry_incident(incident.id, ADMIN)

    assert journey.variables["token_serial"] == "TF000001"
    assert journey.variables["tracking_number"]


def handler_context(system, session, secrets: dict) -> HandlerContext:
    from engine.clock import clock

    return HandlerContext(
        session=session,
        instance_id="instance-1",
        element="charge_card",
        task_id="task-1",
        business_key=None,
        owner_id=CUSTOMER.user_id,
        now=clock.now(),
        data={"product": "token_without_proofing"},
        secrets=secrets,
        services=system.services,
    )


def test_running_charge_card_twice_after_a_crash_charges_the_card_once(config):
    system = journey_system(config)
    card = {"card_number": APPROVED_CARD, "card_expiry": "12/39", "card_cvc": "737"}
    session = system.session_factory()
    try:
        first = charge_card(handler_context(system, session, card))
        session.rollback()  # the step crashed before it committed
        second = charge_card(handler_context(system, session, card))
        third = charge_card(handler_context(system, session, card))  # ran twice, then commit
        session.commit()
        recorded = session.scalars(select(CardCharge)).all()
    finally:
        session.close()
    assert first == second == third == {"payment_error": None}
    [charge] = approved_charges(system)
    assert [(c.charge_id, c.amount_cents) for c in recorded] == [(charge["charge_id"], 4900)]


def test_a_retry_without_card_data_sends_the_customer_back_to_checkout(config):
    system = journey_system(config)
    with unit_of_work(system.session_factory) as s, pytest.raises(BpmnError) as thrown:
        charge_card(handler_context(system, s, {}))
    assert thrown.value.code == "card_declined"
    assert "enter your card details again" in thrown.value.data["payment_error"]
    assert approved_charges(system) == []


def test_two_orders_allocating_at_once_take_different_tokens_without_waiting(config):
    if not config.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time; SKIP LOCKED is PostgreSQL's")
    system = journey_system(config)
    stock_tokens(system, 2)
    with unit_of_work(system.session_factory) as s:
        for n in (1, 2):
            s.add(
                SalesOrder(
                    order_number=f"SO-9000{n}",
                    instance_id=f"instance-{n}",
                    product="token_without_proofing",
                    amount_cents=2900,
                    currency="USD",
                    status="paid",
                )
            )
    first, second = system.session_factory(), system.session_factory()
    try:
        taken = [
            allocate_token(replace(handler_context(system, session, {}), instance_id=iid))
            for session, iid in ((first, "instance-1"), (second, "instance-2"))
        ]  # the first transaction still holds its token while the second picks
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert taken == [{"token_serial": "TF000001"}, {"token_serial": "TF000002"}]
