"""What can be known at deploy time, part one: errors refuse a diagram, each naming its
element and saying why in words. (Warnings, listed beside a deploy that goes ahead, are in
test_validation_warnings.py.)"""

from __future__ import annotations

import pytest

from engine.errors import DefinitionInvalid
from tests.analyst.builders import (
    GATEWAYS,
    LINEAR,
    MESSAGE_START,
    ROUTE,
    TIMER,
    changed,
    greeter_registry,
    with_timer,
)
from tests.builders import ADMIN, PROCESSES, engine_system, journey_system

REVIEW = '<bpmn:userTask id="review" name="Review">\n      <bpmn:extensionElements>'


def multi_instance(inner: str, collection: str = "") -> str:
    attribute = f' camunda:collection="{collection}"' if collection else ""
    return changed(
        LINEAR,
        (
            REVIEW,
            f"{REVIEW}</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics"
            f"{attribute}>{inner}</bpmn:multiInstanceLoopCharacteristics>"
            "<bpmn:extensionElements>",
        ),
    )


def throwing(attributes: str) -> str:
    """LINEAR whose end event throws message `go` with `attributes` on its definition."""
    return changed(
        LINEAR,
        (
            '<bpmn:endEvent id="done" name="Done" />',
            '<bpmn:endEvent id="done" name="Done"><bpmn:messageEventDefinition '
            f'messageRef="Message_go"{attributes} /></bpmn:endEvent>',
        ),
    )


SECOND_FORM = (
    '<bpmn:sequenceFlow id="f2" sourceRef="ask_name" targetRef="greet" />',
    '<bpmn:sequenceFlow id="f2" sourceRef="ask_name" targetRef="split" />'
    '<bpmn:exclusiveGateway id="split" default="f2b" />'
    '<bpmn:sequenceFlow id="f2b" sourceRef="split" targetRef="greet" />'
    '<bpmn:sequenceFlow id="f2c" sourceRef="split" targetRef="double_check">'
    '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">name == "x"'
    "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    '<bpmn:userTask id="double_check" name="Double-check" />'
    '<bpmn:sequenceFlow id="f2d" sourceRef="double_check" targetRef="greet" />',
)
IN_LANE = (
    "<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
    "<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>double_check</bpmn:flowNodeRef>",
)

