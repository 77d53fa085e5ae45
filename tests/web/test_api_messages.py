"""POST /api/v1/messages: 200 when a waiting instance takes the message, 201 when the
message starts a process, 404 when neither; finance, support and admins may send, and see
what an instance waits for (GET /api/v1/process-instances/{id}/messages)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts.users import create_user
from engine.clock import clock
from engine.db import unit_of_work
from engine.jobs import run_due_jobs
from engine.registry import Registry
from tests.builders import engine_system
from tests.web.builders_api import PASSWORD, Api, problem
from web.app import create_app


@pytest.fixture
def system(config):
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        ctx.set_business_key("SO-40001")
        return {"greeting": "hi"}

    return engine_system(config, reg, "message_start.bpmn", "linear.bpmn")


@pytest.fixture
def as_(config, system):
    with unit_of_work(system.session_factory) as s:
        for name, role in [("alice", "customer"), ("fran", "finance"), ("sam", "support")]:
            create_user(s, name, PASSWORD, [role])
    app = create_app(system)
    app.config["TESTING"] = True
    client = app.test_client()
    return lambda name: Api(client, name)


def test_a_message_start_event_answers_201_with_the_instance_it_started(as_):
    sent = as_("fran").post(
        "/api/v1/messages",
        json={"name": "refund_requested", "correlation_key": "SO-30001", "data": {"amount": 5}},
    )
    assert sent.status_code == 201, sent.json
    view = as_("fran").get(f"/api/v1/process-instances/{sent.json['instance_id']}").json
    assert (view["process"], view["business_key"]) == ("refund", "SO-30001")


def test_staff_see_the_messages_an_instance_waits_for_and_a_waiting_one_takes_it(as_, system):
    alice = as_("alice")
    started = alice.post("/api/v1/process-instances", json={"process": "linear"}).json
    [task] = alice.get("/api/v1/tasks").json
    alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"name": "Ann"}})
    sam = as_("sam")
    [review] = sam.get("/api/v1/tasks").json
    sam.post(f"/api/v1/tasks/{review['id']}/complete", json={"data": {"ok": True}})
    clock.advance(timedelta(hours=2))  # past the diagram's one-hour timer
    run_due_jobs(system.engine, "w1")
    waiting = as_("fran").get(f"/api/v1/process-instances/{started['id']}/messages")
    assert waiting.status_code == 200, waiting.json
    assert waiting.json == [{"name": "go", "correlation_key": "SO-40001"}]
    problem(alice.get(f"/api/v1/process-instances/{started['id']}/messages"), 403)
    sent = as_("fran").post("/api/v1/messages", json={"name": "go", "correlation_key": "SO-40001"})
    assert sent.status_code == 200, sent.json
    assert sent.json == {"instance_id": started["id"]}
    assert as_("fran").get(f"/api/v1/process-instances/{started['id']}/messages").json == []


def test_a_message_nobody_takes_is_404_and_customers_may_not_send(as_):
    problem(as_("fran").post("/api/v1/messages", json={"name": "x", "correlation_key": "k"}), 404)
    body = {"name": "refund_requested", "correlation_key": "SO-1"}
    problem(as_("alice").post("/api/v1/messages", json=body), 403)
