"""Each of Tokenflow's checks refuses a diagram that breaks it, naming the element."""

from __future__ import annotations

import pytest

from engine.errors import DefinitionInvalid, ProcessIncident
from engine.registry import Registry
from tests.analyst.builders import GATEWAYS, LINEAR, changed
from tests.builders import ADMIN, CUSTOMER, engine_system, only_task

ORPHAN = (
    '<bpmn:userTask id="orphan" name="Nobody gets here" />\n'
    '    <bpmn:endEvent id="done" name="Done" />'
)


def registry() -> Registry:
    reg = Registry()
    reg.handler("greet")(lambda ctx: {})
    reg.validator("known_check")(lambda ctx, values: {})
    return reg


RULES = [
    (
        "unknown topic",
        changed(LINEAR, ('camunda:topic="greet"', 'camunda:topic="nobody_home"')),
        "greet",
        "no handler is registered for topic 'nobody_home'",
    ),
    (
        "service task without topic",
        changed(LINEAR, (' camunda:type="external" camunda:topic="greet"', "")),
        "greet",
        "service task has no camunda:topic",
    ),
    (
        "unknown lane",
        changed(LINEAR, ('name="support"', 'name="janitors"')),
        "Lane_support",
        "lane 'janitors' is not a known role",
    ),
    (
        "literal timer with no ISO 8601 unit",
        changed(LINEAR, ('"PT1H"', "PT1X")),
        "wait_hour",
        "timer PT1X is not a valid ISO 8601 timeDuration: write an ISO 8601 duration",
    ),
    (
        "invalid timer",
        changed(LINEAR, ('"PT1H"', '"one hour"')),
        "wait_hour",
        "timer 'one hour' is not a valid ISO 8601 timeDuration",
    ),
    (
        "timer that is no expression",
        changed(LINEAR, ('"PT1H"', "__import__('os')")),
        "wait_hour",
        "timer: line 1: '__import__' is private",
    ),
    (
        "form field of an unknown type",
        changed(LINEAR, ('id="ok" label="OK" type="boolean"', 'id="ok" label="OK" type="bool"')),
        "review",
        "form field 'ok' has type 'bool'",
    ),
    (
        "form field without a type",
        changed(LINEAR, ('id="ok" label="OK" type="boolean"', 'id="ok" label="OK"')),
        "review",
        "form field 'ok' has type None",
    ),
    (
        "unknown validator",
        changed(
            LINEAR,
            (
                '<bpmn:userTask id="review" name="Review">\n      <bpmn:extensionElements>',
                '<bpmn:userTask id="review" name="Review">\n      <bpmn:extensionElements>'
                '<camunda:properties><camunda:property name="validator" value="guess" />'
                "</camunda:properties>",
            ),
        ),
        "review",
        "no validator is registered as 'guess'",
    ),
    (
        "unreachable element",
        changed(
            LINEAR,
            ('<bpmn:endEvent id="done" name="Done" />', ORPHAN),
            (
                "<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
                "<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>orphan</bpmn:flowNodeRef>",
            ),
        ),
        "orphan",
        "cannot be reached from a start event",
    ),
    (
        "element cut off by a removed flow",
        changed(LINEAR, ('<bpmn:sequenceFlow id="f6" sourceRef="wait_go" targetRef="done" />', "")),
        "done",
        "cannot be reached from a start event",
    ),
    (
        "default flow that does not leave the gateway",
        changed(GATEWAYS, ('default="to_events"', 'default="p1"')),
        "xor",
        "default flow 'p1' does not leave this gateway",
    ),
    (
        "condition that imports",
        changed(GATEWAYS, ('route == "parallel"', "__import__('os').getcwd()")),
        "to_par",
        "condition: line 1: '__import__' is private",
    ),
    (
        "call of a process that is not deployed",
        changed(
            LINEAR,
            (
                '<bpmn:serviceTask id="greet" name="Greet" camunda:type="external" '
                'camunda:topic="greet">',
                '<bpmn:callActivity id="greet" name="Greet" calledElement="nowhere">',
            ),
            ("</bpmn:serviceTask>", "</bpmn:callActivity>"),
        ),
        "greet",
        "calls process 'nowhere', which is not deployed",
    ),
    (
        "script that opens files",
        changed(
            LINEAR,
            (
                '<bpmn:endEvent id="done" name="Done" />',
                '<bpmn:endEvent id="done" name="Done" />'
                '<bpmn:scriptTask id="sneaky"><bpmn:script>open("/etc/passwd")</bpmn:script>'
                "</bpmn:scriptTask>",
            ),
        ),
        "sneaky",
        "script: line 1: 'open' is not available to diagram code",
    ),
]


@pytest.mark.parametrize(
    ("xml", "element", "message"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_each_rule_refuses_a_diagram_that_breaks_it(config, xml, element, message):
    system = engine_system(config, registry())
    found = system.engine.check([("x.bpmn", xml.encode())])
    assert any(p.element == element and message in p.message for p in found), found
    with pytest.raises(DefinitionInvalid):
        system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)


@pytest.mark.parametrize("xml", [LINEAR, GATEWAYS], ids=["linear", "gateways"])
def test_the_unbroken_diagrams_pass(config, xml):
    system = engine_system(config, registry())
    assert system.engine.check([("x.bpmn", xml.encode())]) == []


def test_a_gateway_without_a_default_deploys_with_a_warning_and_an_unmatched_split_is_an_incident(
    config,
):
    system = engine_system(config, registry())
    xml = changed(
        GATEWAYS,
        (' default="to_events"', ""),
        (
            'targetRef="evgw" />',
            'targetRef="evgw"><bpmn:conditionExpression>route == "never"'
            "</bpmn:conditionExpression></bpmn:sequenceFlow>",
        ),
    )
    [warning] = [p for p in system.engine.check([("x.bpmn", xml.encode())]) if p.element == "xor"]
    assert not warning.is_error
    assert "no default: when no condition holds" in warning.message
    system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)
    system.engine.start("gateways", CUSTOMER)
    task = only_task(system, CUSTOMER)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.complete_task(task["id"], {"route": "events"}, CUSTOMER)
    assert caught.value.element == "xor"


def test_a_timer_held_in_a_variable_is_not_mistaken_for_an_unquoted_duration(config):
    system = engine_system(config, registry())
    xml = changed(LINEAR, ('"PT1H"', "reminder_at"))
    assert [p for p in system.engine.check([("x.bpmn", xml.encode())]) if p.is_error] == []


def test_a_file_without_an_executable_process_is_refused(config):
    system = engine_system(config, registry())
    xml = changed(LINEAR, ('isExecutable="true"', 'isExecutable="false"'))
    [problem] = system.engine.check([("x.bpmn", xml.encode())])
    assert problem.message == "no executable process in this file"
