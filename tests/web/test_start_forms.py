"""Start forms (`camunda:formData` on the none start event): shown when a person starts
the process from the pages, and taken as the `data` of the API's start, with the task
forms' types, defaults and constraints; the values become the instance's variables."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.actors import SYSTEM
from engine.clock import clock
from tests.engine.builders import diagram
from tests.web.builders_api import start, token
from tests.web.builders_pages import Browser

FORM = (
    '<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>'
    '<camunda:formField id="amount" label="Amount" type="long">'
    '<camunda:validation><camunda:constraint name="required" />'
    '<camunda:constraint name="min" config="1" /><camunda:constraint name="max" config="10" />'
    "</camunda:validation></camunda:formField>"
    '<camunda:formField id="note" label="Note" type="string" defaultValue="none" />'
    '<camunda:formField id="urgent" label="Urgent" type="boolean" defaultValue="true" />'
    '<camunda:formField id="wanted_on" label="Wanted on" type="date" />'
    "</camunda:formData></bpmn:extensionElements></bpmn:startEvent>"
)
WAIT = '<bpmn:userTask id="review" camunda:candidateUsers="alice" />'


@pytest.fixture
def client(app, system):
    system.engine.deploy([("requests.bpmn", diagram("requests", FORM, WAIT))], SYSTEM)
    return app.test_client()


def variables(client, instance_id: str) -> dict:
    r = client.get(f"/api/v1/process-instances/{instance_id}", headers=token(client, "root"))
    assert r.status_code == 200, r.json
    return r.json["variables"]


def test_the_api_describes_the_start_form(client):
    r = client.get(
        "/api/v1/process-definitions/requests/start-form", headers=token(client, "alice")
    )
    assert r.status_code == 200, r.json
    fields = {f["id"]: f for f in r.json["fields"]}
    assert set(fields) == {"amount", "note", "urgent", "wanted_on"}
    assert fields["amount"]["required"] is True


def test_the_api_start_takes_the_forms_values_with_defaults_for_those_left_out(client):
    day = (clock.now() + timedelta(days=3)).date()
    r = start(client, "alice", "requests", data={"amount": 4, "wanted_on": day.isoformat()})
    assert r.status_code == 201, r.json
    found = variables(client, r.json["id"])
    assert found["amount"] == 4
    assert found["note"] == "none"
    assert found["urgent"] is True
    assert found["wanted_on"] == day.isoformat()


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "amount"), ({"amount": 11}, "amount"), ({"amount": 2, "extra": 1}, "extra")],
)
def test_the_api_start_refuses_answers_the_form_refuses_and_starts_nothing(client, data, field):
    r = start(client, "alice", "requests", data=data)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]
    mine = client.get("/api/v1/process-instances", headers=token(client, "alice")).json
    assert mine["total"] == 0


def test_a_process_without_a_start_form_still_takes_data_only_from_admins(client):
    r = start(client, "alice", "hardware_token", data={"product": "x"})
    assert r.status_code == 403


def test_the_page_shows_the_start_form_checks_it_and_starts_with_its_values(app, client):
    alice = Browser(app).login("alice")
    page = alice.get("/start/requests")
    assert page.status_code == 200
    assert "Amount" in alice.text() and "Wanted on" in alice.text()
    refused = alice.post("/start/requests", {"amount": "0", "note": "x"})
    assert refused.status_code == 422
    assert "Amount" in alice.text()
    done = alice.post("/start/requests", {"amount": "3", "note": "by page"}, page="/start/requests")
    assert done.status_code == 302
    assert done.headers["Location"].startswith(("/tasks/", "/orders/"))
    mine = client.get("/api/v1/process-instances", headers=token(client, "alice")).json
    [instance] = mine["items"]
    found = variables(client, instance["id"])
    assert (found["amount"], found["note"], found["urgent"]) == (3, "by page", False)


def test_staff_find_what_they_may_start_on_their_home_page(app):
    sam = Browser(app).login("sam")
    sam.get("/")
    assert sam.links(r"/start/token_reset")
    sam.get("/start/token_reset")
    assert "asks nothing to start" in sam.text()
    alice = Browser(app).login("alice")
    alice.get("/")
    assert not alice.links(r"/start/[a-z_]+")


@pytest.mark.parametrize(
    "data",
    [
        {"amount": {"a": 1}},
        {"amount": [1]},
        {"amount": "1e999"},
        {"amount": 2, "urgent": "maybe"},
        {"amount": 2, "wanted_on": ["2027-01-01"]},
        {"amount": 2, "note": {"x": 1}},
    ],
)
def test_odd_start_answers_are_refused_by_field_never_a_500(client, data):
    r = start(client, "alice", "requests", data=data)
    assert r.status_code == 422, r.json
    assert r.json["errors"]


def test_unknown_processes_answer_404_on_the_api_and_the_page(app, client):
    url = "/api/v1/process-definitions/nothing_here/start-form"
    assert client.get(url, headers=token(client, "alice")).status_code == 404
    alice = Browser(app).login("alice")
    assert alice.get("/start/nothing_here").status_code == 404
    assert alice.get("/start/token_reset").status_code == 403
