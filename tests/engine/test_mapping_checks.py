"""Mappings, call activities' in/out and start forms that cannot run here are refused at
deploy with the element and one sentence."""

from __future__ import annotations

import pytest

from engine.io_mapping import NO_SCRIPTS
from tests.engine.test_camunda_checks import problems


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
