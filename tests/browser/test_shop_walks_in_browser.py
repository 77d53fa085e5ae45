"""The shop walked through its pages only, in Chromium, as issue 14 asks, part one: paying.
A declined card then a good one with the sandbox carrier delivering by itself and an
Experian pass; an invoice with a purchase order paid by finance. Nobody calls the API or
posts an engine message: time passes by the engine clock and the worker's due jobs, as
`tokenflow worker` runs them. Every page goes to test-output/screenshots, and every
customer page is checked with axe-core (the check itself is tested here too). Part two,
after the payment, is test_shop_walks_after_paying_in_browser.py."""

from __future__ import annotations

import re

import pytest

from tests.browser import builders
from tests.browser.builders import (
    DECLINING_CARD,
    GOOD_CARD,
    Walk,
    activate,
    axe_script,
    choose_product,
    continue_,
    delivered_then_registered,
    enter_key_and_profile,
    expect,
    fill_address,
    fill_card,
    heading,
    later,
    log_in,
    order_number_on,
    pass_experian,
    person,
    register,
    sign_up,
)
from tests.journey.builders_purchase import license_keys_emailed

pytestmark = pytest.mark.browser


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
    delivered_then_registered(page, walk, system, number)


def test_without_axe_core_the_walks_fail_under_ci_and_skip_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setattr(builders, "AXE", tmp_path / "node_modules" / "axe-core" / "axe.min.js")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="axe-core is not installed"):
        axe_script()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="axe-core is not installed"):
        axe_script()
