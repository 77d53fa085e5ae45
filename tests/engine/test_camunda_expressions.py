"""Diagrams as Camunda Modeler writes them run through the engine: JUEL conditions beside
Python ones, JUEL multi-instance expressions, and timers as literal ISO 8601 text."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import SYSTEM
from engine.clock import clock
from engine.db import unit_of_work
from engine.definitions import DefinitionInvalid
from engine.errors import ProcessIncident
from engine.jobs import run_due_jobs
from engine.queries import list_jobs
from engine.registry import Registry
from tests.builders import ADMIN, BPMN_DIR, engine_system, only_task, tasks_for


@pytest.fixture
def system(config):
    return engine_system(config, Registry(), "juel_routes.bpmn", "spec_timers.bpmn")


def start(system, process, data):
    return system.engine.start(process, ADMIN, data, owner_id=ADMIN.user_id)


def jobs(system, instance_id):
    with unit_of_work(system.session_factory) as s:
        return list_jobs(s, instance_id)


def due_in(system, instance_id) -> timedelta:
    """How long from now the instance's one timer job is due."""
    [job] = jobs(system, instance_id)
    return datetime.fromisoformat(job["due_at"]) - clock.now()


def fire_due_timers(system, after: timedelta):
    clock.advance(after)
    run_due_jobs(system.engine, "test-worker")


@pytest.mark.parametrize(
    ("order", "ends_at"),
    [
        ({"total": 2000, "country": "DE"}, ["review"]),  # the JUEL condition
        ({"total": 5, "country": "DE"}, []),  # the Python condition: ended at `tiny`
        ({"total": 2000, "country": ""}, []),  # JUEL's `empty`: the default flow
    ],
)
def test_a_gateway_follows_juel_and_python_conditions_in_one_diagram(system, order, ends_at):
    view = start(system, "juel_routes", {"order": order})
    assert view["active"] == ends_at
    assert view["status"] == ("running" if ends_at else "completed")


@pytest.mark.parametrize(("total", "signatures"), [(2000, 1), (6000, 3)])
def test_juel_gives_a_multi_instance_task_its_cardinality_and_completion_condition(
    system, total, signatures
):
    view = start(system, "juel_routes", {"order": {"total": total, "country": "DE"}})
    review = only_task(system, ADMIN, name="review")
    system.engine.complete_task(review["id"], {"signers": 3}, ADMIN)
    signed = 0
    while tasks := tasks_for(system, ADMIN, name="sign"):
        system.engine.complete_task(tasks[0]["id"], {}, ADMIN)
        signed += 1
    assert signed == signatures
    assert system.engine.instance(view["id"], ADMIN)["status"] == "completed"


def test_a_juel_condition_that_reads_an_unknown_variable_becomes_an_incident(system):
    with pytest.raises(ProcessIncident) as caught:
        start(system, "juel_routes", {"amount": 1})
    assert caught.value.element == "route"
    assert "unknown variable 'order'" in caught.value.detail


def test_a_boundary_timer_written_pt10m_without_quotes_fires_after_ten_minutes(system):
    view = start(system, "spec_timers", {})
    assert timedelta(minutes=9, seconds=59) < due_in(system, view["id"]) <= timedelta(minutes=10)
    fire_due_timers(system, timedelta(minutes=9))
    assert system.engine.instance(view["id"], ADMIN)["active"] == ["task", "timer"]
    fire_due_timers(system, timedelta(minutes=1, seconds=1))
    assert system.engine.instance(view["id"], ADMIN)["active"] == ["too_late"]


def timer_diagram(kind: str, text: str, *, interrupting: bool = True) -> bytes:
    """spec_timers.bpmn with its boundary timer changed to `kind` holding `text`."""
    xml = (BPMN_DIR / "spec_timers.bpmn").read_text()
    xml = xml.replace(
        "<bpmn:timeDuration>PT10M</bpmn:timeDuration>", f"<bpmn:{kind}>{text}</bpmn:{kind}>"
    )
    if not interrupting:
        xml = xml.replace('attachedToRef="task"', 'attachedToRef="task" cancelActivity="false"')
    return xml.encode()


def deploy_timer(system, kind: str, text: str, **options: bool) -> None:
    system.engine.deploy([("spec_timers.bpmn", timer_diagram(kind, text, **options))], SYSTEM)


def test_a_literal_time_date_fires_at_that_moment(system):
    moment = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    deploy_timer(system, "timeDate", moment.isoformat().replace("+00:00", "Z"))
    view = start(system, "spec_timers", {})
    [job] = jobs(system, view["id"])
    assert datetime.fromisoformat(job["due_at"]) == moment
    fire_due_timers(system, timedelta(days=2, seconds=1))
    assert system.engine.instance(view["id"], ADMIN)["active"] == ["too_late"]


