"""The shop walked through its pages only, in Chromium, as issue 14 asks: a declined card
then a good one with the sandbox carrier delivering by itself and an Experian pass; an
invoice with a purchase order paid by finance; a video interview the customer moves; an
order of three tokens whose other two keys two other customers redeem with "I already
have a license key". Nobody calls the API or posts an engine message: time passes by the
engine clock and the worker's due jobs, as `tokenflow worker` runs them. Every page
goes to test-output/screenshots, and every customer page is checked with axe-core."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.clock import clock
from tests.browser import builders
from tests.browser.builders import (
    DECLINING_CARD,
    GOOD_CARD,
    Walk,
    axe_script,
    choose_product,
    enter_key_and_profile,
    expect,
    fill_address,
    fill_card,
    keys_emailed,
    later,
    log_in,
    order_number_on,
    pass_experian,
    person,
    sign_up,
)
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_journey_in_browser import PHONE, continue_, heading, totp_codes
from tests.journey.builders_purchase import license_keys_emailed

pytestmark = pytest.mark.browser

ORDER_PAGE = re.compile(r"^Order SO-\d+$")


@pytest.fixture
def walk(request, screenshot) -> Walk:
    """Screenshots named `walk-<the walk>-NN-<page>`, the walk being the first word of
    the test's name that says which one it is."""
    words = request.node.originalname.split("_")
    name = next(w for w in words if w in {"card", "invoice", "video", "three"})
    for stale in SCREENSHOTS.glob(f"walk-{name}-*.png"):  # an earlier run's, numbered apart
        stale.unlink()
    return Walk(f"walk-{name}", screenshot, axe_script())


def register(page: Any, walk: Walk, number: str) -> str:
    """From the order page with "Register token" waiting: two codes, no phone."""
    serial = page.locator("dt:text-is('Token serial') + dd").inner_text()
    page.get_by_role("link", name="Register token").click()
    assert register_here(page, walk) == serial
    heading(page).to_have_text(f"Order {number}")
    return serial


def register_here(page: Any, walk: Walk) -> str:
    """On "Register token", its serial prefilled: two codes, no phone; the token's serial."""
    heading(page).to_have_text("Register token")
    serial = page.get_by_role("textbox", name="Serial number").input_value()
    assert serial
    first, second = totp_codes(serial)
    page.get_by_role("textbox", name="First code").fill(first)
    page.get_by_role("textbox", name="Second code").fill(second)
    walk.look(page, "register-token")
    continue_(page)
    heading(page).to_have_text("Add a backup phone")
    page.get_by_label("Skip: don't add a phone").check()
    walk.look(page, "backup-phone")
    continue_(page)
    expect(page.get_by_text("All done: your token is registered")).to_be_visible()
    walk.look(page, "order-complete")
    return serial


