"""The analyst pages over HTTP: who may open them, what they show, and the modeler's
JSON calls (check, deploy, dry run, statistics) with the session and its CSRF token."""

from __future__ import annotations

import json
import re

import pytest

from engine.db import unit_of_work
from engine.definitions import list_definitions
from tests.analyst.builders import ANALYST, analyst_system, diagram, token_of
from tests.journey.builders_purchase import buy
from tests.web.builders_pages import Browser, ui_app

LICENSE_FILE = "license_key_delivery.bpmn"
DEPLOY = f"/analyst/deploy?filename={LICENSE_FILE}"


@pytest.fixture
def system(config):
    found, _ = analyst_system(config)
    return found


@pytest.fixture
def app(system):
    return ui_app(system)


@pytest.fixture
def analyst(app) -> Browser:
    return Browser(app).login(ANALYST)


def send(browser: Browser, url: str, body: str, kind: str, csrf: bool = True):
    """POST as the modeler's script does: from the modeler page, with its CSRF token."""
    browser.get("/analyst/processes/license_key_delivery/edit")
    headers = {"Content-Type": kind}
    if csrf:
        headers["X-CSRFToken"] = token_of(browser)
    return browser.client.post(url, data=body, headers=headers)


def deploy(browser: Browser, xml: str, csrf: bool = True):
    return send(browser, DEPLOY, xml, "application/xml", csrf)


def dry_run(browser: Browser, body: dict):
    return send(browser, "/analyst/dry-run", json.dumps(body), "application/json")


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/analyst/", "analyst.index"),
        ("/analyst/processes/hardware_token", "analyst.process"),
        ("/analyst/processes/hardware_token/v1", "analyst.version"),
        ("/analyst/processes/hardware_token/v1.bpmn", "analyst.version_xml"),
        ("/analyst/processes/hardware_token/v1/statistics.json", "analyst.statistics"),
        ("/analyst/processes/hardware_token/diff", "analyst.diff"),
        ("/analyst/processes/hardware_token/edit", "analyst.edit"),
        ("/analyst/migrations", "analyst.start"),
    ],
)
def test_each_analyst_path_goes_to_its_view(app, path, endpoint):
    adapter = app.url_map.bind("localhost")
    assert adapter.match(path)[0] == endpoint


