"""A dry run tries a draft diagram against the sandboxes on a simulated clock, in a
throwaway database: it shows the path taken and changes nothing real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import DefinitionInvalid
from engine.models import AuditEvent, Job, ProcessDefinition, ProcessInstance
from engine.registry import Registry
from engine.simulate import Scenario, dry_run, suggested_values
from tests.builders import BPMN_DIR, engine_system
from tokenflow.schema import metadata

LINEAR = (BPMN_DIR / "linear.bpmn").read_text()
CHILD = (BPMN_DIR / "call_child.bpmn").read_text()


def registry() -> Registry:
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        ctx.set_business_key(f"SO-{ctx.data['name']}")
        return {"greeting": "hi"}

    reg.handler("tick")(lambda ctx: {"ticked": True})
    return reg


@pytest.fixture
def system(config):
    return engine_system(config, registry(), "linear.bpmn", "call_child.bpmn", "call_parent.bpmn")


def run(system, xml: str, scenario: Scenario, name: str = "draft.bpmn"):
    return dry_run(
        [(name, xml.encode())],
        scenario,
        source=system.session_factory,
        registry=system.engine.registry,
        roles=system.engine.roles,
        services={},
        metadata=metadata,
    )


def counts(system) -> tuple[int, ...]:
    with unit_of_work(system.session_factory) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(table))
            for table in (ProcessInstance, AuditEvent, Job, ProcessDefinition)
        )


GO = Scenario(tasks={"ask_name": {"name": "Ann"}}, messages={"go": {}})


def test_a_dry_run_walks_the_draft_on_a_simulated_clock(system):
    draft = LINEAR.replace('"PT1H"', '"PT3H"')
    result = run(system, draft, GO)

    assert result.status == "completed"
    assert result.visited == ["ask_name", "greet", "review", "wait_hour", "wait_go"]
    [fired] = [s for s in result.steps if s.event == "timer.fired"]
    assert (fired.element, fired.name) == ("wait_hour", "One hour")
    assert fired.elapsed_seconds == pytest.approx(3 * 3600)
    assert result.steps[-1].event == "instance.completed"


def test_a_dry_run_writes_nothing_real_and_leaves_the_clock_alone(system):
    before = counts(system)
    started = clock.now()
    run(system, LINEAR.replace('"PT1H"', '"P30D"'), GO)
    assert counts(system) == before
    assert clock.now() - started < timedelta(seconds=5)


def test_a_deployed_process_that_calls_the_draft_runs_the_draft(system):
    draft = CHILD.replace("answer = answer + 1", "answer = answer * 10")
    result = run(system, draft, Scenario(start="call_parent", tasks={"inner": {"answer": 4}}))
    assert result.process == "call_parent"
    assert result.status == "completed"
    assert result.visited == ["inner", "tick", "after"]


def test_values_a_form_refuses_are_reported(system):
    result = run(system, LINEAR, Scenario(tasks={"ask_name": {"name": "x" * 41}}))
    assert result.active == ["ask_name"]
    assert "ask_name refused the values (name: Use at most 40 characters.)" in result.stopped


def test_a_timer_beyond_the_horizon_ends_the_run(system):
    result = run(system, LINEAR, Scenario(tasks=GO.tasks, horizon=timedelta(minutes=30)))
    assert result.active == ["wait_hour"]
    assert "the next timer is due after the horizon" in result.stopped


def test_a_message_nobody_sends_ends_the_run(system):
    result = run(system, LINEAR, Scenario(tasks=GO.tasks))
    assert result.active == ["wait_go"]
    assert "waiting for message go" in result.stopped


def test_a_draft_that_fails_at_run_time_shows_the_failing_element_and_the_reason(system):
    failing = (BPMN_DIR / "fail_script.bpmn").read_text()
    result = run(system, failing, Scenario(), name="fail_script.bpmn")
    assert (result.status, result.active) == ("incident", ["compute"])
    [failure] = result.failed
    assert (failure["element"], failure["name"]) == ("compute", "Compute the bonus")
    assert failure["expression"] == "bonus = amount * 2"
    assert "amount" in failure["reason"]
    assert "the process could not continue at Compute the bonus: NameError" in result.stopped
    assert [s.element for s in result.steps if s.event == "incident.raised"] == ["compute"]


def test_a_dry_run_goes_on_past_a_task_whose_next_step_fails(system):
    failing = (BPMN_DIR / "fail_after_task.bpmn").read_text()
    result = run(system, failing, Scenario(tasks={"ask": {"count": 2}}), name="f.bpmn")
    assert (result.status, result.active) == ("incident", ["route"])
    assert "quantity" in result.failed[0]["reason"]


def test_an_invalid_draft_is_refused_with_its_problems(system):
    with pytest.raises(DefinitionInvalid) as refused:
        run(system, LINEAR.replace('"PT1H"', "PT1X"), GO)
    assert [p.element for p in refused.value.problems] == ["wait_hour"]


def test_suggested_values_fill_a_form_the_way_a_tester_would():
    fields = [
        {"id": "product", "type": "enum", "required": True, "options": [{"id": "a"}, {"id": "b"}]},
        {"id": "agree", "type": "boolean", "required": True},
        {"id": "count", "type": "long", "required": True, "min": "3"},
        {"id": "note", "type": "string", "required": False},
        {"id": "name", "type": "string", "required": True},
        {"id": "country", "type": "string", "required": True, "default": "US"},
    ]
    assert suggested_values(fields, {"name": "Ann"}) == {
        "product": "a",
        "agree": True,
        "count": 3,
        "name": "Ann",
        "country": "US",
    }