def test_card_declined_then_paid_delivered_by_the_carrier_experian_pass_registered(
    live, one_chromium, walk
):
    base, system = live.url, live.system
    page = person(one_chromium)
    log_in(page, base, "alice", walk)
    choose_product(page, walk, "OTP hardware token with identity proofing")

    # The terms forgotten: checked before any charge, the error named at the top.
    heading(page).to_have_text("Check out")
    fill_address(page, "Alice Smith")
    page.get_by_label("I accept the terms of sale").uncheck()
    fill_card(page, GOOD_CARD)
    # Only what applies shows: no purchase order for a card, no billing address twice.
    expect(page.get_by_role("textbox", name="Purchase order number")).to_be_hidden()
    expect(page.get_by_role("group", name="Billing address")).to_be_hidden()
    page.get_by_label("Billing address is the same as the shipping address").uncheck()
    expect(page.get_by_role("group", name="Billing address")).to_be_visible()
    page.get_by_label("Billing address is the same as the shipping address").check()
    walk.look(page, "checkout")
    page.get_by_role("button", name="Pay $89.00").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")
    walk.look(page, "checkout-form-errors")

    # The sandbox's declining card: one message, the form kept but the card.
    page.get_by_label("I accept the terms of sale").check()
    fill_card(page, DECLINING_CARD)
    page.get_by_role("button", name="Pay $89.00").click()
    heading(page).to_have_text("Check out")
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    expect(page.locator("#field-ship_name")).to_have_value("Alice Smith")
    expect(page.locator("#field-ship_country")).to_have_value("US")
    expect(page.get_by_label("I accept the terms of sale")).to_be_checked()
    expect(page.get_by_label("Card", exact=True)).to_be_checked()
    expect(page.get_by_role("textbox", name="Card number")).to_have_value("")
    walk.look(page, "checkout-declined")

    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Pay $89.00").click()
    heading(page).to_contain_text("is paid")
    number = order_number_on(page)
    expect(page.get_by_text("Paid by card ending 4242")).to_be_visible()
    walk.look(page, "receipt")

    # The license key came by email; the profile is prefilled from checkout.
    page.get_by_role("link", name="Enter license key").click()
    heading(page).to_have_text("Enter license key")
    [key] = license_keys_emailed(system, number)
    page.get_by_role("textbox", name="License key").fill(key)
    walk.look(page, "enter-license-key")
    continue_(page)
    heading(page).to_have_text("Confirm your profile")
    expect(page.get_by_role("combobox", name="Country of residence")).to_have_value("US")
    page.get_by_role("textbox", name="Legal first name").fill("Alice")
    page.get_by_role("textbox", name="Legal last name").fill("Smith")
    walk.look(page, "confirm-profile")
    continue_(page)

    # Experian: every answer right, then "Identity verified" and no activation page.
    pass_experian(page, walk)
    heading(page).to_have_text(f"Order {number}")
    expect(page.locator(".step").filter(has_text="Identity proofing")).to_contain_text(
        "Identity verified."
    )
    expect(page.get_by_role("link", name="Activate token")).to_have_count(0)
    expect(page.locator(".step-current")).to_contain_text("as soon as your token arrives")
    walk.look(page, "order-identity-verified")

    # The sandbox carrier reports on its own schedule (P3D here): out for delivery after
    # three quarters of it, delivered at the end; the order page shows each event.
    later(system, hours=60)
    page.reload()
    tracking = page.locator("#tracking-title + .tracking")
    expect(tracking).to_contain_text("In transit")
    expect(tracking).to_contain_text("Out for delivery")
    expect(tracking).not_to_contain_text("Delivered")
    walk.look(page, "order-out-for-delivery")
    later(system, hours=13)
    page.reload()
    expect(tracking).to_contain_text("Delivered")
    walk.look(page, "order-delivered")

    serial = register(page, walk, number)
    page.get_by_role("link", name="My credentials").click()
    expect(page.get_by_text(f"Token {serial}")).to_be_visible()
    walk.look(page, "my-credentials")
    page.get_by_role("link", name="alice").click()
    heading(page).to_have_text("Your account")
    walk.look(page, "account")
    page.goto(f"{base}/orders/00000000-0000-0000-0000-000000000000")
    heading(page).to_have_text("Not found")
    walk.look(page, "not-found")
    page.context.close()
    walk.assert_accessible()


def test_the_accessibility_check_fails_on_a_violation_naming_page_rule_and_element(
    live, one_chromium, screenshot
):
    """The check itself: an input without a label (critical) on a page is reported."""
    walk = Walk("walk-axe", screenshot, axe_script())
    page = person(one_chromium)
    page.goto(f"{live.url}/login")
    page.evaluate(
        """() => { const input = document.createElement('input');
                   input.id = 'nameless'; document.querySelector('main').append(input); }"""
    )
    walk.check(page, "login-unlabelled")
    with pytest.raises(AssertionError) as failure:
        walk.assert_accessible()
    reported = str(failure.value)
    assert re.search(r"unlabelled \(http://.*/login\): critical label .* at #nameless", reported)
    page.context.close()


def activate(page: Any, walk: Walk, then: str | re.Pattern[str] = ORDER_PAGE) -> None:
    """Right after the profile, without proofing: "Activate token", a plain confirmation,
    then the order page (or registration, for a token someone else bought and has)."""
    heading(page).to_have_text("Activate token")
    expect(page.get_by_role("textbox", name="Activation code")).to_have_count(0)
    expect(page.get_by_text("Your token needs no activation code.")).to_be_visible()
    walk.look(page, "activate-token")
    page.get_by_role("button", name="Activate token").click()
    heading(page).to_have_text(then)


