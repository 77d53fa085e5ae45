"""Through the API, a diagram that fails while it runs gives the caller a 422 problem
naming the element and the reason, with the incident's id; never a 500."""

from __future__ import annotations

import itertools

import pytest

from domain.accounts.users import create_user
from engine.db import unit_of_work
from engine.registry import Registry
from tests.builders import BPMN_DIR, engine_system
from tests.web.builders_api import PASSWORD, Api, problem
from web.app import create_app


@pytest.fixture
def app(config):
    reg = Registry()
    numbers = itertools.count(20001)

    @reg.handler()
    def number_order(ctx):
        ctx.set_business_key(f"SO-{next(numbers)}")

    @reg.handler()
    def issue_code(ctx):
        ctx.notice(activation_code="K7Q2-M9XD")

    system = engine_system(
        config, reg, "fail_after_task.bpmn", "fail_cardinality.bpmn", "fail_after_notice.bpmn"
    )
    with unit_of_work(system.session_factory) as s:
        for name, roles in [("alice", ["customer"]), ("fran", ["finance"]), ("ana", ["analyst"])]:
            create_user(s, name, PASSWORD, roles)
        create_user(s, "root", PASSWORD, ["admin"])
    app = create_app(system)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def as_(app):
    client = app.test_client()
    return lambda name: Api(client, name)


def test_a_start_that_fails_answers_422_with_the_incident_and_an_admin_sees_and_retries_it(as_):
    xml = (BPMN_DIR / "fail_script.bpmn").read_bytes()
    ana = as_("ana")
    deployed = ana.post("/api/v1/process-definitions?filename=fail_script.bpmn", data=xml)
    assert deployed.status_code == 201, deployed.json
    body = problem(
        as_("alice").post("/api/v1/process-instances", json={"process": "fail_script"}), 422
    )
    assert body["title"] == "The process could not continue"
    assert body["detail"].startswith("The process could not continue at Compute the bonus: ")
    assert body["element"] == "compute"
    root = as_("root")
    [incident] = root.get("/api/v1/incidents").json
    assert incident["id"] == body["incident_id"]
    assert incident["instance_id"] == body["instance_id"]
    assert (incident["element_name"], incident["expression"]) == (
        "Compute the bonus",
        "bonus = amount * 2",
    )
    view = as_("alice").get(f"/api/v1/process-instances/{body['instance_id']}").json
    assert view["status"] == "incident"
    again = problem(root.post(f"/api/v1/incidents/{incident['id']}/retry"), 422)
    assert again["incident_id"] != incident["id"]


def test_completing_a_task_whose_next_step_fails_answers_422_and_the_task_is_done(as_):
    alice = as_("alice")
    started = alice.post("/api/v1/process-instances", json={"process": "fail_after_task"})
    [task] = alice.get("/api/v1/tasks").json
    body = problem(
        alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"count": 2}}), 422
    )
    assert body["detail"].startswith("The process could not continue at Large order?: ")
    assert body["instance_id"] == started.json["id"]
    assert alice.get("/api/v1/tasks").json == []
    again = alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"count": 2}})
    problem(again, 409)


def test_a_message_that_meets_a_failing_element_answers_422(as_):
    started = as_("root").post("/api/v1/process-instances", json={"process": "fail_cardinality"})
    key = started.json["business_key"]
    sent = as_("fran").post("/api/v1/messages", json={"name": "go", "correlation_key": key})
    body = problem(sent, 422)
    assert body["element"] == "copy" and "copies" in body["detail"]


def test_a_value_shown_once_before_the_failure_still_reaches_the_person_who_acted(as_):
    alice = as_("alice")
    alice.post("/api/v1/process-instances", json={"process": "fail_after_notice"})
    [task] = alice.get("/api/v1/tasks").json
    body = problem(alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}), 422)
    assert body["element"] == "tally"
    assert body["notice"] == {"activation_code": "K7Q2-M9XD"}
