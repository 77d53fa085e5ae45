"""The shop's pages: prices on the products, the order summary and pay button at
checkout, checked card fields, a decline that keeps the form, the receipt, the printable
invoice, the terms of sale and the catalog where prices change."""

from __future__ import annotations

import re

import pytest

from domain.accounts.users import create_user
from engine.db import unit_of_work
from tests.web.builders_pages import (
    CHECKOUT,
    PASSWORD,
    Browser,
    buy,
    order_number,
    start_order,
    submit_task,
)

DECLINED = "4000000000000002"


@pytest.fixture
def root(app):
    return Browser(app).login("root")


def at_checkout(browser: Browser, product: str = "token_without_proofing") -> str:
    response = submit_task(browser, start_order(browser), {"product": product})
    return response.headers["Location"]


def test_each_product_shows_its_price_from_the_catalog(alice):
    alice.get(start_order(alice))
    text = alice.text()
    assert "OTP hardware token with identity proofing $89.00" in text
    assert "OTP hardware token without identity proofing $49.00" in text


def test_checkout_sums_up_the_order_and_offers_to_pay_the_total(alice):
    alice.get(at_checkout(alice))
    summary = alice.text().split("Order summary", 1)[1]
    assert "OTP hardware token, 1-year subscription 1 $49.00 $49.00 Total $49.00" in summary
    assert re.search(
        r'<button type="submit" class="button pay-card">Pay \$49\.00</button>', alice.page
    )
    assert ">Place order</button>" in alice.page
    assert "Continue</button>" not in alice.page


def test_the_summary_multiplies_the_unit_price_by_the_quantity_and_pays_the_total(app, alice):
    checkout = at_checkout(alice)
    response = submit_task(
        alice, checkout, {**CHECKOUT, "quantity": "3", "disclaimer_accepted": ""}
    )
    assert response.status_code == 422  # shown again with what was typed: 3 tokens
    summary = alice.text().split("Order summary", 1)[1]
    assert "OTP hardware token, 1-year subscription 3 $49.00 $147.00 Total $147.00" in summary
    assert re.search(r'class="button pay-card">Pay \$147\.00</button>', alice.page)
    # The summary follows the quantity as it is typed (a script of the site's own).
    assert '<script src="/static/checkout.js" defer></script>' in alice.page
    assert 'data-unit-cents="4900" data-currency="USD"' in alice.page
    assert Browser(app).get("/static/checkout.js").status_code == 200
    response = submit_task(alice, checkout, {**CHECKOUT, "quantity": "3"})
    alice.follow(response)
    assert "OTP hardware token, 1-year subscription 3 $49.00 $147.00" in alice.text()
    assert "Total (shipping included) $147.00" in alice.text()


def test_the_terms_of_sale_are_a_page_linked_from_the_box_that_accepts_them(app, alice):
    alice.get(at_checkout(alice))
    assert 'href="/terms" target="_blank" rel="noopener">Read the terms of sale' in alice.page
    visitor = Browser(app)
    assert visitor.get("/terms").status_code == 200
    assert "Cancelling an order" in visitor.text() and "refunded" in visitor.text()


def test_card_fields_left_empty_are_refused_inline_before_any_charge(alice):
    checkout = at_checkout(alice)
    empty = {**CHECKOUT, "card_number": "", "card_expiry": "", "card_cvc": ""}
    response = submit_task(alice, checkout, empty)
    assert response.status_code == 422
    text = alice.text()
    assert "Enter the 12 to 19 digits on the front of your card" in text
    assert "Enter the expiry date as month/year (MM/YY), e.g. 04/29." in text
    assert "3 or 4 digits" in text
    assert 'value="12 Birch Road"' in alice.page


def test_a_declined_card_keeps_every_field_but_the_cards_and_shows_one_message(alice):
    checkout = at_checkout(alice)
    typed = {**CHECKOUT, "card_number": DECLINED, "po_number": "", "ship_name": "Jane Q. Doe"}
    response = submit_task(alice, checkout, typed)
    assert response.status_code == 302
    alice.follow(response)
    page, text = alice.page, alice.text()
    assert "Done:" not in text
    assert text.count("declined") == 1
    assert 'value="Jane Q. Doe"' in page and 'value="12 Birch Road"' in page
    assert 'value="US"' in page
    assert re.search(r'value="card"\s+checked', page)
    assert re.search(r'name="disclaimer_accepted" value="true"\s+checked', page)
    assert DECLINED not in page and 'value="737"' not in page and 'value="12/39"' not in page


