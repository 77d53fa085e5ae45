"""Checkout in Chromium: the order summary and the "Pay" button follow the quantity as
it is typed, and the country is chosen from a list by name."""

from __future__ import annotations

import pytest

from tests.browser.builders import continue_, heading, log_in

pytestmark = pytest.mark.browser


def test_the_pay_button_and_total_follow_the_quantity_as_it_is_typed(live, chromium):
    from playwright.sync_api import expect

    page = chromium.new_context().new_page()
    log_in(page, live.url, "alice")
    page.get_by_role("button", name="Get a token").click()
    page.get_by_label("OTP hardware token with identity proofing").check()
    continue_(page)
    heading(page).to_have_text("Check out")
    page.get_by_label("Card", exact=True).check()
    expect(page.get_by_role("button", name="Pay $89.00")).to_be_visible()

    page.get_by_role("spinbutton", name="Quantity").fill("3")

    expect(page.get_by_role("button", name="Pay $267.00")).to_be_visible()
    expect(page.locator('.order-summary [data-summary="total"]')).to_have_text("$267.00")
    expect(page.locator('.order-summary [data-summary="quantity"]')).to_have_text("3")
    page.locator("#field-ship_country").select_option(label="Germany")
    expect(page.locator("#field-ship_country")).to_have_value("DE")
