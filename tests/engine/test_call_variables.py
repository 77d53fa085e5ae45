"""`camunda:in` / `camunda:out` on call activities: only what they name passes, and a call
activity without them passes every variable both ways, as before."""

from __future__ import annotations

import pytest

from engine.db import unit_of_work
from engine.errors import ProcessIncident
from engine.queries import list_incidents
from tests.builders import ADMIN, CUSTOMER, engine_system
from tests.engine.builders import Recorder, deploy, diagram, io, param, service

SETUP = (
    '<bpmn:scriptTask id="setup" scriptFormat="python"><bpmn:script>'
    'a = 1\nsecret_note = "parent only"'
    "</bpmn:script></bpmn:scriptTask>"
)
CHILD = diagram("child", service("child_look", topic="child_look"), starters="admin")


@pytest.fixture
def recorder():
    rec = Recorder()
    rec.returns["child_look"] = {"d": 7, "other": 1}
    return rec


@pytest.fixture
def system(config, recorder):
    return engine_system(config, recorder.registry)


def call(extensions: str) -> str:
    return (
        '<bpmn:callActivity id="call" calledElement="child">'
        f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements></bpmn:callActivity>"
    )


def run(system, extensions: str) -> None:
    parent = diagram("parent", SETUP, call(extensions), service("after"))
    deploy(system, ("child.bpmn", CHILD), ("parent.bpmn", parent))
    system.engine.start("parent", CUSTOMER)


def test_without_in_and_out_every_variable_passes_both_ways(system, recorder):
    run(system, "")
    assert recorder.saw("child_look")["secret_note"] == "parent only"
    after = recorder.saw("after")
    assert (after["d"], after["other"], after["a"]) == (7, 1, 1)


def test_source_and_source_expression_choose_the_called_process_start_data(system, recorder):
    run(
        system,
        '<camunda:in source="a" target="b" />'
        '<camunda:in sourceExpression="${a + 1}" target="c" />'
        '<camunda:in source="absent" target="n" />'
        '<camunda:out source="d" target="e" />',
    )
    assert recorder.saw("child_look") == {"b": 1, "c": 2, "n": None}
    after = recorder.saw("after")
    assert after["e"] == 7 and after["a"] == 1 and after["secret_note"] == "parent only"
    assert "d" not in after and "other" not in after and "b" not in after


def test_out_source_expression_reads_the_called_process_variables(system, recorder):
    run(system, '<camunda:out sourceExpression="${d * 10 + other}" target="total" />')
    after = recorder.saw("after")
    assert after["total"] == 71 and "d" not in after


def test_variables_all_passes_everything_and_local_only_the_activity_own(system, recorder):
    mapping = io(param("input", "loc", "L"))
    run(system, mapping + '<camunda:in variables="all" local="true" />')
    assert recorder.saw("child_look") == {"loc": "L"}
    after = recorder.saw("after")
    assert after["d"] == 7 and "loc" not in after


def test_out_variables_all_returns_every_variable_of_the_called_process(system, recorder):
    run(system, '<camunda:in source="a" target="a" /><camunda:out variables="all" />')
    after = recorder.saw("after")
    assert (after["d"], after["other"], after["a"]) == (7, 1, 1)
    assert after["secret_note"] == "parent only"


def test_a_local_out_stays_with_the_call_activity_unless_an_output_maps_it(system, recorder):
    run(
        system,
        io(outputs=param("output", "mapped", "${d + 1}"))
        + '<camunda:out source="d" target="d" local="true" />',
    )
    after = recorder.saw("after")
    assert after["mapped"] == 8 and "d" not in after


def test_an_in_expression_that_fails_is_an_incident_at_the_call_activity(system, recorder):
    with pytest.raises(ProcessIncident) as caught:
        run(system, '<camunda:in sourceExpression="${nothing.here}" target="c" />')
    assert caught.value.element == "call"
    assert "child_look" not in recorder.seen


def test_an_out_expression_that_fails_is_an_incident_at_the_call_activity(system, recorder):
    with pytest.raises(ProcessIncident) as caught:
        run(system, '<camunda:out sourceExpression="${d / zero}" target="c" />')
    assert caught.value.element == "call"
    assert "after" not in recorder.seen


def test_a_retried_call_activity_reads_the_called_process_again(system, recorder):
    with pytest.raises(ProcessIncident) as caught:
        run(system, '<camunda:out sourceExpression="${d / zero}" target="c" />')
    with unit_of_work(system.session_factory) as s:
        [incident] = list_incidents(s)
    with pytest.raises(ProcessIncident) as again:
        system.engine.retry_incident(incident["id"], ADMIN)
    assert again.value.element == "call"
    assert "zero" in again.value.detail and caught.value.detail == again.value.detail
    assert "after" not in recorder.seen