def test_after_paying_the_customer_sees_a_receipt_with_items_total_and_next_steps(alice):
    response = submit_task(alice, at_checkout(alice, "token_with_proofing"), CHECKOUT)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/receipt")
    alice.follow(response)
    text = alice.text()
    number = order_number(alice)
    assert f"Thank you: order {number} is paid" in text
    assert "Paid by card ending 4242" in text
    assert "OTP hardware token with identity proofing, 1-year subscription 1 $89.00 $89.00" in text
    assert "Total (shipping included) $89.00" in text
    assert "What happens next" in text and "license key arrives by email" in text
    assert "Enter license key" in text


def test_an_invoice_order_gets_a_printable_invoice_with_bill_to_and_due_date(app, alice):
    invoice = {
        **{k: v for k, v in CHECKOUT.items() if not k.startswith("card_")},
        "payment_method": "invoice",
        "po_number": "PO-4711",
    }
    response = submit_task(alice, at_checkout(alice), invoice)
    receipt = response.headers["Location"]
    alice.follow(response)
    assert "is placed" in alice.text() and "We emailed you the invoice" in alice.text()
    invoice_url = receipt.removesuffix("/receipt") + "/invoice"
    alice.get(invoice_url)
    text = alice.text()
    assert re.search(r"Invoice INV-\S+ Open", text), text[:600]
    assert "Purchase order PO-4711" in text and "Due by" in text
    assert "Bill to Jane Doe 12 Birch Road 62704 Springfield United States" in text
    assert "Total (shipping included) $49.00" in text
    assert "Print command" in text
    bob = Browser(app).login("bob")
    assert bob.get(invoice_url).status_code == 404
    assert bob.get(receipt).status_code == 404


def test_the_order_page_links_its_receipt_invoice_and_terms(alice):
    alice.get(buy(alice))
    assert alice.links(r"/orders/[0-9a-f-]{36}/receipt")
    assert alice.links(r"/orders/[0-9a-f-]{36}/invoice")
    assert alice.links("/terms")


def test_an_analyst_changes_a_price_and_the_next_product_form_shows_it(system, app, alice):
    with unit_of_work(system.session_factory) as s:
        create_user(s, "ana", PASSWORD, ["analyst"], email="ana@example.com")
    ana = Browser(app).login("ana")
    ana.get("/catalog")
    assert "OTP hardware token, 1-year subscription token_without_proofing $49.00" in ana.text()
    response = ana.post("/catalog/token_without_proofing", {"price": "54.50"}, page="/catalog")
    ana.follow(response)
    assert "now costs $54.50" in ana.text()
    alice.get(start_order(alice))
    assert "without identity proofing $54.50" in alice.text()


def test_a_price_that_is_no_amount_is_refused_with_an_example(root):
    response = root.post("/catalog/token_with_proofing", {"price": "lots"}, page="/catalog")
    root.follow(response)
    assert "Enter a price such as 49.00." in root.text()
    assert "$89.00" in root.text()


def test_customers_cannot_open_or_change_the_catalog(alice):
    assert alice.get("/catalog").status_code == 403
    alice.get("/")
    assert alice.post("/catalog/token_with_proofing", {"price": "1"}).status_code == 403


def invoice_order(browser: Browser) -> str:
    """Place an invoice order; returns its order page's url."""
    invoice = {k: v for k, v in CHECKOUT.items() if not k.startswith("card_")}
    response = submit_task(browser, at_checkout(browser), {**invoice, "payment_method": "invoice"})
    return response.headers["Location"].removesuffix("/receipt")


def test_a_customer_cancels_an_unpaid_order_and_its_invoice_is_void(alice):
    order_url = invoice_order(alice)
    alice.get(order_url)
    assert alice.links(f"{order_url}/cancel")
    alice.get(f"{order_url}/cancel")
    assert "will be void and you will owe nothing" in alice.text()
    response = alice.post(f"{order_url}/cancel")
    alice.follow(response)
    number = order_number(alice)
    assert f"Order {number} is cancelled. We sent you an email." in alice.text()
    assert not alice.links(f"{order_url}/cancel")
    alice.get(f"{order_url}/invoice")
    assert "Void: the order was cancelled" in alice.text()


def test_a_shipped_order_offers_no_cancel_and_refuses_one(alice):
    order_url = buy(alice)
    alice.get(order_url)
    assert not alice.links(f"{order_url}/cancel")
    response = alice.post(f"{order_url}/cancel")
    alice.follow(response)
    assert "can no longer be cancelled" in alice.text()


def test_nobody_cancels_another_customers_order(app, alice):
    order_url = invoice_order(alice)
    bob = Browser(app).login("bob")
    assert bob.get(f"{order_url}/cancel").status_code == 404
    bob.get("/")
    assert bob.post(f"{order_url}/cancel").status_code == 404
    alice.get(order_url)
    assert alice.links(f"{order_url}/cancel")
