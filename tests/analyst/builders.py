"""Helpers for the analyst tests: a system on the real diagrams whose license-key email
fails (so the 24-hour SLA timer stays pending), an analyst among the users, and the
diagrams as text to change."""

from __future__ import annotations

import re
from typing import Any

from engine.db import unit_of_work
from engine.models import Job
from engine.registry import Registry
from service_layer.config import Config
from service_layer.system import System
from tests.builders import BPMN_DIR, PASSWORD, PROCESSES, person
from tests.journey.builders_purchase import BrokenMailServer, system_with_broken_mail
from tests.journey.builders_tokens import stock_tokens
from tests.web.builders_pages import USERS, Browser

ANALYST = "ana"
SLA_TIMER = "license_key_email_sla"


def analyst_system(config: Config, tokens: int = 3) -> tuple[System, BrokenMailServer]:
    system, mail = system_with_broken_mail(config)
    stock_tokens(system, tokens)
    with unit_of_work(system.session_factory) as s:
        for name, roles in [*USERS, (ANALYST, ["analyst"])]:
            person(s, name, roles, email=f"{name}@example.com")
        # The group the shipped diagrams name beside the roles, as an installation has it.
        person(s, "lee", ["support"], groups=["support_leads"])
    return system, mail


def diagram(name: str) -> str:
    return (PROCESSES / f"{name}.bpmn").read_text()


def timer_jobs(system: System, instance_id: str, element: str = SLA_TIMER) -> list[Job]:
    with unit_of_work(system.session_factory) as s:
        rows = list(s.query(Job).filter_by(instance_id=instance_id, element=element, kind="timer"))
        s.expunge_all()
        return rows


def token_of(browser: Browser) -> str:
    """The CSRF token the modeler page carries, which its JSON calls send back."""
    found = re.search(r'data-csrf-token="([^"]+)"', browser.page)
    assert found, "the modeler page carries no CSRF token"
    return found.group(1)


# -- in the browser (Playwright pages) ----------------------------------------------------


def log_in(page: Any, base: str, username: str, then: str) -> None:
    """Log in through the UI's login page and land on `then`."""
    page.goto(f"{base}/login?next={then}")
    page.get_by_label("Username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{then}")


def wait_for_modeler(page: Any) -> None:
    page.locator("#modeler[data-ready=true]").wait_for(timeout=20000)


def shape(page: Any, element_id: str) -> Any:
    return page.locator(f'.djs-element[data-element-id="{element_id}"]')


def set_timer(page: Any, element_id: str, expression: str) -> str:
    """Select a timer event, type its expression into the properties panel; returns the
    expression it had."""
    shape(page, element_id).click()
    panel = page.locator(".properties")
    value = panel.locator("#bio-properties-panel-timerEventDefinitionValue")
    if not value.is_visible():
        panel.get_by_text("Timer", exact=True).click()
    before = value.input_value()
    value.fill(expression)
    value.press("Tab")
    return before


# -- diagrams for the deploy-time checks (tests/bpmn/, changed as text) -----------------

LINEAR = (BPMN_DIR / "linear.bpmn").read_text()
GATEWAYS = (BPMN_DIR / "gateways.bpmn").read_text()
TIMER = '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>'
ROUTE = 'route == "parallel"'
MESSAGE_START = (
    '<bpmn:startEvent id="start" name="Start" />',
    '<bpmn:startEvent id="start" name="Start">'
    '<bpmn:messageEventDefinition id="md_start" messageRef="Message_order" />'
    "</bpmn:startEvent>",
)


def changed(text: str, *replacements: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced once; fails if an `old` is not there, so a
    diagram that changes under a test does not pass unchanged."""
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def with_timer(kind: str, text: str) -> str:
    """LINEAR whose timer waits on a `kind` (timeDate, timeCycle...) of `text`."""
    return changed(LINEAR, (TIMER, f"<bpmn:{kind}>{text}</bpmn:{kind}>"))


def greeter_registry() -> Registry:
    """A registry whose `greet` handler sets names (`greeting`, `greeted_at`) the checks
    can read, so a condition reading them gets no warning."""
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        return {"greeting": "hi", **dict(greeted_at=ctx.now.isoformat())}

    return reg