def test_anonymous_visitors_are_sent_to_log_in_and_customers_are_refused(app):
    anonymous = Browser(app)
    response = anonymous.get("/analyst/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.client.post("/analyst/check", data=b"<x/>").status_code in (400, 401)
    customer = Browser(app).login("alice")
    assert customer.get("/analyst/").status_code == 403
    assert customer.get("/analyst/processes/hardware_token/v1.bpmn").status_code == 403


def test_admins_may_use_the_analyst_pages(app):
    assert Browser(app).login("root").get("/analyst/").status_code == 200


def test_the_list_shows_every_process_with_its_versions_and_who_deployed_them(analyst):
    response = analyst.get("/analyst/")
    assert response.status_code == 200
    text = analyst.text()
    for key in ("hardware_token", "license_key_delivery", "purchase", "shipping"):
        assert key in text
    assert "system" in text  # the deployer of the fixtures

    analyst.get("/analyst/processes/license_key_delivery")
    assert "v1" in analyst.text() and LICENSE_FILE in analyst.text()


def test_a_version_page_shows_its_diagram_and_statistics(analyst, system):
    buy(system)
    response = analyst.get("/analyst/processes/hardware_token/v1")
    assert response.status_code == 200
    assert 'id="diagram"' in analyst.page and "dist/viewer.js" in analyst.page
    rows = dict(re.findall(r'<tr data-element="(\w+)">(.*?)</tr>', analyst.page, re.S))
    assert re.findall(r"<td>(\d+)</td>", rows["call_purchase"]) == ["0", "1"]  # now, passed
    assert re.findall(r"<td>(\d+)</td>", rows["call_license_key_delivery"]) == ["1", "0"]
    xml = analyst.get("/analyst/processes/hardware_token/v1.bpmn")
    assert xml.mimetype == "application/xml" and b'id="hardware_token"' in xml.data

    stats = analyst.get("/analyst/processes/hardware_token/v1/statistics.json").get_json()
    by_element = {e["element"]: e for e in stats["elements"]}
    assert by_element["call_license_key_delivery"]["now"] == 1


def test_the_diff_of_two_versions_shows_the_changed_timer(analyst, system):
    changed = diagram("license_key_delivery").replace('"PT24H"', '"PT12H"')
    analyst.get("/analyst/processes/license_key_delivery/edit")
    token = token_of(analyst)
    response = send(
        analyst, f"/analyst/deploy?filename={LICENSE_FILE}", changed, "application/xml", token
    )
    assert response.status_code == 201, response.get_json()

    analyst.get("/analyst/processes/license_key_delivery/diff?from=1&to=2")
    text = analyst.text()
    assert '- <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT24H"' in text
    assert '+ <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT12H"' in text
    assert 'class="diff-del"' in analyst.page and 'class="diff-add"' in analyst.page
    assert "license_key_email_sla" in analyst.text()  # listed among the changed elements


def test_check_lists_every_problem_by_element(analyst):
    broken = (
        diagram("license_key_delivery")
        .replace('"PT24H"', "PT24X")
        .replace('camunda:topic="resend_license_key"', 'camunda:topic="resend_by_pigeon"')
    )
    response = send(analyst, "/analyst/check", broken, "application/xml")
    problems = response.get_json()["problems"]
    errors = {p["element"] for p in problems if p["severity"] == "error"}
    assert errors == {"license_key_email_sla", "resend_license_key"}


def test_check_names_mappings_and_assignments_that_cannot_run(analyst):
    mapped = (
        diagram("license_key_delivery")
        .replace(
            'camunda:candidateGroups="support_leads">',
            'camunda:candidateGroups="${leads.size()}">',
        )
        .replace(
            "        <camunda:formData>",
            '        <camunda:inputOutput><camunda:inputParameter name="x">'
            '<camunda:script scriptFormat="groovy">1</camunda:script>'
            "</camunda:inputParameter></camunda:inputOutput>\n        <camunda:formData>",
            1,
        )
    )
    response = send(analyst, "/analyst/check", mapped, "application/xml")
    found = [
        p["message"]
        for p in response.get_json()["problems"]
        if p["element"] == "license_key_sla_breach"
    ]
    assert any(m.startswith("camunda:candidateGroups: ${leads.size()}: method") for m in found)
    assert any("camunda:script values are not supported" in m for m in found), found


def test_a_deploy_with_errors_is_refused_listing_every_problem(analyst, system):
    broken = (
        diagram("license_key_delivery")
        .replace('name="support"', 'name="janitors"')
        .replace('"PT24H"', '"PT12X"')
    )
    analyst.get("/analyst/processes/license_key_delivery/edit")
    response = send(
        analyst,
        f"/analyst/deploy?filename={LICENSE_FILE}",
        broken,
        "application/xml",
        token_of(analyst),
    )
    assert response.status_code == 422
    body = response.get_json()
    errors = {p["element"] for p in body["problems"] if p["severity"] == "error"}
    assert errors == {"Lane_support", "license_key_email_sla"}
    with unit_of_work(system.session_factory) as s:
        assert [d.version for d in list_definitions(s) if d.key == "license_key_delivery"] == [1]


def test_a_deploy_records_the_analyst_as_deployer(analyst, system):
    changed = diagram("license_key_delivery").replace('"PT24H"', '"PT12H"')
    analyst.get("/analyst/processes/license_key_delivery/edit")
    response = send(
        analyst,
        f"/analyst/deploy?filename={LICENSE_FILE}",
        changed,
        "application/xml",
        token_of(analyst),
    )
    assert response.get_json()["deployed"][0]["version"] == 2
    with unit_of_work(system.session_factory) as s:
        [latest] = [d for d in list_definitions(s) if d.version == 2]
        assert (latest.key, latest.deployed_by, latest.file_name) == (
            "license_key_delivery",
            ANALYST,
            LICENSE_FILE,
        )


def test_a_deploy_without_the_csrf_token_is_refused(analyst):
    changed = diagram("license_key_delivery").replace('"PT24H"', '"PT12H"')
    response = send(
        analyst, f"/analyst/deploy?filename={LICENSE_FILE}", changed, "application/xml", None
    )
    assert response.status_code == 400


def test_a_dry_run_returns_the_path_taken(analyst):
    body = {
        "xml": diagram("license_key_delivery").replace('"PT24H"', '"PT12H"'),
        "file_name": LICENSE_FILE,
        "data": {"order_number": "SO-00001"},
        "horizon_days": 2,
    }
    response = dry_run(analyst, body)
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    assert run["process"] == "license_key_delivery"
    assert "generate_license_key" in run["visited"]


def test_a_dry_run_of_a_failing_draft_marks_the_element_and_gives_the_reason(analyst):
    xml = diagram("license_key_delivery")
    broken = re.sub(r'"PT24H"', "sla_hours", xml, count=1)
    assert broken != xml
    body = {"xml": broken, "file_name": LICENSE_FILE, "data": {"order_number": "SO-00001"}}
    response = dry_run(analyst, body)
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    assert run["status"] == "incident"
    [failure] = [f for f in run["failed"] if f["expression"] == "sla_hours"]
    assert "sla_hours" in failure["reason"]
    assert failure["element"] in run["active"]


def test_a_dry_run_with_a_bad_scenario_names_the_field(analyst):
    analyst.get("/analyst/processes/license_key_delivery/edit")
    body = {"xml": diagram("license_key_delivery"), "tasks": [], "horizon_days": 0}
    response = send(
        analyst, "/analyst/dry-run", json.dumps(body), "application/json", token_of(analyst)
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"tasks", "horizon_days"}


def test_running_instances_are_migrated_through_plan_validate_and_execute(analyst, system):
    journey = buy(system)
    shorter = diagram("license_key_delivery").replace('"PT24H"', '"PT12H"')
    assert deploy(analyst, shorter).status_code == 201
    chosen = {"process": "hardware_token", "source": "1", "target": "1"}

    analyst.get("/analyst/migrations?process=hardware_token")
    analyst.post("/analyst/migrations/plan", chosen)
    assert 'name="map:call_license_key_delivery"' in analyst.page
    assert "Maps to, in v1" in analyst.text()

    analyst.post("/analyst/migrations/validate", chosen)
    assert "1 of 1 selected instance can be migrated" in analyst.text()
    assert journey.instance_id in analyst.text()

    analyst.post("/analyst/migrations/execute", chosen)
    assert "Migrated 1 of 1 instance." in analyst.text()
    analyst.post("/analyst/migrations/validate", chosen)
    assert "already runs on version 1" in analyst.text()


def test_a_migration_plan_with_an_unknown_element_is_refused(analyst, system):
    analyst.get("/analyst/migrations?process=hardware_token")
    chosen = {"process": "hardware_token", "source": "1", "target": "1", "map:ghost": "x"}
    response = analyst.post("/analyst/migrations/plan", chosen)
    assert response.status_code == 422
    assert "The mapping names elements that do not exist." in analyst.text()


def test_check_and_deploy_give_warnings_their_own_severity(analyst):
    laneless = (
        diagram("license_key_delivery")
        .replace("<bpmn:flowNodeRef>license_key_sla_breach</bpmn:flowNodeRef>", "")
        .replace(' camunda:candidateGroups="support_leads"', "")
    )  # a task in no lane that names nobody: for admins only
    checked = send(analyst, "/analyst/check", laneless, "application/xml").get_json()
    assert [(p["element"], p["severity"]) for p in checked["problems"]] == [
        ("license_key_sla_breach", "warning")
    ]
    deployed = deploy(analyst, laneless)
    assert deployed.status_code == 201
    assert [w["element"] for w in deployed.get_json()["warnings"]] == ["license_key_sla_breach"]


def test_the_migration_choices_are_laid_out_to_show_each_option_whole(analyst):
    """The process choice sits in a row of its own width, not a narrow filter cell, and
    the mapping's selects keep their longest option's width (the stylesheet says so)."""
    analyst.get("/analyst/migrations?process=hardware_token")
    assert re.search(r'<form[^>]*class="row-form migrate-choose"', analyst.page)
    assert 'class="filters"' not in analyst.page
    css = analyst.get("/analyst/static/analyst.css").get_data(as_text=True)
    assert ".migrate-choose select, .mapping select { width: auto; min-width: 16rem;" in css
    assert ".problem-list .link-button { color: var(--brand" in css
