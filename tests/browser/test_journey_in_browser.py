"""A customer signs up and walks the whole journey to a registered token in Chromium;
the video interview is run by a proofing agent in a second browser context, and an
admin fires the appointment reminder with "Run now" in a third. A screenshot of each
page type goes to test-output/screenshots/."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from engine.clock import clock
from tests.browser.builders import PHONE, approve_interview, continue_, heading, log_in
from tests.journey.builders_purchase import license_keys_emailed
from tests.journey.builders_tokens import totp_codes
from tests.web.builders_pages import PASSWORD
from tokenflow.worker import Worker

pytestmark = pytest.mark.browser


def first_slot_after(select, moment: datetime) -> str:
    """The value of the first offered slot that starts after `moment`."""
    offered = [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    later = [slot for slot in offered if datetime.fromisoformat(slot) > moment]
    assert later, f"no slot after {moment} among {offered}"
    return later[0]


def test_a_customer_signs_up_and_walks_to_a_registered_token(live, chromium, screenshot):
    from playwright.sync_api import expect

    base = live.url
    customer = chromium.new_context()
    page = customer.new_page()

    # Sign up, as a customer.
    page.goto(f"{base}/")
    heading(page).to_have_text("Log in")
    screenshot(page, "01-login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("jane")
    page.get_by_label("Email address").fill("jane@example.com")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD)
    screenshot(page, "02-signup")
    page.get_by_role("button", name="Create account").click()
    heading(page).to_have_text("Hello, jane")
    screenshot(page, "03-home-new-customer")

    # Get a token: product, then checkout (first with a mistake).
    page.get_by_role("button", name="Get a token").click()
    heading(page).to_have_text("Choose product")
    page.get_by_label("OTP hardware token with identity proofing").check()
    screenshot(page, "04-task-form")
    continue_(page)
    heading(page).to_have_text("Check out")
    page.get_by_label("Card", exact=True).check()
    page.locator("#field-ship_name").fill("Jane <b>Doe</b>")
    page.locator("#field-ship_street").fill("12 Birch Road")
    page.locator("#field-ship_city").fill("Springfield")
    page.locator("#field-ship_postal_code").fill("62704")
    # The country is left unchosen: the form says so and keeps what was typed.
    page.locator("#field-card_number").fill("4242424242424242")
    page.locator("#field-card_expiry").fill("12/39")
    page.locator("#field-card_cvc").fill("737")
    pay = page.get_by_role("button", name="Pay $89.00")
    expect(page.get_by_role("button", name="Place order")).to_be_hidden()
    pay.click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")
    expect(page.locator("#field-ship_name")).to_have_value("Jane <b>Doe</b>")
    expect(page.locator("#field-card_number")).to_have_value("")
    screenshot(page, "05-task-form-errors")
    page.locator("#field-ship_country").select_option("US")
    page.get_by_label("I accept the terms of sale").check()
    page.locator("#field-card_number").fill("4242424242424242")
    page.locator("#field-card_expiry").fill("12/39")
    page.locator("#field-card_cvc").fill("737")
    pay.click()

    # The receipt, then on to the license key, which came by email.
    heading(page).to_contain_text("is paid")
    screenshot(page, "05b-receipt")
    order_link = page.get_by_role("link", name=re.compile(r"Order SO-\d+"))
    number = re.search(r"SO-\d+", order_link.inner_text()).group(0)
    page.get_by_role("link", name="Enter license key").click()
    heading(page).to_have_text("Enter license key")
    [key] = license_keys_emailed(live.system, number)
    page.get_by_role("textbox", name="License key").fill(key)
    continue_(page)
    heading(page).to_have_text("Confirm your profile")
    # Prefilled from checkout; Jane corrects her name to the one on her ID.
    expect(page.get_by_role("textbox", name="Legal last name")).to_have_value("<b>Doe</b>")
    expect(page.get_by_role("combobox", name="Country of residence")).to_have_value("US")
    page.get_by_role("textbox", name="Legal first name").fill("Jane")
    page.get_by_role("textbox", name="Legal last name").fill("Doe")
    page.get_by_role("combobox", name="Country of residence").select_option("DE")
    continue_(page)
    heading(page).to_have_text("Book video interview")
    # A slot further away than the reminder's lead (PT24H), so that the reminder waits
    # for the admin's "Run now" below instead of falling due at once.
    appointment = page.get_by_role("combobox", name="Appointment")
    appointment.select_option(first_slot_after(appointment, clock.now() + timedelta(days=2)))
    continue_(page)
    heading(page).to_have_text(f"Order {number}")
    expect(page.locator(".step-current")).to_contain_text("Video interview booked for")
    screenshot(page, "06-order-progress")
    phone = chromium.new_context(viewport=PHONE, is_mobile=True)
    phone_page = phone.new_page()
    phone_page.goto(page.url)
    log_in(phone_page, base, "jane")
    phone_page.goto(page.url)
    screenshot(phone_page, "07-order-progress-phone")
    phone.close()

    # The admin fires the appointment reminder now, which opens the interview.
    admin = chromium.new_context()
    root = admin.new_page()
    log_in(root, base, "root")
    root.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    heading(root).to_have_text("Process instances")
    root.get_by_label("Order number").fill(number)
    root.get_by_role("button", name="Filter").click()
    screenshot(root, "08-admin-instances")
    root.get_by_role("link", name=number).click()
    heading(root).to_have_text(number)
    screenshot(root, "09-admin-instance")
    waiting = root.locator("form.message-form", has_text="token_delivered")
    expect(waiting.get_by_role("textbox", name="Correlation key")).to_have_value(number)
    # The reminder timer waits in the event-based gateway (beside "move" and "cancel").
    root.get_by_role("button", name="Run now appointment_wait").click()
    expect(root.get_by_role("status").first).to_contain_text("Job run.")

    # The proofing agent claims the interview and approves: the code shows once.
    agent = chromium.new_context()
    pat = agent.new_page()
    log_in(pat, base, "pat")
    pat.get_by_role("navigation", name="Main").get_by_role("link", name="Identity proofing").click()
    heading(pat).to_have_text("Identity proofing inbox")
    screenshot(pat, "10-agent-inbox")
    approve_interview(pat, number)
    pat.get_by_role("textbox", name="Notes").fill("Passport checked on camera.")
    screenshot(pat, "11-agent-task")
    pat.get_by_role("button", name="Complete task").click()
    heading(pat).to_have_text("Run video interview: done")
    code = pat.locator("#activation-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    screenshot(pat, "12-activation-code-once")
    pat.reload()  # a reload posts again: the task is done, the code is gone
    expect(pat.locator("#activation-code")).to_have_count(0)
    agent.close()

    # The customer activates with the code read out, then registers the token.
    page.goto(page.url)
    page.get_by_role("link", name="Activate token").click()
    page.get_by_role("textbox", name="Activation code").fill(code)
    continue_(page)
    heading(page).to_have_text(f"Order {number}")
    expect(page.locator(".step-current")).to_contain_text("as soon as your token arrives")
    # The sandbox carrier delivers on its own three days after shipping: the worker
    # asks it, as `tokenflow worker` does every second, and the order moves on.
    clock.advance(timedelta(days=3))
    Worker(live.system).tick()
    page.reload()
    expect(page.locator("#tracking-title + .tracking")).to_contain_text("Delivered")
    screenshot(page, "12b-order-delivered")
    serial = page.locator("dt:text-is('Token serial') + dd").inner_text()
    page.get_by_role("link", name="Register token").click()
    heading(page).to_have_text("Register token")
    code1, code2 = totp_codes(serial)
    expect(page.get_by_role("textbox", name="Serial number")).to_have_value(serial)
    page.get_by_role("textbox", name="First code").fill(code1)
    page.get_by_role("textbox", name="Second code").fill(code2)
    continue_(page)
    heading(page).to_have_text("Add a backup phone")
    page.get_by_label("Skip: don't add a phone").check()
    continue_(page)
    heading(page).to_have_text(f"Order {number}")
    expect(page.get_by_text("All done: your token is registered")).to_be_visible()
    screenshot(page, "13-order-complete")
    page.get_by_role("link", name="My credentials").click()
    expect(page.get_by_text(f"Token {serial}")).to_be_visible()
    screenshot(page, "14-my-credentials")
    page.goto(f"{base}/orders/00000000-0000-0000-0000-000000000000")
    heading(page).to_have_text("Not found")
    screenshot(page, "15-error")
    admin.close()
    customer.close()


def test_finance_records_an_invoice_payment_in_the_browser(live, chromium, screenshot):
    from playwright.sync_api import expect

    base = live.url
    customer = chromium.new_context()
    page = customer.new_page()
    log_in(page, base, "alice")
    page.get_by_role("button", name="Get a token").click()
    page.get_by_label("OTP hardware token without identity proofing").check()
    continue_(page)
    page.get_by_label("Invoice", exact=True).check()
    page.locator("#field-po_number").fill("PO-4711")
    for field, value in [
        ("ship_name", "Alice Smith"),
        ("ship_street", "1 Main St"),
        ("ship_city", "Springfield"),
        ("ship_postal_code", "62704"),
    ]:
        page.locator(f"#field-{field}").fill(value)
    page.locator("#field-ship_country").select_option("US")
    page.get_by_label("I accept the terms of sale").check()
    expect(page.get_by_role("button", name="Pay $49.00")).to_be_hidden()
    page.get_by_role("button", name="Place order").click()
    heading(page).to_contain_text("is placed")
    number = re.search(r"SO-\d+", page.get_by_role("heading", level=1).inner_text()).group(0)
    page.get_by_role("link", name="View and print the invoice").click()
    heading(page).to_have_text(re.compile(r"Invoice INV-"))
    screenshot(page, "15b-invoice")
    page.get_by_role("link", name=f"Order {number}").click()
    expect(page.locator(".step-current").first).to_contain_text("Waiting for payment")

    finance = chromium.new_context()
    fran = finance.new_page()
    log_in(fran, base, "fran")
    fran.get_by_role("navigation", name="Main").get_by_role("link", name="Finance").click()
    row = fran.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("PO-4711")
    row.get_by_role("textbox").fill("BANK-REF-1")
    screenshot(fran, "16-finance-inbox")
    row.get_by_role("button", name=f"Paid {number}").click()
    expect(fran.get_by_role("status").first).to_contain_text(f"Payment recorded for {number}.")
    finance.close()

    page.reload()
    expect(page.locator(".step-done").first).to_contain_text("Paid by invoice on")
    customer.close()
