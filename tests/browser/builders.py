"""Helpers for walking the shop through its pages in Chromium: one person's browser
context, the forms a customer fills, the sandbox carrier and the worker moving time on,
and an axe-core check of every customer page seen, collected per page.

axe-core comes from npm (`package.json`'s devDependencies, installed by `make test`'s
`assets` target). Without it the check skips locally and fails under CI=true.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import clock
from tests.journey.builders_proofing import HOME, RIGHT_ANSWERS, SSN_LAST4
from tests.journey.builders_purchase import LICENSE_KEY, emails_about, text_of
from tests.journey.builders_tokens import totp_codes
from tests.web.builders_pages import PASSWORD
from tokenflow.worker import Worker

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Only these fail the walk; "moderate" and "minor" findings are left to judgement.
FAILING_IMPACTS = ("serious", "critical")
RUN_AXE = r"""async (impacts) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => impacts.includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
                why: (v.nodes[0].failureSummary || '').replace(/\s+/g, ' ')}));
}"""

# A page's shape: its elements with their attributes, ids and numbers blurred, and which
# of them hold text of their own; the words themselves left out. A shape that passed once
# is not checked again (the walks see the same form or order page many times).
PAGE_SHAPE = r"""() => {
  const blurred = new Set(['value', 'href', 'datetime', 'action', 'content', 'src']);
  return [...document.body.querySelectorAll('*')].map(el => {
    const attrs = [...el.attributes].filter(a => !blurred.has(a.name))
      .map(a => a.name + '=' + a.value.replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, 'ID')
                                      .replace(/[0-9]+/g, '0')).sort();
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    return el.tagName + (text ? '+' : '') + '[' + attrs.join(' ') + ']';
  }).join('\n');
}"""
_PASSED_SHAPES: set[str] = set()

GOOD_CARD = "4242424242424242"
# The sandbox processor's card that is declined `card_declined` (adapters/payment.py).
DECLINING_CARD = "4000000000000002"
ADDRESS = {
    "ship_name": "Jane Doe",
    "ship_street": HOME["street"],
    "ship_city": HOME["city"],
    "ship_postal_code": HOME["postal_code"],
}
ORDER_NUMBER = re.compile(r"SO-\d+")
ORDER_PAGE = re.compile(r"^Order SO-\d+$")
PHONE = {"width": 390, "height": 844}


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def heading(page: Any) -> Any:
    """The page's one h1, to expect a text of."""
    return expect(page.get_by_role("heading", level=1))


def continue_(page: Any) -> None:
    page.get_by_role("button", name="Continue").click()


def axe_script() -> Path:
    """axe.min.js, or a skip (a failure under CI=true) when node_modules lacks it."""
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}): run `npm ci` (make assets)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE


@dataclass
class Walk:
    """Screenshots of every page seen, numbered in order, and the serious or critical
    axe-core violations of every customer page seen, by page."""

    name: str
    screenshot: Any
    axe: Path
    seen: int = 0
    checked: list[str] = field(default_factory=list)
    violations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def look(self, page: Any, what: str, *, customer: bool = True) -> None:
        self.seen += 1
        label = f"{self.name}-{self.seen:02d}-{what}"
        self.screenshot(page, label)
        if customer:
            self.check(page, label)

    def check(self, page: Any, label: str) -> None:
        page.wait_for_load_state("load")
        self.checked.append(label)
        shape = hashlib.sha256(page.evaluate(PAGE_SHAPE).encode()).hexdigest()
        if shape in _PASSED_SHAPES:
            return
        if not page.evaluate("() => typeof axe !== 'undefined'"):
            page.add_script_tag(path=str(self.axe))
        found = page.evaluate(RUN_AXE, list(FAILING_IMPACTS))
        if found:
            self.violations[f"{label} ({page.url})"] = found
        else:
            _PASSED_SHAPES.add(shape)

    def assert_accessible(self) -> None:
        assert self.checked, "no customer page was checked"
        lines = [
            f"{where}: {v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}: {v['why']}"
            for where, found in self.violations.items()
            for v in found
        ]
        assert not lines, "axe-core found serious or critical violations:\n" + "\n".join(lines)


def person(browser: Any, **options: Any) -> Any:
    """A new person's browser window (its own cookies). Playwright's injected axe-core is
    an inline script, which the pages' Content-Security-Policy would refuse."""
    page = browser.new_context(bypass_csp=True, **options).new_page()
    page.set_default_timeout(10_000)
    return page


