"""The shop walked through its pages only, in Chromium, as issue 14 asks, part two: after
the payment. A video interview the customer moves; an order of three tokens whose other two
keys two other customers redeem with "I already have a license key". Nobody calls the API
or posts an engine message: time passes by the engine clock and the worker's due jobs, as
`tokenflow worker` runs them. Every page goes to test-output/screenshots, and every
customer page is checked with axe-core. Part one, paying, is test_shop_walks_in_browser.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.clock import clock
from tests.browser.builders import (
    GOOD_CARD,
    PHONE,
    Walk,
    activate,
    approve_interview,
    choose_product,
    continue_,
    delivered_then_registered,
    enter_key_and_profile,
    expect,
    fill_address,
    fill_card,
    heading,
    keys_emailed,
    later,
    log_in,
    order_number_on,
    person,
    register_here,
    sign_up,
)
from tests.journey.builders_purchase import license_keys_emailed

pytestmark = pytest.mark.browser


def slot_values(select: Any) -> list[str]:
    return [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)") if v]


def test_video_interview_moved_by_the_customer_then_run_by_the_agent(live, one_chromium, walk):
    base, system = live.url, live.system
    page = person(one_chromium)
    log_in(page, base, "alice", walk)
    choose_product(page, walk, "OTP hardware token with identity proofing")
    fill_address(page, "Alice Smith")
    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Pay $89.00").click()
    heading(page).to_contain_text("is paid")
    number = order_number_on(page)
    walk.look(page, "receipt")
    page.get_by_role("link", name="Enter license key").click()
    [key] = license_keys_emailed(system, number)
    # Living in Germany: the credit-bureau check is for US residents only.
    enter_key_and_profile(page, walk, key, "Alice", "Smith", "Germany")
    heading(page).to_have_text("Book video interview")
    appointment = page.get_by_role("combobox", name="Appointment")
    booked = next(
        s
        for s in slot_values(appointment)
        if datetime.fromisoformat(s) > clock.now() + timedelta(days=2)
    )
    appointment.select_option(booked)
    walk.look(page, "book-interview")
    continue_(page)
    heading(page).to_have_text(f"Order {number}")
    interview = page.get_by_role("region", name="Your video interview")
    expect(interview.get_by_role("link", name=re.compile("Join the video call"))).to_be_visible()
    walk.look(page, "order-interview-booked")

    # Asked first, the customer keeps it; then moves it a day later.
    interview.get_by_role("link", name="Cancel interview").click()
    heading(page).to_have_text("Cancel your video interview?")
    walk.look(page, "cancel-interview")
    page.get_by_role("link", name="Keep the interview").click()
    heading(page).to_have_text(f"Order {number}")
    new_time = interview.get_by_role("combobox", name="New time")
    moved = next(
        s
        for s in slot_values(new_time)
        if datetime.fromisoformat(s) > datetime.fromisoformat(booked) + timedelta(days=1)
    )
    # "Move" with no new time chosen moves nothing: the browser asks for one.
    expect(new_time).to_have_value("")
    interview.get_by_role("button", name="Move").click()
    assert new_time.evaluate("select => select.validity.valueMissing")
    new_time.select_option(moved)
    interview.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Your interview is moved to")
    expect(interview.locator(f'time[datetime="{moved}"]')).to_have_count(1)
    walk.look(page, "order-interview-moved")
    phone = person(one_chromium, viewport=PHONE, is_mobile=True)
    log_in(phone, base, "alice")
    phone.goto(page.url)
    heading(phone).to_have_text(f"Order {number}")
    walk.look(phone, "order-interview-moved-phone")
    phone.context.close()

    # The day before, the reminder goes out and the interview opens for the agents.
    reminder = datetime.fromisoformat(moved) - timedelta(hours=24)
    later(system, seconds=(reminder - clock.now()).total_seconds() + 60)
    agent = person(one_chromium)
    log_in(agent, base, "pat")
    agent.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Identity proofing"
    ).click()
    heading(agent).to_have_text("Identity proofing inbox")
    walk.look(agent, "agent-inbox", customer=False)
    approve_interview(agent, number)
    walk.look(agent, "agent-interview", customer=False)
    agent.get_by_role("button", name="Complete task").click()
    heading(agent).to_have_text("Run video interview: done")
    code = agent.locator("#activation-code").inner_text()
    agent.context.close()

    page.reload()
    page.get_by_role("link", name="Activate token").click()
    page.get_by_role("textbox", name="Activation code").fill(code)
    walk.look(page, "activate-with-code")
    continue_(page)
    heading(page).to_have_text(f"Order {number}")
    expect(page.locator(".step").filter(has_text="Activated")).to_contain_text("activated")
    walk.look(page, "order-activated")
    delivered_then_registered(page, walk, system, number)


def redeem(page: Any, walk: Walk, key: str, first: str, last: str) -> str:
    """The key entered (after "I already have a license key"), the profile, activation
    and registration of the buyer's token that goes with the key; its serial."""
    expect(page.get_by_text("The key the buyer of your token gave you")).to_be_visible()
    enter_key_and_profile(page, walk, key, first, last, "United States")
    activate(page, walk, then="Register token")
    serial = register_here(page, walk)
    expect(page.get_by_role("region", name="Details")).to_contain_text("bought by someone else")
    return serial


