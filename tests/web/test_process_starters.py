"""Who may start which of the real processes, through the API: customers only what is
marked for them, staff by their groups, admins anything; the engine itself is never
asked (call activities and `ctx.start_process`: tests/engine/test_starters.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.parser import read_file
from tests.web.builders_api import start, token
from tests.web.builders_pages import Browser

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
ALL = sorted(
    k for p in PROCESSES.glob("*.bpmn") for k in read_file(p.name, p.read_bytes()).process_ids
)
FOR_CUSTOMERS = {"hardware_token", "lost_token"}
ENGINE_ONLY = {
    "identity_proofing",
    "license_key_delivery",
    "purchase",
    "registration",
    "renewal",
    "shipping",
}


@pytest.fixture
def client(app):
    return app.test_client()


def test_every_diagram_in_processes_says_who_may_start_it():
    assert set(ALL) == FOR_CUSTOMERS | ENGINE_ONLY | {"token_reset"}


@pytest.mark.parametrize("process", sorted(set(ALL) - FOR_CUSTOMERS))
def test_a_customer_is_refused_every_process_not_marked_for_customers(client, process):
    r = start(client, "alice", process)
    assert r.status_code == 403, r.json
    assert r.mimetype == "application/problem+json"
    assert process in r.json["detail"]
    mine = client.get("/api/v1/process-instances", headers=token(client, "alice")).json
    assert mine["total"] == 0


@pytest.mark.parametrize("process", sorted(FOR_CUSTOMERS))
def test_a_customer_starts_the_processes_marked_for_customers(client, process):
    r = start(client, "alice", process)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "running"


def test_support_starts_a_token_reset_but_not_a_customers_order(client):
    assert start(client, "sam", "token_reset").status_code == 201
    assert start(client, "sam", "hardware_token").status_code == 403
    assert start(client, "fran", "token_reset").status_code == 403


@pytest.mark.parametrize("process", sorted(ENGINE_ONLY))
def test_staff_may_not_start_what_only_the_engine_starts(client, process):
    r = start(client, "sam", process)
    assert r.status_code == 403
    assert "started by Tokenflow itself" in r.json["detail"]


def test_an_admin_may_start_a_process_only_the_engine_starts(client, app):
    r = start(client, "root", "renewal", data={"order_number": "SO-99999"})
    assert r.status_code == 201, r.json


def test_an_unknown_process_is_still_not_found_for_a_customer(client):
    assert start(client, "alice", "no_such_process").status_code == 404


def test_the_definitions_list_tells_who_may_start_each_process(client):
    listed = client.get("/api/v1/process-definitions", headers=token(client, "root")).json
    starters = {d["key"]: d["starters"] for d in listed}
    assert starters["hardware_token"] == {"groups": ["customer"], "users": None, "startable": True}
    assert starters["token_reset"]["groups"] == ["support"]
    assert starters["renewal"]["startable"] is False


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("alice", ["hardware_token", "lost_token"]),
        ("sam", ["token_reset"]),
        ("fran", []),
        ("root", ALL),
    ],
)
def test_each_person_can_list_the_processes_they_may_start(client, username, expected):
    listed = client.get("/api/v1/process-definitions/startable", headers=token(client, username))
    assert listed.status_code == 200
    assert [d["key"] for d in listed.json] == expected
    assert all(d["version"] == 1 for d in listed.json)


@pytest.mark.parametrize(
    ("process", "words"),
    [
        ("hardware_token", "the group customer; admins"),
        ("renewal", "Tokenflow itself (call activities, handlers) and admins"),
    ],
)
def test_the_analysts_version_page_says_who_may_start_it(app, process, words):
    root = Browser(app).login("root")
    assert root.get(f"/analyst/processes/{process}/v1").status_code == 200
    assert f"Who may start it: {words}" in root.text()
