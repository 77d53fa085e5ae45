"""Mappings, call activities' in/out and start forms that cannot run here are refused at
deploy with the element and one sentence."""

from __future__ import annotations

import pytest

from engine.io_mapping import NO_SCRIPTS
from engine.parser import read_file
from engine.validation import validate
from tests.engine.builders import KNOWN, problems, task_diagram


def task(extensions: str, tag: str = "serviceTask", attributes: str = "") -> str:
    topic = ' camunda:type="external" camunda:topic="work"' if tag == "serviceTask" else ""
    return (
        f'<bpmn:{tag} id="it"{topic}{attributes}>'
        f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements></bpmn:{tag}>"
    )


def mapping(content: str) -> str:
    return f"<camunda:inputOutput>{content}</camunda:inputOutput>"


def test_every_form_of_mapping_deploys_on_tasks():
    content = mapping(
        '<camunda:inputParameter name="a">text</camunda:inputParameter>'
        '<camunda:inputParameter name="b">${x.y + 1}</camunda:inputParameter>'
        '<camunda:inputParameter name="c"><camunda:list><camunda:value>1</camunda:value>'
        '<camunda:map><camunda:entry key="k">${z}</camunda:entry></camunda:map>'
        "</camunda:list></camunda:inputParameter>"
        '<camunda:outputParameter name="d" />'
    )
    for tag in ("serviceTask", "userTask", "scriptTask", "sendTask", "receiveTask"):
        body = task(content, tag)
        if tag == "scriptTask":
            body = body.replace(
                "</bpmn:scriptTask>", "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>"
            )
        assert problems(body) == [], tag


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        (
            mapping(
                '<camunda:inputParameter name="a"><camunda:script scriptFormat="groovy">'
                "1</camunda:script></camunda:inputParameter>"
            ),
            f"it: camunda:inputParameter 'a': {NO_SCRIPTS}",
        ),
        (
            mapping(
                '<camunda:outputParameter name="a"><camunda:list><camunda:script>1'
                "</camunda:script></camunda:list></camunda:outputParameter>"
            ),
            f"it: camunda:outputParameter 'a': {NO_SCRIPTS}",
        ),
        (
            mapping('<camunda:inputParameter name="a">${x.size()}</camunda:inputParameter>'),
            "it: parameter 'a': ${x.size()}: method calls such as .size(...) are not supported",
        ),
        (
            mapping("<camunda:inputParameter>1</camunda:inputParameter>"),
            "it: a camunda:inputParameter has no name",
        ),
        (
            mapping('<camunda:inputParameter name="no good">1</camunda:inputParameter>'),
            "it: camunda:inputParameter 'no good': a variable name is",
        ),
        (
            mapping(
                '<camunda:inputParameter name="m"><camunda:map><camunda:value>1</camunda:value>'
                "</camunda:map></camunda:inputParameter>"
            ),
            "it: camunda:inputParameter 'm': a camunda:map holds camunda:entry elements",
        ),
        (
            '<camunda:in businessKey="#{execution.processBusinessKey}" />',
            "it: camunda:in businessKey is not supported",
        ),
    ],
)
def test_what_a_mapping_cannot_do_is_refused_naming_it(extensions, expected):
    found = problems(task(extensions))
    assert any(p.startswith(expected) for p in found), found


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        ('<camunda:in target="b" />', "it: camunda:in needs either source or sourceExpression"),
        ('<camunda:out source="a" />', "it: camunda:out needs a target"),
        ('<camunda:in variables="some" />', "it: camunda:in variables='some'"),
        (
            '<camunda:in sourceExpression="a + 1" target="b" />',
            "it: camunda:in sourceExpression 'a + 1' is no expression",
        ),
        (
            '<camunda:out sourceExpression="${f(a)}" target="b" />',
            "it: ${f(a)}: function calls such as f(...) are not supported",
        ),
    ],
)
def test_call_activity_in_and_out_that_cannot_run_are_refused(extensions, expected):
    body = task(extensions, "callActivity", ' calledElement="p"')
    found = problems(body)
    assert any(p.startswith(expected) for p in found), found


def test_a_mapping_on_a_multi_instance_activity_is_refused():
    body = task(
        mapping('<camunda:inputParameter name="a">1</camunda:inputParameter>'),
    ).replace(
        "</bpmn:serviceTask>",
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="items"'
        ' camunda:elementVariable="item" /></bpmn:serviceTask>',
    )
    found = problems(body)
    assert any("camunda:inputOutput on a multi-instance activity" in p for p in found), found


START_FORM = (
    "<bpmn:extensionElements><camunda:formData>"
    '<camunda:formField id="pin" type="string"><camunda:properties>'
    '<camunda:property id="sensitive" value="true" /></camunda:properties></camunda:formField>'
    "</camunda:formData></bpmn:extensionElements>"
)


def test_a_start_form_with_a_sensitive_field_is_refused():
    body = '<bpmn:task id="it" />'
    found = problems_with_start(body, START_FORM)
    assert any(p.startswith("start: a start form cannot have sensitive fields") for p in found)


def test_a_start_form_on_a_message_start_event_is_refused():
    form = START_FORM.replace(
        '<camunda:properties><camunda:property id="sensitive" value="true" /></camunda:properties>',
        "",
    )
    found = problems_with_start(
        '<bpmn:task id="it" />', form + '<bpmn:messageEventDefinition messageRef="m" />'
    )
    assert any(
        p.startswith("start: camunda:formData on this start event is never shown") for p in found
    ), found


def test_a_start_form_constraint_that_does_not_fit_is_refused_as_on_a_task():
    form = START_FORM.replace(
        '<camunda:properties><camunda:property id="sensitive" value="true" /></camunda:properties>',
        '<camunda:validation><camunda:constraint name="max" config="ten" /></camunda:validation>',
    )
    found = problems_with_start('<bpmn:task id="it" />', form)
    assert any(p.startswith("start: form field 'pin': ") for p in found), found


def problems_with_start(body: str, start_content: str) -> list[str]:
    start = f'<bpmn:startEvent id="start">{start_content}</bpmn:startEvent>'
    xml = task_diagram(body).replace('<bpmn:startEvent id="start" />', start)
    found = validate([read_file("x.bpmn", xml.encode())], KNOWN)
    return [str(p).removeprefix("x.bpmn:") for p in found if p.is_error]


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        ('<camunda:in source="a" target="b" />', "camunda:in without camunda:out"),
        ('<camunda:out source="a" target="b" />', "camunda:out without camunda:in"),
    ],
)
def test_one_direction_only_is_a_warning_saying_the_other_passes_everything(extensions, expected):
    body = task(extensions, "callActivity", ' calledElement="p"')
    xml = task_diagram(body)
    found = validate([read_file("x.bpmn", xml.encode())], KNOWN)
    warnings = [p.message for p in found if not p.is_error and p.element == "it"]
    assert any(w.startswith(expected) for w in warnings), warnings
    assert not [p for p in found if p.is_error]
