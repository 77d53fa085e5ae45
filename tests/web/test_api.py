from __future__ import annotations

import json
import re

import pytest

from tests.builders import BPMN_DIR
from tests.web.builders_api import PASSWORD, Api, api_app, problem


@pytest.fixture
def flaky() -> dict:
    return {"fail": False}


@pytest.fixture
def app(config, flaky):
    return api_app(config, flaky)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_(client):
    return lambda name=None: Api(client, name)


def test_health_answers_when_the_database_does(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_a_wrong_password_is_refused_and_the_next_try_must_wait(client):
    refused = problem(
        client.post("/api/v1/auth/token", json={"username": "alice", "password": "x"}), 401
    )
    assert refused["detail"] == "Wrong username or password."
    too_soon = client.post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD})
    assert "Wait 1 second" in problem(too_soon, 429)["detail"]
    assert too_soon.headers["Retry-After"] == "1"


def test_every_api_route_needs_a_login(app, client):
    doc = client.get("/api/v1/openapi.json").json
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if "security" not in op:
                continue
            url = (
                path.replace("{task_id}", "x")
                .replace("{instance_id}", "x")
                .replace("{key}", "x")
                .replace("{job_id}", "1")
                .replace("{incident_id}", "1")
            )
            r = client.open(url, method=method.upper(), json={})
            assert r.status_code == 401, (method, path, r.status_code)


def test_the_openapi_document_describes_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            template = re.sub(r"<int(\([^)]*\))?:", "<", rule.rule)
            if "<any(" in template:
                continue
            path = template.replace("<", "{").replace(">", "}")
            assert path in doc["paths"], path


def test_an_analyst_deploys_and_reads_definitions(as_):
    analyst = as_("ana")
    xml = (BPMN_DIR / "linear.bpmn").read_text().replace('"PT1H"', '"PT3H"')
    created = analyst.post("/api/v1/process-definitions", data=xml, content_type="application/xml")
    assert created.status_code == 201
    assert created.json["key"] == "linear" and created.json["version"] == 2
    listed = analyst.get("/api/v1/process-definitions").json
    assert {(d["key"], d["version"]) for d in listed} >= {("linear", 1), ("linear", 2)}
    assert '"PT3H"' in analyst.get("/api/v1/process-definitions/linear/xml").text
    assert '"PT1H"' in analyst.get("/api/v1/process-definitions/linear/xml?version=1").text
    problem(as_("alice").get("/api/v1/process-definitions"), 403)


@pytest.mark.parametrize(
    "xml",
    [
        "<definitions",
        "",
        "<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b SYSTEM 'file:///etc/passwd'>]><a>&b;</a>",
        (BPMN_DIR / "linear.bpmn")
        .read_text()
        .replace('camunda:topic="greet"', 'camunda:topic="x"'),
    ],
)
def test_a_bad_diagram_gets_a_problem_listing_what_is_wrong(as_, xml):
    r = as_("ana").post("/api/v1/process-definitions", data=xml, content_type="application/xml")
    body = problem(r, 400 if not xml else 422)
    if xml:
        assert body["problems"]


def test_an_oversized_body_is_refused_with_a_problem(as_):
    r = as_("ana").post(
        "/api/v1/process-definitions", data="x" * (3 * 1024 * 1024), content_type="application/xml"
    )
    problem(r, 413)


def test_a_customer_walks_a_process_through_the_api(as_):
    alice = as_("alice")
    started = alice.post("/api/v1/process-instances", json={"process": "linear"})
    assert started.status_code == 201
    iid = started.json["id"]
    [task] = alice.get(f"/api/v1/tasks?instance_id={iid}").json
    assert task["name"] == "ask_name" and task["fields"][0]["id"] == "name"
    bad = problem(alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}), 422)
    assert bad["errors"] == {"name": "This field is required."}
    done = alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"name": "12345"}})
    assert done.status_code == 200
    assert done.json["instance"]["active"] == ["review"]
    assert done.json["next_tasks"] == []  # the review is support's, not hers
    problem(alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"name": "1"}}), 409)
    got = alice.get(f"/api/v1/process-instances/{iid}").json
    assert got["business_key"] == "SO-12345"
    events = alice.get(f"/api/v1/process-instances/{iid}/events").json
    assert [e["event"] for e in events][:3] == ["instance.started", "task.ready", "task.completed"]
    listed = alice.get("/api/v1/process-instances?business_key=SO-12345").json
    assert listed["total"] == 1


