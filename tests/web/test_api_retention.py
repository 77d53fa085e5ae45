"""Through the API: an admin sees when an instance's personal data was removed, and its
events keep their names; and an admin may start an instance with a business key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts.users import create_user
from engine.clock import clock
from engine.db import unit_of_work
from engine.registry import Registry
from engine.retention import purge_expired
from tests.builders import engine_system
from tests.web.builders_api import PASSWORD, Api, api_client


@pytest.fixture
def client(config):
    system = engine_system(config, Registry(), "retention.bpmn")
    with unit_of_work(system.session_factory) as s:
        create_user(s, "root", PASSWORD, ["admin"])
        create_user(s, "alice", PASSWORD, ["customer"])
    client = api_client(config, system)
    client.system = system
    return client


def test_an_admin_sees_when_the_personal_data_of_an_instance_was_removed(client):
    alice, root = Api(client, "alice"), Api(client, "root")
    iid = alice.post("/api/v1/process-instances", json={"process": "retention"}).json["id"]
    [task] = alice.get(f"/api/v1/tasks?instance_id={iid}").json
    done = alice.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"full_name": "Al"}})
    assert done.status_code == 200, done.json
    assert root.get(f"/api/v1/process-instances/{iid}").json["purged_at"] is None
    clock.advance(timedelta(days=30))
    assert purge_expired(client.system.session_factory, 180) == 1
    view = root.get(f"/api/v1/process-instances/{iid}").json
    assert view["purged_at"] and view["variables"] == {}
    events = root.get(f"/api/v1/process-instances/{iid}/events").json
    assert [e["event"] for e in events][-2:] == ["instance.completed", "instance.purged"]


def test_an_admin_starts_an_instance_with_a_business_key_and_a_customer_may_not(client):
    body = {"process": "retention", "business_key": "KEY-1"}
    started = Api(client, "root").post("/api/v1/process-instances", json=body)
    assert started.status_code == 201 and started.json["business_key"] == "KEY-1"
    refused = Api(client, "alice").post("/api/v1/process-instances", json=body)
    assert refused.status_code == 403
    too_long = Api(client, "root").post(
        "/api/v1/process-instances", json={**body, "business_key": "K" * 101}
    )
    assert too_long.status_code in (400, 422)