ERRORS = [
    (
        "empty condition",
        changed(GATEWAYS, (ROUTE, "  ")),
        "to_par",
        "condition is empty",
    ),
    (
        "JUEL condition with a method call",
        changed(GATEWAYS, (ROUTE, "${route.startsWith('par')}")),
        "to_par",
        "condition: ${route.startsWith('par')}: method calls such as .startsWith(...) are not "
        "supported",
    ),
    (
        "lane without a name",
        changed(LINEAR, (' name="support"', "")),
        "Lane_support",
        "lane without a name",
    ),
    (
        "multi-instance cardinality that imports",
        multi_instance("<bpmn:loopCardinality>__import__('os')</bpmn:loopCardinality>"),
        "review",
        "multi-instance cardinality: line 1: '__import__' is private",
    ),
    (
        "multi-instance collection reaching a class",
        multi_instance("", collection="name.__class__"),
        "review",
        "multi-instance collection: line 1: '__class__' is private",
    ),
    (
        "empty multi-instance cardinality",
        multi_instance("<bpmn:loopCardinality> </bpmn:loopCardinality>"),
        "review",
        "multi-instance cardinality is empty",
    ),
    (
        "multi-instance completion condition with a syntax error",
        multi_instance(
            "<bpmn:loopCardinality>2</bpmn:loopCardinality>"
            "<bpmn:completionCondition>ok ==</bpmn:completionCondition>"
        ),
        "review",
        "multi-instance completion condition: line 1: syntax error",
    ),
    (
        "cron cycle",
        with_timer("timeCycle", '"0 0 9 * * ?"'),
        "wait_hour",
        "is a cron expression, and Tokenflow's timers have no cron; "
        'write an ISO 8601 repeating interval such as "R/P1D"',
    ),
    (
        "unquoted cron cycle",
        with_timer("timeCycle", "0 0 9 * * MON-FRI"),
        "wait_hour",
        "is a cron expression",
    ),
    (
        "cycle without repetitions",
        with_timer("timeCycle", '"PT1H"'),
        "wait_hour",
        "a cycle starts with R or Rn (n repetitions)",
    ),
    (
        "date out of range",
        with_timer("timeDate", '"2026-13-01T09:00:00+00:00"'),
        "wait_hour",
        "not a valid ISO 8601 timeDate: month must be in 1..12",
    ),
    (
        "duration with an unknown unit",
        with_timer("timeDuration", '"P1X"'),
        "wait_hour",
        'write an ISO 8601 duration such as "PT24H"',
    ),
    (
        "message start event naming no message",
        changed(
            LINEAR, (MESSAGE_START[0], MESSAGE_START[1].replace(' messageRef="Message_order"', ""))
        ),
        "start",
        "message start event names no message (messageRef)",
    ),
    (
        "message start event whose message has no name",
        changed(
            LINEAR,
            MESSAGE_START,
            ("</bpmn:process>", '</bpmn:process><bpmn:message id="Message_order" />'),
        ),
        "start",
        "message 'Message_order' has no name",
    ),
    (
        "message event whose message is not defined",
        changed(LINEAR, ('messageRef="Message_go"', 'messageRef="Message_gone"')),
        "wait_go",
        "message 'Message_gone' is not defined in this file",
    ),
    (
        "flow to a node that is not there",
        changed(
            LINEAR, ('sourceRef="wait_go" targetRef="done"', 'sourceRef="wait_go" targetRef="gone"')
        ),
        "f6",
        "targetRef 'gone' is no flow node of this process or subprocess",
    ),
    (
        "message throw event without a payload",
        throwing(""),
        "done",
        "message throw event has no payload: set camunda:expression",
    ),
    (
        "message payload that imports",
        throwing(" camunda:expression=\"__import__('os')\""),
        "done",
        "message payload: line 1: '__import__' is private",
    ),
    (
        "conditional event with an empty condition",
        changed(
            LINEAR,
            (
                f'<bpmn:timerEventDefinition id="td1">{TIMER}</bpmn:timerEventDefinition>',
                "<bpmn:conditionalEventDefinition><bpmn:condition> </bpmn:condition>"
                "</bpmn:conditionalEventDefinition>",
            ),
        ),
        "wait_hour",
        "condition is empty",
    ),
    (
        "process without an id",
        changed(LINEAR, ('<bpmn:process id="linear"', "<bpmn:process")),
        None,
        "a process without an id cannot be deployed",
    ),
    (
        "flow node without an id",
        changed(
            LINEAR,
            (
                '<bpmn:endEvent id="done" name="Done" />',
                '<bpmn:endEvent id="done" name="Done" /><bpmn:task name="Orphan" />',
            ),
        ),
        None,
        "task Orphan has no id, so it can never run",
    ),
    (
        "sensitive fields lost to a user task before their service task",
        changed(LINEAR, SECOND_FORM, IN_LANE),
        "ask_name",
        "sensitive field(s) pin of 'ask_name' are lost at 'double_check'",
    ),
]


@pytest.mark.parametrize(
    ("xml", "element", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_an_error_refuses_the_diagram_naming_its_element(config, xml, element, message):
    system = engine_system(config, greeter_registry())
    found = system.engine.check([("x.bpmn", xml.encode())])
    assert any(p.element == element and message in p.message and p.is_error for p in found), [
        str(p) for p in found
    ]
    with pytest.raises(DefinitionInvalid):
        system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)


def test_a_review_task_between_checkout_and_the_card_charge_is_refused_naming_both(config):
    """The issue's case: an analyst's review after `checkout` would send every customer
    back to re-enter their card, since the card fields are gone by the time it is done."""
    system = journey_system(config)
    purchase = changed(
        (PROCESSES / "purchase.bpmn").read_text(),
        (
            '<bpmn:sequenceFlow id="Flow_checkout_to_payment_method_gateway" sourceRef="checkout" '
            'targetRef="payment_method_gateway"/>',
            '<bpmn:sequenceFlow id="Flow_checkout_to_review" sourceRef="checkout" '
            'targetRef="review_order"/><bpmn:userTask id="review_order" name="Review order"/>'
            '<bpmn:sequenceFlow id="Flow_checkout_to_payment_method_gateway" '
            'sourceRef="review_order" targetRef="payment_method_gateway"/>',
        ),
        (
            "<bpmn:flowNodeRef>checkout</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>checkout</bpmn:flowNodeRef>"
            "<bpmn:flowNodeRef>review_order</bpmn:flowNodeRef>",
        ),
    )
    with pytest.raises(DefinitionInvalid) as caught:
        system.engine.deploy([("purchase.bpmn", purchase.encode())], ADMIN)
    [problem] = caught.value.problems
    assert problem.element == "checkout"
    assert problem.message.startswith(
        "sensitive field(s) card_number, card_expiry, card_cvc of 'checkout' are lost at "
        "'review_order'"
    )
