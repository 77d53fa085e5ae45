"""Diagrams that fail at run time: the instance stands at the failing element with an
incident, the caller gets ProcessIncident (a 422), and an admin's retry continues."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import select

from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import InvalidInput, ProcessIncident
from engine.jobs import run_due_jobs
from engine.models import AuditEvent, Job, ProcessInstance
from engine.queries import list_incidents
from engine.registry import Registry
from tests.builders import ADMIN, BPMN_DIR, CUSTOMER, FINANCE, engine_system, only_task

PIN = "8462-secret-pin"


@pytest.fixture
def system(config):
    reg = Registry()
    numbers = itertools.count(10001)

    @reg.handler()
    def number_order(ctx):
        ctx.set_business_key(f"SO-{next(numbers)}")

    @reg.handler()
    def greet(ctx):
        return {"greeting": "Hello"}

    reg.handler("tick")(lambda ctx: {})

    return engine_system(
        config,
        reg,
        "fail_script.bpmn",
        "fail_after_task.bpmn",
        "fail_cardinality.bpmn",
        "fail_timer.bpmn",
        "linear.bpmn",
    )


def incidents(system, **filters):
    with unit_of_work(system.session_factory) as s:
        return list_incidents(s, **filters)


def test_a_start_that_fails_answers_with_the_element_and_leaves_an_instance_with_an_incident(
    system,
):
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("fail_script", CUSTOMER)
    failed = caught.value
    assert failed.detail.startswith("The process could not continue at Compute the bonus:")
    assert "NameError" in failed.detail and "amount" in failed.detail
    assert failed.element == "compute"
    view = system.engine.instance(failed.instance_id, ADMIN)
    assert view["status"] == "incident"
    assert view["active"] == ["compute"]
    [incident] = incidents(system)
    assert incident["id"] == failed.incident_id
    assert incident["instance_id"] == failed.instance_id
    assert incident["element"] == "compute"
    assert incident["element_name"] == "Compute the bonus"
    assert incident["expression"] == "bonus = amount * 2"
    assert incident["topic"] is None
    assert "amount" in incident["error"]


def test_a_failed_start_continues_after_a_migration_to_a_mended_version_and_a_retry(system):
    from engine import instance_migration

    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("fail_script", CUSTOMER)
    iid = caught.value.instance_id
    mended = (deploy_source("fail_script.bpmn").replace(b"amount * 2", b"2"),)
    system.engine.deploy([("fail_script.bpmn", mended[0])], ADMIN)
    plan = instance_migration.Plan("fail_script", 1, 2)
    [outcome] = instance_migration.execute(
        system.engine, plan, instance_migration.Selection(instance_ids=(iid,)), ADMIN
    )
    assert outcome.migrated, outcome.problems
    view = system.engine.retry_incident(caught.value.incident_id, ADMIN)
    assert view["status"] == "running"
    assert view["active"] == ["confirm"]
    assert view["variables"]["bonus"] == 2
    assert incidents(system) == []
    assert incidents(system, status="resolved")[0]["id"] == caught.value.incident_id


def test_a_retry_that_fails_again_raises_a_new_incident_and_the_instance_stays_put(system):
    with pytest.raises(ProcessIncident) as first:
        system.engine.start("fail_script", CUSTOMER)
    with pytest.raises(ProcessIncident) as again:
        system.engine.retry_incident(first.value.incident_id, ADMIN)
    assert again.value.incident_id != first.value.incident_id
    assert [i["id"] for i in incidents(system)] == [again.value.incident_id]
    view = system.engine.instance(first.value.instance_id, ADMIN)
    assert (view["status"], view["active"]) == ("incident", ["compute"])


def test_completing_a_task_keeps_the_values_and_stops_at_the_failing_gateway(system):
    view = system.engine.start("fail_after_task", CUSTOMER)
    task = only_task(system, CUSTOMER)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.complete_task(task["id"], {"count": 3, "pin": PIN}, CUSTOMER)
    assert caught.value.detail.startswith("The process could not continue at Large order?:")
    assert "quantity" in caught.value.detail
    after = system.engine.instance(view["id"], ADMIN)
    assert (after["status"], after["active"]) == ("incident", ["route"])
    assert after["variables"]["count"] == 3
    assert PIN not in str(after["variables"])
    [incident] = incidents(system)
    assert incident["expression"] == "quantity > 10"
    with unit_of_work(system.session_factory) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == view["id"]))
        assert PIN not in str([(e.event, e.details) for e in rows])


def test_a_message_that_meets_a_missing_cardinality_leaves_an_incident_and_a_retry_runs_on(
    system,
):
    view = system.engine.start("fail_cardinality", CUSTOMER)
    assert view["business_key"] == "SO-10001"
    with pytest.raises(ProcessIncident) as caught:
        system.engine.correlate("go", "SO-10001", {}, FINANCE)
    assert caught.value.element == "copy"
    assert "copies" in caught.value.detail
    after = system.engine.instance(view["id"], ADMIN)
    assert (after["status"], after["active"]) == ("incident", ["copy"])
    [incident] = incidents(system)
    assert incident["expression"] == "copies"
    with pytest.raises(ProcessIncident):  # nothing mended yet: still failing
        system.engine.retry_incident(incident["id"], ADMIN)
    assert system.engine.instance(view["id"], ADMIN)["status"] == "incident"


def test_a_timer_job_that_fails_becomes_an_incident_stops_retrying_and_the_worker_goes_on(
    system,
):
    failing = system.engine.start("fail_timer", CUSTOMER)
    healthy = system.engine.start("linear", CUSTOMER)
    system.engine.complete_task(only_task(system, CUSTOMER)["id"], {"name": "Ann"}, CUSTOMER)
    review = only_task(system, ADMIN, name="review")
    system.engine.complete_task(review["id"], {"ok": True}, ADMIN)
    clock.advance(timedelta(hours=2))
    assert run_due_jobs(system.engine, "w1") == 2
    broken = system.engine.instance(failing["id"], ADMIN)
    assert (broken["status"], broken["active"]) == ("incident", ["stamp"])
    [incident] = incidents(system)
    assert incident["element"] == "stamp" and "TypeError" in incident["error"]
    assert system.engine.instance(healthy["id"], ADMIN)["active"] == ["wait_go"]
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(Job).where(Job.instance_id == failing["id"])).all() == []
    clock.advance(timedelta(hours=2))
    assert run_due_jobs(system.engine, "w1") == 0


def deploy_source(name: str) -> bytes:
    return (BPMN_DIR / name).read_bytes()


FAILING_SCRIPTS = [
    "raise ValueError('no bonus today')",
    "bonus = 1 / 0",
    "bonus = undefined_name",
    "bonus = '%d' % (now(),)",
    "bonus = int('twelve')",
    "bonus = [][1]",
    "bonus = {}['missing']",
    "bonus = None + 1",
    "bonus = enumerate([1, 2])",
    "bonus = {1, 2}",
    "bonus = b'bytes'",
    "bonus = (n for n in [1])",
    "bonus = 1j",
    "bonus = range(3)",
]


@pytest.mark.parametrize("script", FAILING_SCRIPTS)
def test_a_script_that_fails_in_any_way_is_an_incident_at_its_element(system, script):
    xml = deploy_source("fail_script.bpmn").replace(b"bonus = amount * 2", script.encode())
    system.engine.deploy([("fail_script.bpmn", xml)], ADMIN)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("fail_script", CUSTOMER)
    assert caught.value.element == "compute"
    view = system.engine.instance(caught.value.instance_id, ADMIN)
    assert (view["status"], view["active"]) == ("incident", ["compute"])
    assert "bonus" not in view["variables"]
    [incident] = incidents(system)
    assert incident["expression"] == script


def test_terminating_an_instance_cancels_its_incidents(system):
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("fail_script", CUSTOMER)
    system.engine.set_status(caught.value.instance_id, "terminate", ADMIN)
    assert incidents(system) == []
    assert incidents(system, status="cancelled")[0]["id"] == caught.value.incident_id


class BudgetExceeded(BaseException):
    """A sandbox budget that diagram code cannot catch with `except Exception`."""


def test_a_budget_that_diagram_code_cannot_catch_is_still_an_incident(system, monkeypatch):
    def over_budget(script, context, external_context=None):
        raise BudgetExceeded("the script ran longer than its 100 ms budget")

    monkeypatch.setattr(system.engine.script_engine.environment, "execute", over_budget)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("fail_script", CUSTOMER)
    assert caught.value.element == "compute"
    assert caught.value.detail.endswith("the script ran longer than its 100 ms budget")


def test_an_element_failing_inside_a_called_process_is_an_incident_there(system):
    child = deploy_source("call_child.bpmn").replace(b"answer + 1", b"answer + missing")
    system.engine.deploy(
        [("call_child.bpmn", child), ("call_parent.bpmn", deploy_source("call_parent.bpmn"))],
        ADMIN,
    )
    view = system.engine.start("call_parent", CUSTOMER)
    task = only_task(system, CUSTOMER)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.complete_task(task["id"], {"answer": 4}, CUSTOMER)
    assert caught.value.element == "bump"
    after = system.engine.instance(view["id"], ADMIN)
    assert (after["status"], after["active"]) == ("incident", ["call", "bump"])
    with pytest.raises(ProcessIncident):
        system.engine.retry_incident(caught.value.incident_id, ADMIN)


@pytest.mark.parametrize(
    ("diagram", "old", "new", "element"),
    [
        ("fail_timer.bpmn", b'"PT1H"', b"wait_for", "wait_hour"),
        ("fail_timer.bpmn", b'"PT1H"', b"str(now())", "wait_hour"),
    ],
)
def test_an_expression_failing_while_its_element_is_reached_is_an_incident(
    system, diagram, old, new, element
):
    xml = deploy_source(diagram).replace(old, new)
    system.engine.deploy([(diagram, xml)], ADMIN)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start(diagram.removesuffix(".bpmn"), CUSTOMER)
    assert caught.value.element == element
    view = system.engine.instance(caught.value.instance_id, ADMIN)
    assert (view["status"], view["active"]) == ("incident", [element])


def test_a_sequential_multi_instance_with_a_missing_cardinality_is_an_incident(system):
    xml = deploy_source("fail_cardinality.bpmn").replace(
        b"<bpmn:multiInstanceLoopCharacteristics>",
        b'<bpmn:multiInstanceLoopCharacteristics isSequential="true">',
    )
    system.engine.deploy([("fail_cardinality.bpmn", xml)], ADMIN)
    view = system.engine.start("fail_cardinality", CUSTOMER)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.correlate("go", view["business_key"], {}, FINANCE)
    assert caught.value.element == "copy"
    view = system.engine.instance(view["id"], ADMIN)
    assert (view["status"], view["active"]) == ("incident", ["copy"])


def test_a_failure_no_element_can_hold_rolls_the_step_back_and_answers_422(system, monkeypatch):
    def unpinned(step):
        raise WorkflowException("the workflow is in no state to go on")

    monkeypatch.setattr(system.engine.stepper, "advance", unpinned)
    with pytest.raises(InvalidInput) as caught:
        system.engine.start("linear", CUSTOMER)
    assert caught.value.detail.startswith("The process could not continue: the workflow")
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(ProcessInstance)).all() == []