def test_a_literal_cycle_fires_its_number_of_times_on_a_non_interrupting_boundary(system):
    deploy_timer(system, "timeCycle", "R2/PT10H", interrupting=False)
    view = start(system, "spec_timers", {})
    for _ in range(3):
        fire_due_timers(system, timedelta(hours=10, seconds=1))
    assert len(tasks_for(system, ADMIN, name="too_late")) == 2
    assert jobs(system, view["id"]) == []
    assert system.engine.instance(view["id"], ADMIN)["active"] == ["task", "too_late"]


@pytest.mark.parametrize(
    "text", ["${reminder}", "PT${5 * 2}M", '"PT10M"', "reminder", "  PT10M\n  "], ids=repr
)
def test_a_timer_may_also_be_an_expression_in_either_dialect_or_quoted(system, text):
    deploy_timer(system, "timeDuration", text)
    view = start(system, "spec_timers", {"reminder": "PT10M"})
    assert timedelta(minutes=9, seconds=59) < due_in(system, view["id"]) <= timedelta(minutes=10)


def test_a_time_date_may_be_computed_with_camunda_date_arithmetic(system):
    deploy_timer(system, "timeDate", "${dateTime().plusDays(1).toDate()}")
    view = start(system, "spec_timers", {})
    assert timedelta(hours=23, minutes=59) < due_in(system, view["id"]) <= timedelta(days=1)
    fire_due_timers(system, timedelta(days=1, seconds=1))
    assert system.engine.instance(view["id"], ADMIN)["active"] == ["too_late"]


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (
            "timeCycle",
            "0 0 9 * * ?",
            "timer: timer '0 0 9 * * ?' is a cron expression, and Tokenflow's timers have no cron",
        ),
        ("timeDuration", "PT10 minutes", "timer: line 1: syntax error"),
        ("timeDuration", "PT10Q", "timer PT10Q is not a valid ISO 8601 timeDuration"),
        ("timeDate", "2027-02-30T09:00:00Z", "day is out of range for month"),
        ("timeCycle", "PT10M", "a cycle starts with R or Rn"),
        ("timeDuration", "${reminder.length()}", "method calls such as .length(...)"),
    ],
)
def test_a_timer_that_gives_no_iso_8601_value_is_refused_at_deploy_with_the_reason(
    system, kind, text, message
):
    with pytest.raises(DefinitionInvalid) as refused:
        deploy_timer(system, kind, text)
    found = [str(p) for p in refused.value.problems]
    assert any("timer" in p and message in p for p in found), found


def test_unsupported_juel_in_a_condition_is_refused_at_deploy_naming_the_flow(system):
    xml = (BPMN_DIR / "juel_routes.bpmn").read_text()
    xml = xml.replace("not empty order.country", "order.country.startsWith('D')")
    with pytest.raises(DefinitionInvalid) as refused:
        system.engine.deploy([("juel_routes.bpmn", xml.encode())], SYSTEM)
    found = [str(p) for p in refused.value.problems]
    assert any(
        "to_review" in p and "method calls such as .startsWith(...) are not supported" in p
        for p in found
    ), found


COLLECTION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_c" targetNamespace="t">
  <bpmn:process id="sign_each" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="L1" name="support">
      <bpmn:flowNodeRef>sign</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign" />
    <bpmn:userTask id="sign" name="Sign">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="COLLECTION"
          camunda:elementVariable="signer" />
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_multi_instance_collection_written_as_camunda_does_runs_once_per_item(system):
    xml = COLLECTION.replace("COLLECTION", "${signers}").encode()
    system.engine.deploy([("sign_each.bpmn", xml)], SYSTEM)
    view = start(system, "sign_each", {"signers": ["ann", "bob", "cem"]})
    assert len(tasks_for(system, ADMIN, name="sign")) == 3
    while tasks := tasks_for(system, ADMIN, name="sign"):
        system.engine.complete_task(tasks[0]["id"], {}, ADMIN)
    assert system.engine.instance(view["id"], ADMIN)["status"] == "completed"


def test_a_multi_instance_collection_that_computes_its_items_is_refused_at_deploy(system):
    xml = COLLECTION.replace("COLLECTION", "${order.signers}").encode()
    with pytest.raises(DefinitionInvalid) as refused:
        system.engine.deploy([("sign_each.bpmn", xml)], SYSTEM)
    found = [str(p) for p in refused.value.problems]
    assert any(
        "sign: multi-instance collection ${order.signers}: name a variable" in p for p in found
    ), found


def test_a_condition_written_as_text_around_an_expression_is_refused_at_deploy(system):
    xml = (BPMN_DIR / "juel_routes.bpmn").read_text()
    xml = xml.replace("${order.total &gt; 1000", "total: ${order.total &gt; 1000")
    with pytest.raises(DefinitionInvalid) as refused:
        system.engine.deploy([("juel_routes.bpmn", xml.encode())], SYSTEM)
    found = [str(p) for p in refused.value.problems]
    assert any(
        "to_review: condition: total: ${order.total > 1000" in p
        and "is text with expressions in it; write one ${...} expression" in p
        for p in found
    ), found
