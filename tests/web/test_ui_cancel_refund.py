"""A customer cancels a paid order before it ships (here: no token in stock, so it waits
for shipping): the card is refunded in the sandbox, the order page and the receipt say so,
the license key stops working, the tokens go back to stock and the instance ends."""

from __future__ import annotations

import json

import pytest

from domain.tokens.models import HardwareToken
from engine.db import unit_of_work
from tests.builders import ADMIN
from tests.journey.builders_purchase import license_keys_emailed
from tests.journey.builders_tokens import stock_tokens
from tests.web.builders_pages import Browser, buy, order_number, start_order, submit_task, ui_system


@pytest.fixture
def system(config):
    return ui_system(config, tokens=0)  # paid orders wait for stock: not shipped


def refunds(system) -> list[dict]:
    folder = system.config.instance_dir / "sandbox" / "payment" / "refunds"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_a_paid_card_order_cancelled_before_shipping_is_refunded_and_ends(system, app, alice):
    order_url = buy(alice)
    instance_id = order_url.rsplit("/", 1)[1]
    alice.get(order_url)
    number = order_number(alice)
    [key] = license_keys_emailed(system, number)
    assert alice.links(f"{order_url}/cancel")
    alice.get(f"{order_url}/cancel")
    assert "We refund $49.00 to your card ending 4242" in alice.text()

    alice.follow(alice.post(f"{order_url}/cancel"))

    text = alice.text()
    assert f"Order {number} is cancelled. We sent you an email." in text
    assert "Refund $49.00 refunded to your card on" in text
    assert "Cancelled" in text and "your payment was refunded" in text
    assert not alice.links(f"{order_url}/cancel")
    [refund] = refunds(system)
    assert refund["result"]["amount_cents"] == 4900
    assert refund["result"]["refund_id"].startswith("re_")
    alice.get(f"{order_url}/receipt")
    assert f"Order {number} is cancelled" in alice.text()
    assert "Refund $49.00 refunded to your card" in alice.text()
    assert system.engine.instance(instance_id, ADMIN)["status"] == "completed"
    assert system.engine.instance(instance_id, ADMIN)["active"] == []

    bob = Browser(app).login("bob")
    product_url = start_order(bob)
    key_url = submit_task(bob, product_url, {"product": "already_purchased"}).headers["Location"]
    response = submit_task(bob, key_url, {"license_key": key})
    assert response.status_code == 422 and "no longer active" in bob.text()


def test_an_order_that_shipped_is_not_cancelled(system, alice):
    stock_tokens(system, 1)
    order_url = buy(alice)
    alice.get(order_url)
    assert "Tracking number" in alice.text()
    assert not alice.links(f"{order_url}/cancel")
    alice.follow(alice.post(f"{order_url}/cancel"))
    assert "can no longer be cancelled" in alice.text()
    assert refunds(system) == []


def test_a_cancelled_orders_tokens_go_back_to_stock(system, alice):
    order_url = buy(alice, quantity="2")
    stock_tokens(system, 1)  # one of two: allocation still waits, all or none
    alice.get(order_url)
    alice.follow(alice.post(f"{order_url}/cancel"))
    with unit_of_work(system.session_factory) as s:
        statuses = {t.status for t in s.query(HardwareToken)}
    assert statuses == {"available"}
    assert refunds(system)[0]["result"]["amount_cents"] == 2 * 4900