def test_an_order_of_three_tokens_whose_other_keys_two_other_customers_redeem(
    live, one_chromium, walk
):
    base, system = live.url, live.system
    buyer = person(one_chromium)
    log_in(buyer, base, "alice", walk)
    choose_product(buyer, walk, "OTP hardware token without identity proofing")
    buyer.get_by_role("spinbutton", name="Quantity").fill("3")
    fill_address(buyer, "Alice Smith, ACME Corp")
    fill_card(buyer, GOOD_CARD)
    walk.look(buyer, "checkout-three")
    buyer.get_by_role("button", name="Pay $147.00").click()
    heading(buyer).to_contain_text("is paid")
    number = order_number_on(buyer)
    walk.look(buyer, "receipt-three")
    keys = keys_emailed(system, number)
    assert len(set(keys)) == 3
    buyer.get_by_role("link", name="Enter license key").click()
    enter_key_and_profile(buyer, walk, keys[0], "Alice", "Smith")
    activate(buyer, walk)
    walk.look(buyer, "order-one-key-used")
    order_url = buyer.url

    # Bob, a colleague with an account, redeems the second key.
    bob = person(one_chromium)
    log_in(bob, base, "bob")
    choose_product(bob, walk, "I already have a license key")
    heading(bob).to_have_text("Enter license key")
    serials = {redeem(bob, walk, keys[1], "Bob", "Jones")}
    bob.context.close()

    # Carol signs up; the key Bob used is refused with a message that says so.
    carol = person(one_chromium)
    sign_up(carol, base, "carol", walk)
    choose_product(carol, walk, "I already have a license key")
    carol.get_by_role("textbox", name="License key").fill(keys[1])
    continue_(carol)
    heading(carol).to_have_text("Enter license key")
    expect(carol.locator("main")).to_contain_text("This license key has already been used.")
    walk.look(carol, "key-already-used")
    serials.add(redeem(carol, walk, keys[2], "Carol", "White"))
    carol.context.close()
    assert len(serials) == 2

    # The buyer's order lists each key's state, and no used key.
    buyer.goto(order_url)
    details = buyer.get_by_role("region", name="Details")
    expect(details).to_contain_text("Used by you on")
    expect(details).to_contain_text("Used by bob on")
    expect(details).to_contain_text("Used by carol on")
    expect(details).to_contain_text("3 tokens")
    for key in keys:
        expect(buyer.locator("body")).not_to_contain_text(key)
    walk.look(buyer, "order-keys-used")
    buyer.context.close()
    walk.assert_accessible()
