"""A customer cancels an order that has not shipped: the invoice is voided and the
journey ends cleanly; once paid (and so shipped), the order can no longer be cancelled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.orders.models import SalesOrder
from engine.db import unit_of_work
from engine.errors import NotFound
from engine.models import Job, MessageSubscription
from tests.builders import CUSTOMER, journey_system
from tests.journey.builders_purchase import INVOICE_CHECKOUT, buy, emails_about
from tests.journey.builders_tokens import stock_tokens

CANCEL = "order_cancel_requested"


def test_cancelling_an_unpaid_invoice_order_voids_it_and_ends_the_journey(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system, **INVOICE_CHECKOUT)
    number = journey.view()["business_key"]

    system.engine.correlate(CANCEL, number, {}, CUSTOMER)

    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["order_status"] == "cancelled"
    with unit_of_work(system.session_factory) as s:
        order = s.scalars(select(SalesOrder).where(SalesOrder.order_number == number)).one()
        assert (order.status, order.cancelled_at is not None) == ("cancelled", True)
        assert order.token_serial is None
        waiting = s.scalars(
            select(MessageSubscription).where(
                MessageSubscription.instance_id == journey.instance_id
            )
        ).all()
        assert waiting == []
        assert s.scalars(select(Job).where(Job.instance_id == journey.instance_id)).all() == []
    [email] = emails_about(system, f"Your order {number} has been cancelled")
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "you cancelled it" in body and "is void and nothing is owed" in body


def test_a_paid_order_cannot_be_cancelled_any_more(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system)
    with pytest.raises(NotFound):
        system.engine.correlate(CANCEL, journey.view()["business_key"], {}, CUSTOMER)
    assert journey.variables["order_status"] == "paid"
