"""The decision page in a browser: dmn-js shows the table, a cell edited there is
validated by the server and deployed as a new version."""

from __future__ import annotations

import pytest

from tests.analyst.builders import ANALYST, log_in

pytestmark = pytest.mark.browser
PAGE = "/analyst/decisions/proofing_methods"


def test_the_table_is_shown_edited_and_deployed(analyst_live, chromium, screenshot):
    from playwright.sync_api import expect

    page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, analyst_live.url, ANALYST, PAGE)
    page.locator("#dmn-editor[data-ready=true]").wait_for(timeout=20000)
    expect(page.locator(".modeler-status")).to_have_text("Opened.")  # no importer warning
    table = page.locator(".tjs-table")
    expect(table).to_contain_text('"US"')
    expect(table).to_contain_text('not("US")')
    screenshot(page, "decision-table")

    page.get_by_role("button", name="Validate").click()
    expect(page.locator(".modeler-status")).to_have_text("No errors.")

    cell = page.locator('td[data-row-id="Rule_us"][data-col-id="Input_country"]')
    cell.click()
    page.keyboard.press("End")
    page.keyboard.type(',"CA"')
    page.locator("h1").click()  # leave the cell
    page.get_by_role("button", name="Deploy").click()
    page.wait_for_url(f"{analyst_live.url}{PAGE}?version=2")
    page.locator("#dmn-editor[data-ready=true]").wait_for(timeout=20000)
    expect(page.locator(".tjs-table")).to_contain_text('"US","CA"')