def test_invoice_with_a_purchase_order_paid_by_finance_in_another_window(live, one_chromium, walk):
    base, system = live.url, live.system
    page = person(one_chromium)
    sign_up(page, base, "dora", walk, typo=True)
    choose_product(page, walk, "OTP hardware token without identity proofing")
    heading(page).to_have_text("Check out")
    page.get_by_label("Invoice", exact=True).check()
    page.get_by_role("textbox", name="Purchase order number").fill("PO-4711")
    expect(page.get_by_role("textbox", name="Card number")).to_be_hidden()
    fill_address(page, "Dora Example, ACME Corp")
    expect(page.get_by_role("button", name="Pay $49.00")).to_be_hidden()
    walk.look(page, "checkout-invoice")
    page.get_by_role("button", name="Place order").click()
    heading(page).to_contain_text("is placed")
    number = order_number_on(page)
    walk.look(page, "receipt-invoice")
    page.get_by_role("link", name="View and print the invoice").click()
    heading(page).to_have_text(re.compile(r"Invoice INV-"))
    expect(page.locator("main")).to_contain_text("PO-4711")
    expect(page.locator("main")).to_contain_text("$49.00")
    walk.look(page, "invoice")
    page.get_by_role("link", name=f"Order {number}").click()
    expect(page.locator(".step-current").first).to_contain_text("Waiting for payment")
    walk.look(page, "order-awaiting-payment")
    page.get_by_role("link", name="Terms of sale").click()
    heading(page).to_contain_text("Terms")
    walk.look(page, "terms")
    page.go_back()
    # The cancel page asks first; the customer keeps the order.
    page.get_by_role("link", name="Cancel order").click()
    heading(page).to_have_text(f"Cancel order {number}?")
    walk.look(page, "cancel-order")
    page.get_by_role("link", name="Keep the order").click()
    heading(page).to_have_text(f"Order {number}")

    # Finance, in a window of its own, sees the invoice waiting and records the payment.
    fran = person(one_chromium)
    log_in(fran, base, "fran")
    expect(fran.locator("main")).to_contain_text("1 invoice awaiting payment")
    walk.look(fran, "finance-home", customer=False)
    fran.get_by_role("navigation", name="Main").get_by_role("link", name="Finance").click()
    row = fran.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("PO-4711")
    row.get_by_role("textbox").fill("BANK-REF-1")
    walk.look(fran, "finance-inbox", customer=False)
    row.get_by_role("button", name=f"Paid {number}").click()
    expect(fran.get_by_role("status").first).to_contain_text(f"Payment recorded for {number}.")
    fran.context.close()

    page.reload()
    expect(page.locator(".step-done").first).to_contain_text("Paid by invoice on")
    walk.look(page, "order-paid-by-invoice")
    page.get_by_role("link", name="Enter license key").click()
    [key] = license_keys_emailed(system, number)
    enter_key_and_profile(page, walk, key, "Dora", "Example")
    activate(page, walk)
    walk.look(page, "order-activated")
    later(system, days=3)
    page.reload()
    expect(page.locator("#tracking-title + .tracking")).to_contain_text("Delivered")
    walk.look(page, "order-delivered")
    register(page, walk, number)
    page.context.close()
    walk.assert_accessible()


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
    agent.get_by_role("button", name=re.compile(f"Claim Run video interview {number}")).click()
    agent.get_by_role("link", name="Run video interview").click()
    heading(agent).to_have_text("Run video interview")
    expect(agent.locator(".context")).to_contain_text(number)
    agent.get_by_role("group", name="ID document").get_by_label("Passport").check()
    agent.get_by_label("The ID has not expired").check()
    agent.get_by_label("The name on the ID matches the legal name").check()
    agent.get_by_label("The customer answered the questions correctly").check()
    agent.get_by_label("Approve: identity proven").check()
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
    later(system, days=3)
    page.reload()
    expect(page.locator("#tracking-title + .tracking")).to_contain_text("Delivered")
    walk.look(page, "order-delivered")
    register(page, walk, number)
    page.context.close()
    walk.assert_accessible()


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


def test_without_axe_core_the_walks_fail_under_ci_and_skip_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setattr(builders, "AXE", tmp_path / "node_modules" / "axe-core" / "axe.min.js")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="axe-core is not installed"):
        axe_script()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="axe-core is not installed"):
        axe_script()
