"""What the analyst sees without editing: statistics on the diagram, and a dry run's
path marked on the draft."""

from __future__ import annotations

import re

import pytest

from tests.analyst.builders import (
    ANALYST,
    SLA_TIMER,
    log_in,
    set_timer,
    wait_for_modeler,
)
from tests.journey.builders_purchase import buy

pytestmark = pytest.mark.browser


def overlay(page, element_id: str):
    return page.locator(f'.tf-stats[data-element="{element_id}"]')


def test_statistics_are_shown_on_the_diagram(analyst_live, chromium, screenshot):
    from playwright.sync_api import expect

    late = buy(analyst_live.system)
    late.advance(hours=24, minutes=1)  # the key email never went out: the SLA is breached
    buy(analyst_live.system)

    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, ANALYST, "/analyst/processes/hardware_token/v1")
    expect(overlay(page, "call_license_key_delivery")).to_contain_text("2 now")
    expect(overlay(page, "call_purchase")).to_contain_text("2 passed")

    page.goto(f"{analyst_live.url}/analyst/processes/license_key_delivery/v1")
    expect(overlay(page, SLA_TIMER)).to_contain_text("1 now")
    expect(overlay(page, SLA_TIMER)).to_contain_text("SLA 1")
    expect(overlay(page, "license_key_sla_breach")).to_contain_text("1 now")
    screenshot(page, "analyst-statistics")


def test_a_dry_run_shows_the_path_taken_on_the_draft(analyst_live, chromium, screenshot):
    from playwright.sync_api import expect

    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, ANALYST, "/analyst/processes/license_key_delivery/edit")
    wait_for_modeler(page)
    set_timer(page, SLA_TIMER, '"PT12H"')
    page.get_by_label("Start variables (JSON object)").fill('{"order_number": "SO-00001"}')
    page.get_by_role("button", name="Run").click()

    summary = page.locator(".dry-run-summary")
    expect(summary).to_contain_text("license_key_delivery ended")
    path = page.locator(".dry-run-path")
    expect(path).to_contain_text("Generate license key")
    expect(
        page.locator('.djs-element.tf-visited[data-element-id="generate_license_key"]')
    ).to_have_count(1)
    screenshot(page, "analyst-dry-run")


def test_the_instance_page_marks_completed_and_current_elements_on_the_diagram(
    analyst_live, chromium, screenshot
):
    from playwright.sync_api import expect

    journey = buy(analyst_live.system)
    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, "root", f"/admin/instances/{journey.instance_id}")
    shape = 'g.djs-element[data-element-id="{}"]'
    expect(page.locator(shape.format("call_purchase"))).to_have_class(re.compile("tf-completed"))
    expect(page.locator(shape.format("order_started"))).to_have_class(re.compile("tf-completed"))
    expect(page.locator(shape.format("call_license_key_delivery"))).to_have_class(
        re.compile("tf-active")
    )
    expect(page.locator(shape.format("call_registration"))).not_to_have_class(re.compile("tf-"))
    screenshot(page, "admin-instance-diagram")
