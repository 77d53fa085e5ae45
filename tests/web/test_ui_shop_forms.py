"""The journey's forms ask once: countries from a list (stored as ISO codes), phone numbers
parsed and shown internationally, the profile prefilled from checkout, the token serial
from the order, and every refused format says what is expected with an example."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.clock import clock
from tests.journey.builders_proofing import PROFILE, sms_code
from tests.journey.builders_purchase import license_keys_emailed
from tests.journey.builders_tokens import totp_codes
from tests.web.builders_api import JsonApi
from tests.web.builders_pages import CHECKOUT, buy, order_number, start_order, submit_task
from tokenflow.worker import Worker


def checkout_url(browser) -> str:
    url = start_order(browser)
    return submit_task(browser, url, {"product": "token_without_proofing"}).headers["Location"]


def selected(page: str, field: str) -> str | None:
    """The value of the chosen option of the select named `field`."""
    select = re.search(rf'<select id="field-{field}".*?</select>', page, re.S)
    assert select, f"no select for {field}"
    found = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return found.group(1) if found else None


def test_the_checkout_asks_for_countries_from_a_list_of_names(alice):
    alice.get(checkout_url(alice))
    assert '<select id="field-ship_country" name="ship_country"' in alice.page
    assert '<select id="field-bill_country" name="bill_country"' in alice.page
    assert '<option value="US">United States</option>' in alice.page
    assert '<option value="DE">Germany</option>' in alice.page
    assert "ISO 3166" not in alice.text()


def test_the_api_takes_a_country_by_its_name_or_code_and_stores_the_code(app, alice):
    url = checkout_url(alice)
    task_id = url.rsplit("/", 1)[1]
    api = JsonApi(app, "alice")
    [field] = [f for f in api.get("/api/v1/tasks").json[0]["fields"] if f["id"] == "ship_country"]
    assert field["format"] == "country"
    assert {"id": "US", "name": "United States"} in field["options"]
    refused = api.post(
        f"/api/v1/tasks/{task_id}/complete", {"data": {**CHECKOUT, "ship_country": "Atlantis"}}
    )
    assert refused.status_code == 422
    message = refused.json["errors"]["ship_country"]
    assert "two-letter ISO 3166-1 code, for example US for the United States" in message
    done = api.post(
        f"/api/v1/tasks/{task_id}/complete",
        {"data": {**CHECKOUT, "ship_country": "United States", "bill_country": "usa"}},
    )
    assert done.status_code == 200, done.json
    variables = done.json["instance"]["variables"]
    assert (variables["ship_country"], variables["bill_country"]) == ("US", "US")


def test_the_profile_is_prefilled_from_the_checkout(system, alice):
    alice.get(buy(alice, ship_name="Mary Ann Smith", ship_country="DE"))
    [key] = license_keys_emailed(system, order_number(alice))
    profile_url = submit_task(alice, alice.task_url(), {"license_key": key}).headers["Location"]
    alice.get(profile_url)
    assert "Confirm your profile" in alice.text()
    assert 'value="Mary Ann"' in alice.page and 'value="Smith"' in alice.page
    assert selected(alice.page, "country") == "DE"


def to_registration(system, alice) -> tuple[str, str]:
    """Walk a new order to its `register_token` form: (the form's url, the token's serial
    as the order page shows it)."""
    order_url = buy(alice)
    alice.get(order_url)
    [key] = license_keys_emailed(system, order_number(alice))
    profile_url = submit_task(alice, alice.task_url(), {"license_key": key}).headers["Location"]
    activate_url = submit_task(alice, profile_url, PROFILE).headers["Location"]
    submit_task(alice, activate_url, {"activation_code": ""})
    clock.advance(timedelta(days=3))  # the sandbox carrier's delivery time
    Worker(system).tick()
    alice.get(order_url)
    serial = re.search(r"Token serial (\S+)", alice.text()).group(1)
    return alice.task_url(), serial


def test_registration_is_prefilled_with_the_shipped_tokens_serial(system, alice):
    register_url, serial = to_registration(system, alice)
    alice.get(register_url)
    assert re.search(rf'name="serial_number"\s+type="text"\s+value="{serial}"', alice.page)
    response = submit_task(alice, register_url, {"code1": "12ab", "code2": "654321"})
    assert response.status_code == 422
    assert "Enter it as expected, for example 123456." in alice.text()


def test_a_phone_number_is_parsed_stored_in_e164_and_shown_internationally(system, alice):
    register_url, serial = to_registration(system, alice)
    code1, code2 = totp_codes(serial)
    data = {"serial_number": serial, "code1": code1, "code2": code2}
    phone_url = submit_task(alice, register_url, data).headers["Location"]
    alice.get(phone_url)
    assert 'type="tel"' in alice.page
    refused = submit_task(alice, phone_url, {"phone_number": "12345", "channel": "sms"})
    assert refused.status_code == 422
    assert "international format" in alice.text() and "for example +1 415 555 0123" in alice.text()
    # A number without +: read as one of the profile's country (US).
    sent = alice.post(phone_url, {"phone_number": "(415) 555-0123", "channel": "sms"})
    verify_url = sent.headers["Location"]
    alice.follow(submit_task(alice, verify_url, {"code": sms_code(system)}))
    alice.get("/credentials")
    assert "+1 415-555-0123" in alice.text()
