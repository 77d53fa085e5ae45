"""The analyst's decision pages: the list, a decision's page with the dmn-js editor and
its versions, the file download, and validating and deploying DMN through the modeler's
JSON calls."""

from __future__ import annotations

import pytest

from tests.analyst.builders import ANALYST, analyst_system, token_of
from tests.builders import PROCESSES
from tests.web.builders_pages import Browser, ui_app

PAGE = "/analyst/decisions/proofing_methods"
TABLE = (PROCESSES / "proofing_methods.dmn").read_text()


@pytest.fixture
def app(config):
    system, _ = analyst_system(config)
    return ui_app(system)


@pytest.fixture
def analyst(app) -> Browser:
    return Browser(app).login(ANALYST)


def post_xml(browser: Browser, url: str, xml: str):
    browser.get(PAGE)
    headers = {"Content-Type": "application/xml", "X-CSRFToken": token_of(browser)}
    return browser.client.post(url, data=xml, headers=headers)


def test_the_list_shows_the_deployed_decisions(analyst):
    analyst.get("/analyst/")
    assert "Proofing methods by country" in analyst.text()
    assert f'href="{PAGE}"' in analyst.page


def test_a_decision_page_renders_the_dmn_editor_on_its_file(analyst):
    response = analyst.get(PAGE)
    assert response.status_code == 200
    page = analyst.page
    assert 'id="dmn-editor"' in page and "dist/dmn.js" in page and "dist/dmn-css.css" in page
    assert 'data-decision="proofing_methods"' in page
    assert 'data-xml-url="/analyst/decisions/proofing_methods/v1.dmn"' in page
    download = analyst.get("/analyst/decisions/proofing_methods/v1.dmn")
    assert download.mimetype == "application/xml"
    assert "attachment" in download.headers["Content-Disposition"]
    assert b'<decision id="proofing_methods"' in download.data


def test_unknown_decisions_and_versions_are_404(analyst):
    assert analyst.get("/analyst/decisions/nope").status_code == 404
    assert analyst.get(f"{PAGE}?version=7").status_code == 404
    assert analyst.get(f"{PAGE}?version=x").status_code == 400


def test_customers_may_not_open_decisions(app):
    customer = Browser(app).login("alice")
    assert customer.get(PAGE).status_code == 403
    assert customer.get("/analyst/decisions/proofing_methods/v1.dmn").status_code == 403


def test_the_editor_validates_and_deploys_a_new_version(analyst):
    broken = TABLE.replace("<text>true</text>", "<text>yes please</text>")
    checked = post_xml(analyst, "/analyst/check?filename=proofing_methods.dmn", broken)
    [problem] = checked.get_json()["problems"]
    assert problem["element"] == "proofing_methods"
    assert "rule 1, output 'experian_allowed'" in problem["message"]

    changed = TABLE.replace('"US"', '"US","CA"')
    deployed = post_xml(analyst, "/analyst/deploy?filename=proofing_methods.dmn", changed)
    assert deployed.status_code == 201, deployed.get_json()
    [row] = deployed.get_json()["deployed"]
    assert (row["kind"], row["key"], row["version"]) == ("decision", "proofing_methods", 2)
    assert row["url"] == f"{PAGE}?version=2"
    analyst.get(row["url"])
    assert "v2" in analyst.text() and "v1" in analyst.text()


def test_deploying_a_broken_table_is_refused_with_the_decision(analyst):
    broken = TABLE.replace('hitPolicy="UNIQUE"', 'hitPolicy="OUTPUT ORDER"')
    refused = post_xml(analyst, "/analyst/deploy?filename=proofing_methods.dmn", broken)
    assert refused.status_code == 422
    [problem] = refused.get_json()["problems"]
    assert problem["element"] == "proofing_methods"
    assert "hit policy 'OUTPUT ORDER' is not supported" in problem["message"]


def test_a_dry_run_of_a_table_alone_asks_for_a_process_to_start(analyst):
    analyst.get(PAGE)
    response = analyst.client.post(
        "/analyst/dry-run",
        json={"xml": TABLE, "file_name": "proofing_methods.dmn"},
        headers={"X-CSRFToken": token_of(analyst)},
    )
    assert response.status_code == 422
    assert "no process to run" in response.get_json()["detail"]