def log_in(page: Any, base: str, username: str, walk: Walk | None = None) -> None:
    page.goto(f"{base}/login")
    heading(page).to_have_text("Log in")
    if walk is not None:
        walk.look(page, "login")
    page.get_by_label("Username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    heading(page).to_contain_text("Hello")


def sign_up(page: Any, base: str, username: str, walk: Walk, *, typo: bool = False) -> None:
    """Create an account; with `typo`, the password confirmation is mistyped first."""
    page.goto(f"{base}/signup")
    heading(page).to_have_text("Create an account")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email address").fill(f"{username}@example.com")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD + ("x" if typo else ""))
    walk.look(page, "signup")
    page.get_by_role("button", name="Create account").click()
    if typo:
        expect(page.get_by_role("alert")).to_contain_text("The two passwords differ.")
        walk.look(page, "signup-errors")
        page.locator("#password").fill(PASSWORD)
        page.locator("#password_confirm").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
    heading(page).to_have_text(f"Hello, {username}")


def choose_product(page: Any, walk: Walk, product_label: str) -> None:
    """From the customer's home: "Get a token", then the product."""
    walk.look(page, "home")
    page.get_by_role("button", name="Get a token").click()
    heading(page).to_have_text("Choose product")
    page.get_by_label(product_label).check()
    walk.look(page, "choose-product")
    continue_(page)


def fill_address(page: Any, name: str = ADDRESS["ship_name"]) -> None:
    for key, value in {**ADDRESS, "ship_name": name}.items():
        page.locator(f"#field-{key}").fill(value)
    page.locator("#field-ship_country").select_option(label="United States")
    page.get_by_label("I accept the terms of sale").check()


def fill_card(page: Any, number: str) -> None:
    page.get_by_label("Card", exact=True).check()
    page.get_by_role("textbox", name="Card number").fill(number)
    page.get_by_role("textbox", name="Card expiry date (MM/YY)").fill("12/39")
    page.get_by_role("textbox", name="Card security code").fill("737")


def enter_key_and_profile(
    page: Any, walk: Walk, key: str, first: str, last: str, country: str | None = None
) -> None:
    """On "Enter license key": the key, then the legal name (and country) on the profile."""
    heading(page).to_have_text("Enter license key")
    page.get_by_role("textbox", name="License key").fill(key)
    walk.look(page, "enter-license-key")
    continue_(page)
    heading(page).to_have_text("Confirm your profile")
    page.get_by_role("textbox", name="Legal first name").fill(first)
    page.get_by_role("textbox", name="Legal last name").fill(last)
    if country:
        page.get_by_role("combobox", name="Country of residence").select_option(label=country)
    walk.look(page, "confirm-profile")
    continue_(page)


def order_number_on(page: Any) -> str:
    found = ORDER_NUMBER.search(page.get_by_role("heading", level=1).inner_text())
    assert found, page.get_by_role("heading", level=1).inner_text()
    return found.group(0)


def keys_emailed(system: Any, order_number: str) -> list[str]:
    """The license keys the buyer of `order_number` found in their email (one email for
    an order of several tokens), read from the outbox as a person reads their mail."""
    return [
        key
        for message in emails_about(system, f"for order {order_number}")
        if "license key" in str(message["Subject"])
        for key in LICENSE_KEY.findall(text_of(message))
    ]


def later(system: Any, **delta: float) -> None:
    """Time passes: the engine clock moves on and the worker runs what fell due (timers,
    the sandbox carrier's tracking), as `tokenflow worker` does every second."""
    clock.advance(timedelta(**delta))
    Worker(system).tick()


def pass_experian(page: Any, walk: Walk) -> None:
    """From "Choose how to prove your identity" to the order page, every answer right."""
    page.get_by_label("Instant online check (Experian)").check()
    walk.look(page, "choose-proofing")
    continue_(page)
    heading(page).to_have_text("Enter identity details")
    for key in ("street", "city", "postal_code", "phone", "date_of_birth"):
        page.locator(f"#field-{key}").fill(HOME[key])
    page.get_by_label("Last 4 digits of your Social Security number").fill(SSN_LAST4)
    walk.look(page, "experian-details")
    continue_(page)
    questions = page.locator("fieldset.field")
    assert questions.count() == 3
    for n in range(questions.count()):
        question = questions.nth(n)
        text = question.inner_text()
        topic = "street" if "street" in text else "birth_year" if "born" in text else "phone"
        question.get_by_label(RIGHT_ANSWERS[topic], exact=True).check()
    walk.look(page, "experian-questions")
    continue_(page)


def activate(page: Any, walk: Walk, then: str | re.Pattern[str] = ORDER_PAGE) -> None:
    """Right after the profile, without proofing: "Activate token", a plain confirmation,
    then the order page (or registration, for a token someone else bought and has)."""
    heading(page).to_have_text("Activate token")
    expect(page.get_by_role("textbox", name="Activation code")).to_have_count(0)
    expect(page.get_by_text("Your token needs no activation code.")).to_be_visible()
    walk.look(page, "activate-token")
    page.get_by_role("button", name="Activate token").click()
    heading(page).to_have_text(then)


def register(page: Any, walk: Walk, number: str) -> str:
    """From the order page with "Register token" waiting: two codes, no phone."""
    serial = page.locator("dt:text-is('Token serial') + dd").inner_text()
    page.get_by_role("link", name="Register token").click()
    assert register_here(page, walk) == serial
    heading(page).to_have_text(f"Order {number}")
    return serial


def approve_interview(agent: Any, number: str) -> None:
    """In the proofing inbox: claim and open order `number`'s video interview, tick every
    check and "Approve" (not yet submitted)."""
    agent.get_by_role("button", name=re.compile(f"Claim Run video interview {number}")).click()
    agent.get_by_role("link", name="Run video interview").click()
    heading(agent).to_have_text("Run video interview")
    expect(agent.locator(".context")).to_contain_text(number)
    agent.get_by_role("group", name="ID document").get_by_label("Passport").check()
    agent.get_by_label("The ID has not expired").check()
    agent.get_by_label("The name on the ID matches the legal name").check()
    agent.get_by_label("The customer answered the questions correctly").check()
    agent.get_by_label("Approve: identity proven").check()


def delivered_then_registered(page: Any, walk: Walk, system: Any, number: str) -> None:
    """The end of a walk: three days on the carrier delivers (the worker runs its
    tracking), the order page says so, the token is registered, and every page the walk
    looked at passed the accessibility check."""
    later(system, days=3)
    page.reload()
    expect(page.locator("#tracking-title + .tracking")).to_contain_text("Delivered")
    walk.look(page, "order-delivered")
    register(page, walk, number)
    page.context.close()
    walk.assert_accessible()


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
