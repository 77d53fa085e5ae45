from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from engine.actors import SYSTEM
from engine.db import unit_of_work
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.models import AuditEvent
from engine.registry import BpmnError, Registry
from tests.builders import (
    ADMIN,
    CUSTOMER,
    OTHER_CUSTOMER,
    SUPPORT,
    engine_system,
    only_task,
    tasks_for,
)


@pytest.fixture
def seen() -> dict:
    return {}


@pytest.fixture
def system(config, seen):
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        seen["secrets"] = dict(ctx.secrets)
        seen["config"] = dict(ctx.config)
        ctx.set_business_key("SO-10001")
        return {"greeting": f"{ctx.config['greeting']} {ctx.data['name']}"}

    @reg.handler()
    def tick(ctx):
        return {"ticked": True}

    @reg.handler()
    def charge(ctx):
        if ctx.data.get("card") == "bad":
            raise BpmnError("declined", data={"payment_error": "Card declined"})
        return {"charged": True}

    return engine_system(
        config,
        reg,
        "linear.bpmn",
        "gateways.bpmn",
        "boundary.bpmn",
        "call_parent.bpmn",
        "call_child.bpmn",
    )


def test_a_user_task_form_is_validated_and_the_task_stays_open_on_errors(system):
    view = system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    with pytest.raises(InvalidInput) as caught:
        system.engine.complete_task(task["id"], {"name": "", "extra": 1}, CUSTOMER)
    assert caught.value.errors == {
        "name": "This field is required.",
        "extra": "This form has no such field.",
    }
    with pytest.raises(InvalidInput):
        system.engine.complete_task(task["id"], {"name": "x" * 41}, CUSTOMER)
    assert system.engine.instance(view["id"], CUSTOMER)["active"] == ["ask_name"]
    assert only_task(system, CUSTOMER)["id"] == task["id"]


def test_a_service_task_runs_its_topics_handler_with_the_diagrams_settings(system, seen):
    system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    view, _, _ = system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    assert view["variables"]["greeting"] == "Hello Ann"
    assert view["business_key"] == "SO-10001"
    assert seen["config"] == {"greeting": "Hello"}
    assert view["active"] == ["review"]


def test_a_sensitive_field_reaches_the_next_handler_and_is_stored_nowhere(system, seen, config):
    view = system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    system.engine.complete_task(task["id"], {"name": "Ann", "pin": "918273"}, CUSTOMER)
    assert seen["secrets"] == {"pin": "918273"}
    assert "pin" not in system.engine.instance(view["id"], ADMIN)["variables"]
    with unit_of_work(system.session_factory) as s:
        for table in ("instance_tasks", "process_instances", "audit_events", "work_items"):
            rows = s.execute(text(f"SELECT * FROM {table}")).all()
            assert "918273" not in json.dumps([list(map(str, r)) for r in rows])


def test_lanes_decide_who_sees_and_completes_a_task(system):
    view = system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    assert tasks_for(system, OTHER_CUSTOMER) == []
    assert tasks_for(system, SUPPORT) == []
    with pytest.raises(NotFound):
        system.engine.complete_task(task["id"], {"name": "Eve"}, OTHER_CUSTOMER)
    with pytest.raises(NotFound):
        system.engine.instance(view["id"], OTHER_CUSTOMER)
    system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    review = only_task(system, SUPPORT)
    with pytest.raises(NotFound):
        system.engine.complete_task(review["id"], {}, CUSTOMER)
    finance = SUPPORT.__class__("fran", frozenset({"finance"}), user_id=9)
    with pytest.raises(Forbidden):
        system.engine.complete_task(review["id"], {}, finance)


def test_staff_entered_fields_are_hidden_from_the_customer(system):
    view = system.engine.start("linear", CUSTOMER)
    system.engine.complete_task(only_task(system, CUSTOMER)["id"], {"name": "Ann"}, CUSTOMER)
    system.engine.complete_task(
        only_task(system, SUPPORT)["id"], {"ok": True, "staff_note": "looks odd"}, SUPPORT
    )
    assert "staff_note" not in system.engine.instance(view["id"], CUSTOMER)["variables"]
    assert system.engine.instance(view["id"], SUPPORT)["variables"]["staff_note"] == "looks odd"


