"""The pages of "I already have a license key": Bob redeems the key of Alice's order and
registers the token she hands over; Alice's own key page then says the key was used."""

from __future__ import annotations

import re

from tests.journey.builders_proofing import PROFILE
from tests.journey.builders_purchase import license_keys_emailed
from tests.journey.builders_tokens import totp_codes
from tests.web.builders_pages import Browser, buy, order_number, start_order, submit_task


def test_a_customer_redeems_a_key_from_someone_elses_order_through_the_pages(system, app, alice):
    alice_order = buy(alice)
    alice.get(alice_order)
    number = order_number(alice)
    [key] = license_keys_emailed(system, number)
    bob = Browser(app).login("bob")

    product_url = start_order(bob)
    bob.get(product_url)
    assert 'value="already_purchased"' in bob.page
    assert "I already have a license key (I do not need to purchase a credential)" in bob.text()
    key_url = submit_task(bob, product_url, {"product": "already_purchased"}).headers["Location"]
    bob.get(key_url)
    assert "Enter license key" in bob.text()
    # Bob got no email from us: the help says where his key comes from.
    assert "The key the buyer of your token gave you" in bob.text()
    assert "we sent you after payment" not in bob.text()
    bob_order = bob.links(r"/orders/[0-9a-f-]{36}")[0]
    bob.get(bob_order)
    assert "Someone else bought your token." in bob.text()
    assert "Enter the license key you were given." in bob.text()

    profile_url = bob.post(key_url, {"license_key": key}).headers["Location"]
    activate_url = submit_task(bob, profile_url, PROFILE).headers["Location"]
    bob.get(bob_order)
    text = bob.text()
    assert f"Order {number}" in text
    assert f"Paid with order {number} on" in text
    serial = re.search(r"Token serial (\S+)", text).group(1)
    assert f"The buyer hands token {serial} over to you." in text

    register_url = bob.post(activate_url, {"activation_code": ""}).headers["Location"]
    code1, code2 = totp_codes(serial)
    response = submit_task(
        bob, register_url, {"serial_number": serial, "code1": code1, "code2": code2}
    )
    phone_url = response.headers["Location"]
    bob.follow(submit_task(bob, phone_url, {"skip": "true", "channel": "sms"}))
    assert "All done" in bob.text()

    alice.get(alice_order)
    response = submit_task(alice, alice.task_url(), {"license_key": key})
    assert response.status_code == 422
    assert "This license key has already been used." in alice.text()


def test_the_buyers_order_page_says_who_used_the_key_and_never_shows_it(system, app, alice):
    alice_order = buy(alice)
    alice.get(alice_order)
    [key] = license_keys_emailed(system, order_number(alice))
    assert "License key 1 Not used yet: sent by email on" in alice.text()
    bob = Browser(app).login("bob")
    product_url = start_order(bob)
    key_url = submit_task(bob, product_url, {"product": "already_purchased"}).headers["Location"]

    submit_task(bob, key_url, {"license_key": key})

    alice.get(alice_order)
    assert "License key 1 Used by bob on" in alice.text()
    assert key not in alice.page and key.replace("-", "") not in alice.page


def test_an_order_of_three_lists_three_keys_on_the_buyers_order_page(system, alice):
    url = start_order(alice)
    alice.get(url)
    checkout_url = submit_task(alice, url, {"product": "token_without_proofing"}).headers[
        "Location"
    ]
    alice.get(checkout_url)
    assert 'name="quantity"' in alice.page and "1 to 100" in alice.text()

    order_url = buy(alice, quantity="3")

    alice.get(order_url)
    text = alice.text()
    assert "Quantity 3 tokens, each with its own license key" in text
    assert "License key 3 Not used yet: sent by email on" in text
    assert "License key 4" not in text
