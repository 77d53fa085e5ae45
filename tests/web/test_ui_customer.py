"""The customer's pages: get a token, task forms, the order's progress, credentials,
and that nobody else's order or task is in reach."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.clock import clock
from tests.builders import ADMIN
from tests.journey.builders_proofing import HOME, PROFILE, RIGHT_ANSWERS, SSN_LAST4
from tests.journey.builders_purchase import license_keys_emailed
from tests.journey.builders_tokens import totp_codes
from tests.web.builders_pages import (
    CHECKOUT,
    Browser,
    buy,
    order_number,
    start_order,
    submit_task,
)
from tokenflow.worker import Worker, follow_parcels
from web.ui.filters import when


def test_get_a_token_opens_the_product_form_with_labels_help_and_choices(alice):
    url = start_order(alice)
    assert url.startswith("/tasks/")
    alice.get(url)
    page = alice.page
    assert '<h1 id="task-title">Choose product</h1>' in page
    assert "<legend>Product" in page and "(required)" in page
    assert 'type="radio"' in page and 'value="token_with_proofing"' in page
    assert "Both come with a one-year subscription" in page
    assert 'aria-describedby="help-product"' in page


def test_checkout_errors_are_inline_and_keep_what_was_typed_except_card_data(alice):
    url = start_order(alice)
    checkout = submit_task(alice, url, {"product": "token_with_proofing"}).headers["Location"]
    response = submit_task(
        alice, checkout, {**CHECKOUT, "ship_country": "Atlantis", "disclaimer_accepted": ""}
    )
    assert response.status_code == 422
    page = alice.page
    assert "Please check the form" in page
    assert '<a href="#field-ship_country">' in page
    assert 'id="error-ship_country"' in page and 'aria-invalid="true"' in page
    assert "Please confirm this." in page
    assert "for example US for the United States" in alice.text()
    assert 'value="12 Birch Road"' in page
    # Sensitive fields are never echoed back (a bare "737" can occur in an order's uuid).
    assert "4242424242424242" not in page
    assert 'value="737"' not in page and 'value="12/39"' not in page
    assert alice.page.count('type="checkbox"') == 2
    assert re.search(r'name="billing_same_as_shipping" value="true"\s+checked', page)


def test_html_typed_into_a_form_is_shown_as_text(alice):
    url = start_order(alice)
    checkout = submit_task(alice, url, {"product": "token_without_proofing"}).headers["Location"]
    evil = '<script>alert("x")</script><b onmouseover=alert(1)>Jane</b>'
    submit_task(alice, checkout, {**CHECKOUT, "ship_name": evil, "ship_country": "Atlantis"})
    assert "<script>alert" not in alice.page and "<b onmouseover" not in alice.page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in alice.page


def test_a_declined_card_shows_the_reason_on_checkout_again(alice):
    url = start_order(alice)
    checkout = submit_task(alice, url, {"product": "token_without_proofing"}).headers["Location"]
    response = submit_task(alice, checkout, {**CHECKOUT, "card_number": "4000000000000002"})
    assert response.status_code == 302
    alice.follow(response)
    assert "Check out" in alice.text()
    assert 'class="notice notice-warning" role="alert"' in alice.page
    assert "declined" in alice.text().lower()


def test_the_order_page_shows_the_number_progress_and_the_next_step(system, alice):
    order_url = buy(alice)
    alice.get(order_url)
    text = alice.text()
    number = order_number(alice)
    assert f"Order {number}" in text
    assert "Paid by card on" in text
    assert "Tracking number 1Z" in text
    assert "License key emailed" in text and "Sent by email on" in text
    assert "Not part of your product." in text
    assert "What to do next Enter license key" in text
    assert 'aria-current="step"' in alice.page
    alice.get("/")
    assert number in alice.text() and "Enter license key" in alice.text()


def test_a_customer_walks_from_purchase_to_a_registered_token(system, alice):
    order_url = buy(alice)
    alice.get(order_url)
    number = order_number(alice)
    [key] = license_keys_emailed(system, number)
    key_url = alice.task_url()
    response = submit_task(alice, key_url, {"license_key": "WRONG-KEY"})
    assert response.status_code == 422 and "A license key has 16 letters" in alice.text()
    assert 'value="WRONG-KEY"' in alice.page
    response = alice.post(key_url, {"license_key": key.lower()})
    profile_url = response.headers["Location"]
    activate_url = submit_task(alice, profile_url, PROFILE).headers["Location"]
    alice.get(order_url)
    assert "License key 1 Used by you on" in alice.text()
    alice.get(activate_url)
    assert "Activate token" in alice.text()
    response = alice.post(activate_url, {"activation_code": ""})
    alice.follow(response)
    assert "Registration opens as soon as your token arrives." in alice.text()
    clock.advance(timedelta(days=3))  # the sandbox carrier's delivery time
    Worker(system).tick()
    alice.get(order_url)
    assert "Delivered on" in alice.text()
    register_url = alice.task_url()
    serial = re.search(r"Token serial (\S+)", alice.text()).group(1)
    code1, code2 = totp_codes(serial)
    response = submit_task(
        alice, register_url, {"serial_number": serial, "code1": code1, "code2": code2}
    )
    phone_url = response.headers["Location"]
    response = submit_task(alice, phone_url, {"skip": "true", "channel": "sms"})
    alice.follow(response)
    text = alice.text()
    assert "All done" in text and "Your credential is active until" in text
    alice.get("/credentials")
    assert f"Token {serial}" in alice.text() and "Active" in alice.text()


def test_the_order_page_lists_the_carriers_tracking_events_as_they_come(system, alice):
    shipped = clock.now()  # the sandbox carrier takes three days, as configured by default
    order_url = buy(alice)
    alice.get(order_url)
    assert "In transit" not in alice.text()
    clock.advance(timedelta(days=2, hours=6))
    follow_parcels(system)
    alice.get(order_url)
    text = alice.text()
    assert "Out for delivery." in text
    assert f"In transit · {when(shipped + timedelta(hours=18))}" in text
    assert f"Out for delivery · {when(shipped + timedelta(hours=54))}" in text
    assert "Delivered ·" not in text
    clock.advance(timedelta(days=1))
    follow_parcels(system)
    alice.get(order_url)
    assert f"Delivered · {when(shipped + timedelta(days=3))}" in alice.text()


def test_without_proofing_activate_token_asks_for_no_code_only_a_yes(system, alice):
    order_url = buy(alice)
    alice.get(order_url)
    [key] = license_keys_emailed(system, order_number(alice))
    profile_url = alice.post(alice.task_url(), {"license_key": key}).headers["Location"]
    activate_url = submit_task(alice, profile_url, PROFILE).headers["Location"]
    alice.get(activate_url)
    assert '<h1 id="task-title">Activate token</h1>' in alice.page
    assert 'name="activation_code"' not in alice.page
    assert "Activation code" not in alice.text() and "leave empty" not in alice.text()
    assert "Your token needs no activation code." in alice.text()
    assert '<button type="submit" class="button">Activate token</button>' in alice.page
    alice.follow(alice.post(activate_url, {}))
    assert "Your token is activated." in alice.text()


def test_after_an_experian_pass_the_order_page_says_identity_verified_and_asks_no_code(
    system, alice
):
    order_url = buy(alice, product="token_with_proofing")
    alice.get(order_url)
    [key] = license_keys_emailed(system, order_number(alice))
    profile_url = alice.post(alice.task_url(), {"license_key": key}).headers["Location"]
    method_url = submit_task(alice, profile_url, PROFILE).headers["Location"]
    details_url = submit_task(alice, method_url, {"method": "experian"}).headers["Location"]
    details = {**HOME, "ssn_last4": SSN_LAST4}
    questions_url = submit_task(alice, details_url, details).headers["Location"]
    variables = system.engine.instance(order_url.rsplit("/", 1)[1], ADMIN)["variables"]
    answers = {f"answer_{n}": RIGHT_ANSWERS[variables[f"question_{n}_id"]] for n in (1, 2, 3)}
    alice.follow(submit_task(alice, questions_url, answers))
    text = alice.text()
    assert "Identity verified." in text and "Your token is activated." in text
    assert "Activate token" not in text and "Activation code" not in text
    assert "Registration opens as soon as your token arrives." in text


def test_my_credentials_says_so_when_there_are_none(alice):
    alice.get("/credentials")
    assert "You have no credentials yet" in alice.text()


def test_a_customer_cannot_see_or_act_on_another_customers_order_or_task(app, alice):
    order_url = buy(alice)
    alice.get(order_url)
    task_url = alice.task_url()
    bob = Browser(app).login("bob")
    assert bob.get(order_url).status_code == 404
    assert "Not found" in bob.text()
    assert bob.get(task_url).status_code == 404
    bob.get("/")
    assert bob.post(task_url, {"license_key": "X"}).status_code == 404
    assert bob.post(f"{task_url}/claim").status_code == 404
    bob.get("/")
    assert "SO-" not in bob.text()


def test_staff_pages_are_closed_to_customers(alice):
    assert alice.get("/inbox/proofing_agent").status_code == 403
    assert alice.get("/admin/instances").status_code == 403
    assert "Forbidden" in alice.text()
    alice.get("/")
    assert alice.post("/finance/payments", {"order_number": "SO-10001"}).status_code == 403