def test_a_claimed_task_cannot_be_completed_by_another_lane_member(system):
    system.engine.start("linear", CUSTOMER)
    system.engine.complete_task(only_task(system, CUSTOMER)["id"], {"name": "Ann"}, CUSTOMER)
    review = only_task(system, SUPPORT)
    system.engine.claim(review["id"], SUPPORT)
    other = SUPPORT.__class__("sue", frozenset({"support"}), user_id=7)
    with pytest.raises(Conflict):
        system.engine.claim(review["id"], other)
    with pytest.raises(Conflict):
        system.engine.complete_task(review["id"], {}, other)
    system.engine.claim(review["id"], SUPPORT, release=True)
    system.engine.complete_task(review["id"], {}, other)


def test_a_completed_task_cannot_be_completed_again(system):
    system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    with pytest.raises(Conflict):
        system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)


def test_an_exclusive_gateway_and_a_parallel_split_and_join(system):
    view = system.engine.start("gateways", CUSTOMER)
    system.engine.complete_task(only_task(system, CUSTOMER)["id"], {"route": "parallel"}, CUSTOMER)
    names = sorted(t["name"] for t in tasks_for(system, SUPPORT))
    assert names == ["left", "right"]
    for task in tasks_for(system, SUPPORT):
        system.engine.complete_task(task["id"], {}, SUPPORT)
    assert system.engine.instance(view["id"], ADMIN)["status"] == "completed"


def test_an_enum_refuses_values_outside_its_options(system):
    system.engine.start("gateways", CUSTOMER)
    with pytest.raises(InvalidInput) as caught:
        system.engine.complete_task(
            only_task(system, CUSTOMER)["id"], {"route": "sideways"}, CUSTOMER
        )
    assert "route" in caught.value.errors


def test_a_bpmn_error_from_a_handler_is_caught_by_the_error_boundary_event(system):
    view = system.engine.start("boundary", ADMIN, {"card": "bad"}, owner_id=CUSTOMER.user_id)
    got = system.engine.instance(view["id"], ADMIN)
    assert got["active"] == ["fix_decline"]
    assert got["variables"]["payment_error"] == "Card declined"


def test_a_call_activity_runs_the_called_process_and_returns_its_data(system):
    view = system.engine.start("call_parent", CUSTOMER)
    inner = only_task(system, CUSTOMER)
    assert inner["name"] == "inner"
    got, _, waiting = system.engine.complete_task(inner["id"], {"answer": "41"}, CUSTOMER)
    assert got["active"] == ["after"]
    assert [(t["name"], t["lane"]) for t in waiting] == [("after", "customer")]
    assert waiting[0]["id"] == only_task(system, CUSTOMER)["id"]
    assert got["variables"]["answer"] == 42
    assert got["variables"]["ticked"] is True
    system.engine.cache.clear()
    system.engine.complete_task(only_task(system, CUSTOMER)["id"], {}, CUSTOMER)
    assert system.engine.instance(view["id"], ADMIN)["status"] == "completed"


def test_customers_start_without_data_and_only_admins_with(system):
    with pytest.raises(Forbidden):
        system.engine.start("linear", CUSTOMER, {"paid": True})
    with pytest.raises(NotFound):
        system.engine.start("no_such_process", CUSTOMER)


def test_every_step_is_in_the_audit_trail_without_values(system):
    view = system.engine.start("linear", CUSTOMER)
    system.engine.complete_task(
        only_task(system, CUSTOMER)["id"], {"name": "Ann", "pin": "5555"}, CUSTOMER
    )
    with unit_of_work(system.session_factory) as s:
        events = list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.instance_id == view["id"])
                .order_by(AuditEvent.seq)
            )
        )
    kinds = [e.event for e in events]
    assert kinds[:5] == [
        "instance.started",
        "task.ready",
        "task.completed",
        "service.completed",
        "task.ready",
    ]
    completed = events[2]
    assert completed.actor == "alice"
    assert completed.details["fields"] == ["name"]
    assert completed.details["sensitive_fields"] == ["pin"]
    assert "Ann" not in json.dumps([e.details for e in events])


def test_a_message_without_a_waiting_instance_is_not_found(system):
    with pytest.raises(NotFound):
        system.engine.correlate("go", "SO-99999", {}, SYSTEM)


def test_a_terminated_instance_stays_terminated_and_waits_for_nothing(system):
    view = system.engine.start("linear", CUSTOMER)
    got = system.engine.set_status(view["id"], "terminate", ADMIN)
    assert got["status"] == "terminated"
    assert tasks_for(system, CUSTOMER) == []
    with pytest.raises(Conflict):
        system.engine.set_status(view["id"], "resume", ADMIN)