def test_a_customer_cannot_see_or_touch_another_customers_instance(as_):
    alice, bob = as_("alice"), as_("bob")
    iid = alice.post("/api/v1/process-instances", json={"process": "linear"}).json["id"]
    [task] = alice.get("/api/v1/tasks").json
    problem(bob.get(f"/api/v1/process-instances/{iid}"), 404)
    problem(bob.get(f"/api/v1/process-instances/{iid}/events"), 404)
    problem(bob.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"name": "x"}}), 404)
    assert bob.get("/api/v1/tasks").json == []
    assert bob.get("/api/v1/process-instances").json["total"] == 0


def test_an_agent_cannot_complete_another_lanes_task(as_):
    alice = as_("alice")
    alice.post("/api/v1/process-instances", json={"process": "linear"})
    [task] = alice.get("/api/v1/tasks").json
    alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"name": "77777"}})
    [review] = as_("sam").get("/api/v1/tasks").json
    problem(as_("fran").post(f"/api/v1/tasks/{review['id']}/complete", json={"data": {}}), 403)
    assert as_("sam").post(f"/api/v1/tasks/{review['id']}/claim").status_code == 200


def test_messages_correlate_and_404_when_nothing_waits(as_):
    problem(
        as_("fran").post("/api/v1/messages", json={"name": "go", "correlation_key": "SO-1"}), 404
    )
    problem(as_("alice").post("/api/v1/messages", json={"name": "go", "correlation_key": "x"}), 403)


def test_jobs_and_incidents_for_admins(as_, flaky):
    flaky["fail"] = True
    root = as_("root")
    iid = root.post("/api/v1/process-instances", json={"process": "boundary"}).json["id"]
    [job] = root.get(f"/api/v1/jobs?instance_id={iid}").json
    assert job["element"] == "charge" and job["attempts"] == 1
    assert root.post(f"/api/v1/jobs/{job['id']}/execute").status_code == 200
    [job] = root.get(f"/api/v1/jobs?instance_id={iid}").json
    root.post(f"/api/v1/jobs/{job['id']}/execute")
    [incident] = root.get("/api/v1/incidents").json
    flaky["fail"] = False
    retried = root.post(f"/api/v1/incidents/{incident['id']}/retry")
    assert retried.json["instance"]["active"][0] == "fill"
    problem(root.post(f"/api/v1/incidents/{incident['id']}/retry"), 409)
    problem(as_("sam").get("/api/v1/jobs"), 403)


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("post", "/api/v1/process-instances", "not json"),
        ("post", "/api/v1/process-instances", json.dumps([1, 2])),
        ("post", "/api/v1/process-instances", json.dumps({"process": 5})),
        ("post", "/api/v1/process-instances", json.dumps({"process": "nope"})),
        ("post", "/api/v1/process-instances", json.dumps({"process": "linear", "data": 3})),
        ("post", "/api/v1/process-instances", "[" * 100000 + "]" * 100000),
        ("post", "/api/v1/tasks/00000000-0000-0000-0000-000000000000/complete", "{}"),
        ("post", "/api/v1/tasks/not-a-uuid/complete", json.dumps({"data": "x"})),
        ("get", "/api/v1/process-instances/nope", None),
        ("get", "/api/v1/process-instances?limit=abc", None),
        ("get", "/api/v1/process-instances?from=yesterday", None),
        ("post", "/api/v1/messages", json.dumps({"name": ["x"], "correlation_key": 1})),
        ("post", "/api/v1/jobs/999/execute", None),
        ("post", "/api/v1/incidents/999/retry", None),
        ("get", "/api/v1/process-definitions/nope/xml", None),
    ],
)
def test_bad_input_gets_a_4xx_problem_never_a_500(as_, method, url, payload):
    root = as_("root")
    kwargs = {"data": payload, "content_type": "application/json"} if payload else {}
    r = getattr(root, method)(url, **kwargs)
    assert 400 <= r.status_code < 500, (r.status_code, r.data[:300])
    assert r.mimetype == "application/problem+json"


def test_pages_send_security_headers(client):
    r = client.get("/healthz")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
