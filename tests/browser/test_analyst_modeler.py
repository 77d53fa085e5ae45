"""An analyst changes how the business runs in the browser's modeler, with no Python
change: a shorter license-key SLA timer for new instances only, and a new support step.

The email of the license key fails in these systems (as if the SMTP server were down), so
the SLA timer of `license_key_delivery` stays pending and its breach reaches support."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from engine.clock import clock
from engine.db import unit_of_work
from engine.definitions import latest_definition
from tests.analyst.builders import (
    ANALYST,
    log_in,
    set_timer,
    shape,
    timer_jobs,
    wait_for_modeler,
)
from tests.builders import SUPPORT
from tests.journey.builders_purchase import buy

pytestmark = pytest.mark.browser

EDIT_LICENSE = "/analyst/processes/license_key_delivery/edit"


def test_an_error_is_marked_on_its_element_and_the_deploy_is_refused(analyst_live, chromium):
    from playwright.sync_api import expect

    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, ANALYST, EDIT_LICENSE)
    wait_for_modeler(page)
    set_timer(page, "license_key_email_sla", "PT12X")  # no ISO 8601 unit
    page.get_by_role("button", name="Deploy").click()

    expect(page.locator(".modeler-status")).to_have_text(
        "Deploy refused: 1 error(s) to fix first, listed below."
    )
    [problem] = page.locator(".problem-list li").all()
    expect(problem).to_contain_text(
        "24 h email SLA (license_key_email_sla): timer PT12X is not a valid ISO 8601 timeDuration"
    )
    # The element is a visible link on the page's white, not the header's white text.
    colour = problem.locator(".link-button").evaluate("b => getComputedStyle(b).color")
    assert colour not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), colour
    expect(
        page.locator('.djs-element.tf-has-error[data-element-id="license_key_email_sla"]')
    ).to_have_count(1)
    expect(page.locator(".tf-problem-badge")).to_have_text("1")
    with unit_of_work(analyst_live.system.session_factory) as s:
        assert latest_definition(s, "license_key_delivery").version == 1


def validate_and_deploy(page: Any) -> None:
    from playwright.sync_api import expect

    status = page.locator(".modeler-status")
    page.get_by_role("button", name="Validate").click()
    # bpmnlint may warn (shapes squeezed together); warnings do not stop a deploy.
    expect(status).to_have_text(re.compile(r"No problems found\.|0 error\(s\), \d+ warning"))
    page.get_by_role("button", name="Deploy").click()
    expect(status).to_contain_text("Deployed license_key_delivery version 2")


def test_a_shorter_sla_timer_applies_to_new_instances_and_not_to_running_ones(
    analyst_live, chromium, screenshot
):

    system = analyst_live.system
    before = buy(system)
    [old_timer] = timer_jobs(system, before.instance_id)

    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, ANALYST, "/analyst/processes/hardware_token/edit")
    wait_for_modeler(page)
    # hardware_token calls license_key_delivery, where the SLA timer is: open it from there.
    shape(page, "call_license_key_delivery").click()
    page.get_by_role("link", name="Open the called process: license_key_delivery").click()
    page.wait_for_url(f"{analyst_live.url}{EDIT_LICENSE}")
    wait_for_modeler(page)

    assert set_timer(page, "license_key_email_sla", '"PT12H"') == '"PT24H"'
    validate_and_deploy(page)
    screenshot(page, "analyst-deployed-sla")

    after = buy(system)
    [new_timer] = timer_jobs(system, after.instance_id)
    started = clock.now()
    assert abs(new_timer.due_at - (started + timedelta(hours=12))) < timedelta(minutes=1)
    [kept] = timer_jobs(system, before.instance_id)
    assert kept.due_at == old_timer.due_at
    assert kept.due_at - new_timer.due_at > timedelta(hours=11)

    after.advance(hours=12, minutes=1)
    assert after.tasks(SUPPORT, "license_key_sla_breach")
    assert not before.tasks(SUPPORT, "license_key_sla_breach")
    before.advance(hours=12)
    assert before.tasks(SUPPORT, "license_key_sla_breach")


def test_a_new_support_step_between_two_steps_reaches_the_support_inbox(
    analyst_live, chromium, screenshot
):
    from playwright.sync_api import expect

    system = analyst_live.system
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, ANALYST, EDIT_LICENSE)
    wait_for_modeler(page)

    # A task from the palette, dropped on the flow from the breach task to the gateway:
    # bpmn-js splits the flow around it, and the support lane takes it in.
    flow = page.locator(
        '.djs-connection[data-element-id="Flow_license_key_sla_breach_to_sla_resolution_gateway"]'
    )
    box = flow.bounding_box()
    assert box is not None
    page.locator('.djs-palette .entry[data-action="create.task"]').click()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 40, y - 40, steps=5)
    page.mouse.move(x, y, steps=10)
    page.mouse.click(x, y)
    page.keyboard.type("Double-check the resolution")
    page.keyboard.press("Enter")

    page.locator('.djs-context-pad .entry[data-action="replace"]').click()
    page.locator('.djs-popup [data-id="replace-with-user-task"]').click()
    identifier = page.locator(".properties #bio-properties-panel-id")
    if not identifier.is_visible():
        page.locator(".properties").get_by_text("General", exact=True).click()
    identifier.fill("double_check_resolution")
    identifier.press("Tab")
    expect(shape(page, "double_check_resolution")).to_have_count(1)
    screenshot(page, "analyst-new-support-step")
    validate_and_deploy(page)
    screenshot(page, "analyst-deployed-new-support-step")

    journey = buy(system)
    journey.advance(hours=24, minutes=1)
    journey.complete("license_key_sla_breach", {"resolution": "contacted_customer"}, actor=SUPPORT)
    [task] = journey.tasks(SUPPORT, "double_check_resolution")
    assert (task["lane"], task["title"]) == ("support", "Double-check the resolution")

    support = chromium.new_context().new_page()
    log_in(support, analyst_live.url, "sam", "/inbox/support")
    expect(support.get_by_text("Double-check the resolution").first).to_be_visible()
