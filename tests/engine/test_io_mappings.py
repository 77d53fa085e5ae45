"""Camunda's input/output mappings at run time: inputs are the activity's local variables,
outputs go to the enclosing scope, and with outputs only the mapped values leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import clock
from engine.errors import InvalidInput, ProcessIncident
from tests.builders import ADMIN, CUSTOMER, engine_system, only_task
from tests.engine.builders import Recorder, deploy, diagram, io, param, service

SETUP = (
    '<bpmn:scriptTask id="setup" scriptFormat="python"><bpmn:script>'
    'order = {"total": 1200, "items": ["a", "b"]}\ncustomer = "Ann"'
    "</bpmn:script></bpmn:scriptTask>"
)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def system(config, recorder):
    return engine_system(config, recorder.registry)


def run(system, *elements, data=None):
    deploy(system, ("p.bpmn", diagram("p", SETUP, *elements)))
    return system.engine.start("p", ADMIN if data else CUSTOMER, data)


def test_each_form_of_input_value_becomes_a_local_variable_of_the_activity(system, recorder):
    nested = (
        "<camunda:list><camunda:value>first</camunda:value>"
        '<camunda:map><camunda:entry key="inner">'
        "<camunda:list><camunda:value>${order.items[1]}</camunda:value></camunda:list>"
        "</camunda:entry></camunda:map></camunda:list>"
    )
    inputs = "".join(
        [
            param("input", "greeting", "Hello"),
            param("input", "total", "${order.total}"),
            param("input", "line", "Dear ${customer}, ${order.total} in all"),
            param(
                "input",
                "items",
                "<camunda:list><camunda:value>x</camunda:value>"
                "<camunda:value>${order.total + 1}</camunda:value></camunda:list>",
            ),
            param(
                "input",
                "details",
                '<camunda:map><camunda:entry key="who">${customer}</camunda:entry>'
                '<camunda:entry key="fixed">1</camunda:entry></camunda:map>',
            ),
            param("input", "nested", nested),
            param("input", "nothing", ""),
        ]
    )
    run(system, service("look_in", io(inputs)), service("after"))
    seen = recorder.saw("look_in")
    assert seen["greeting"] == "Hello"
    assert seen["total"] == 1200
    assert seen["line"] == "Dear Ann, 1200 in all"
    assert seen["items"] == ["x", 1201]
    assert seen["details"] == {"who": "Ann", "fixed": "1"}
    assert seen["nested"] == ["first", {"inner": ["b"]}]
    assert seen["nothing"] is None
    after = recorder.saw("after")
    for local in ("greeting", "total", "line", "items", "details", "nested", "nothing"):
        assert local not in after
    assert after["customer"] == "Ann"


def test_an_input_that_shadows_a_variable_gives_its_value_back_and_other_changes_leave(
    system, recorder
):
    recorder.returns["look_in"] = {"result": 5}
    run(system, service("look_in", io(param("input", "customer", "Bob"))), service("after"))
    assert recorder.saw("look_in")["customer"] == "Bob"
    assert recorder.saw("after")["customer"] == "Ann"
    assert recorder.saw("after")["result"] == 5


def test_with_output_parameters_only_the_mapped_values_leave_the_activity(system, recorder):
    recorder.returns["mapped"] = {"result": 5, "junk": 1, "customer": "Changed"}
    mapping = io(
        param("input", "x", "${order.total}"),
        param("output", "doubled", "${x * 2}")
        + param("output", "kept", "${result}")
        + param(
            "output",
            "labels",
            "<camunda:list><camunda:value>${junk}</camunda:value></camunda:list>",
        ),
    )
    run(system, service("mapped", mapping), service("after"))
    after = recorder.saw("after")
    assert after["doubled"] == 2400
    assert after["kept"] == 5
    assert after["labels"] == [1]
    assert after["customer"] == "Ann"  # set inside the activity, not mapped out
    assert "junk" not in after and "result" not in after and "x" not in after


def test_a_user_task_sees_its_inputs_and_its_form_values_leave_through_its_outputs(system):
    form = '<camunda:formData><camunda:formField id="answer" type="long" /></camunda:formData>'
    mapping = io(
        param("input", "question", "How many for ${customer}?"),
        param("output", "result", "${answer + 1}"),
    )
    user = (
        '<bpmn:userTask id="ask" camunda:candidateGroups="customer"><bpmn:extensionElements>'
        f"{form}{mapping}</bpmn:extensionElements></bpmn:userTask>"
    )
    view = run(system, user, service("after"))
    task = only_task(system, CUSTOMER)
    waiting = system.engine.instance(view["id"], ADMIN)["variables"]
    assert waiting["question"] == "How many for Ann?"
    system.engine.complete_task(task["id"], {"answer": 41}, CUSTOMER)
    variables = system.engine.instance(view["id"], ADMIN)["variables"]
    assert variables["result"] == 42
    assert "answer" not in variables and "question" not in variables


def test_dates_from_date_arithmetic_are_values_like_any_other(system, recorder):
    run(system, service("look_in", io(param("input", "due", "${dateTime().plusDays(2)}"))))
    due = recorder.saw("look_in")["due"]
    assert abs(due - (clock.now() + timedelta(days=2))) < timedelta(minutes=1)


def test_a_failing_input_expression_is_an_incident_at_the_activity(system, recorder):
    with pytest.raises(ProcessIncident) as caught:
        run(system, service("look_in", io(param("input", "x", "${missing + 1}"))))
    assert caught.value.element == "look_in"
    assert "input parameter 'x'" in caught.value.detail
    assert "look_in" not in recorder.seen


def test_a_failing_output_expression_is_an_incident_at_the_activity(system, recorder):
    with pytest.raises(ProcessIncident) as caught:
        run(system, service("look_in", io(outputs=param("output", "y", "${nope.x}"))))
    assert caught.value.element == "look_in"
    assert "output parameter 'y'" in caught.value.detail


def test_a_user_task_whose_output_fails_is_refused_whole_and_stays_open(system, recorder):
    form = '<camunda:formData><camunda:formField id="answer" type="long" /></camunda:formData>'
    mapping = io(outputs=param("output", "share", "${order.total / answer}"))
    user = (
        '<bpmn:userTask id="ask" camunda:candidateGroups="customer"><bpmn:extensionElements>'
        f"{form}{mapping}</bpmn:extensionElements></bpmn:userTask>"
    )
    view = run(system, user, service("after"))
    task = only_task(system, CUSTOMER)
    with pytest.raises(InvalidInput) as caught:
        system.engine.complete_task(task["id"], {"answer": 0}, CUSTOMER)
    assert "output parameter 'share'" in caught.value.detail
    assert only_task(system, CUSTOMER)["id"] == task["id"]
    assert system.engine.instance(view["id"], ADMIN)["status"] == "running"
    system.engine.complete_task(task["id"], {"answer": 4}, CUSTOMER)
    assert recorder.saw("after")["share"] == 300
