"""What can be known at deploy time, part two: warnings are listed beside a deploy that
goes ahead, each naming its element and saying why in words; names something sets, and
the shipped diagrams, give none. (Errors, which refuse a diagram, are in
test_validation_errors.py.)"""

from __future__ import annotations

import pytest

from engine.db import unit_of_work
from engine.models import Group
from tests.analyst.builders import (
    GATEWAYS,
    LINEAR,
    MESSAGE_START,
    ROUTE,
    changed,
    greeter_registry,
    with_timer,
)
from tests.builders import ADMIN, CUSTOMER, PROCESSES, engine_system
from tokenflow.system import build_system

WARNINGS = [
    (
        "condition reading a name nothing sets",
        changed(GATEWAYS, (ROUTE, 'rout == "parallel"')),
        "to_par",
        "reads 'rout', which no form field, script, message or handler of these diagrams sets",
    ),
    (
        "timer held in a variable nothing sets",
        with_timer("timeDate", "reminder_at"),
        "wait_hour",
        "reads 'reminder_at'",
    ),
    (
        "JUEL condition reading a name nothing sets",
        changed(GATEWAYS, (ROUTE, "${rout.kind == 'parallel'}")),
        "to_par",
        "reads 'rout', which no form field",
    ),
    (
        "JUEL timer held in a variable nothing sets",
        with_timer("timeDate", "${reminder_at}"),
        "wait_hour",
        "reads 'reminder_at'",
    ),
    (
        "script reading a name nothing sets",
        changed(
            LINEAR,
            (
                '<bpmn:sequenceFlow id="f6" sourceRef="wait_go" targetRef="done" />',
                '<bpmn:sequenceFlow id="f6" sourceRef="wait_go" targetRef="tally" />'
                '<bpmn:scriptTask id="tally"><bpmn:script>total = count + 1</bpmn:script>'
                "</bpmn:scriptTask>"
                '<bpmn:sequenceFlow id="f7" sourceRef="tally" targetRef="done" />',
            ),
        ),
        "tally",
        "reads 'count'",
    ),
    (
        "user task in no lane",
        changed(LINEAR, ("<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", "")),
        "review",
        "user task has no lane and no assignment, so only admins may complete it",
    ),
]


@pytest.mark.parametrize(
    ("xml", "element", "message"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS]
)
def test_a_warning_is_listed_and_the_diagram_deploys(config, xml, element, message):
    system = engine_system(config, greeter_registry())
    [deployed] = system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)
    assert deployed.version == 1
    assert all(not w.is_error for w in deployed.warnings)
    assert any(w.element == element and message in w.message for w in deployed.warnings), [
        str(w) for w in deployed.warnings
    ]


@pytest.mark.parametrize(
    "read",
    [
        "name",  # a form field
        "greeting",  # the handler's returned dict
        "greeted_at",  # a dict(...) keyword inside the handler
        "go",  # the payload of message `go`
        "len(name) > 1 and now() is not None",  # builtins and the engine's helpers
        "[n for n in [1, 2] if n]",  # its own comprehension variable
    ],
)
def test_names_that_something_sets_give_no_warning(config, read):
    system = engine_system(config, greeter_registry())
    xml = changed(GATEWAYS, (ROUTE, read))
    xml = changed(
        xml,
        (
            '<camunda:formField id="route"',
            '<camunda:formField id="name" type="string" /><camunda:formField id="route"',
        ),
    )
    found = system.engine.check([("x.bpmn", xml.encode()), ("y.bpmn", LINEAR.encode())])
    assert [str(p) for p in found if p.element == "to_par"] == []


def test_a_process_whose_only_start_is_a_message_start_event_deploys(config):
    system = engine_system(config, greeter_registry())
    xml = changed(
        LINEAR,
        MESSAGE_START,
        ("</bpmn:process>", '</bpmn:process><bpmn:message id="Message_order" name="order" />'),
    )
    [deployed] = system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)
    assert deployed.warnings == ()


def test_sensitive_fields_reach_their_service_task_through_gateways_and_scripts(config):
    system = engine_system(config, greeter_registry())
    xml = changed(
        LINEAR,
        (
            '<bpmn:sequenceFlow id="f2" sourceRef="ask_name" targetRef="greet" />',
            '<bpmn:sequenceFlow id="f2" sourceRef="ask_name" targetRef="tidy" />'
            '<bpmn:scriptTask id="tidy"><bpmn:script>name = name.strip()</bpmn:script>'
            "</bpmn:scriptTask>"
            '<bpmn:sequenceFlow id="f2b" sourceRef="tidy" targetRef="greet" />',
        ),
    )
    [deployed] = system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)
    started = system.engine.start("linear", CUSTOMER)
    assert started["active"] == ["ask_name"] and deployed.warnings == ()


def test_the_shipped_diagrams_deploy_with_no_findings(config):
    """Once the groups they name beside the roles exist (`make run`'s demo makes them
    before it deploys); before that, each such group is a warning and nothing else."""
    system = build_system(config)
    diagrams = [*PROCESSES.glob("*.bpmn"), *PROCESSES.glob("*.dmn")]
    sources = [(p.name, p.read_bytes()) for p in sorted(diagrams)]
    before = system.engine.check(sources)
    assert [(p.element, p.is_error) for p in before] == [("license_key_sla_breach", False)]
    with unit_of_work(system.session_factory) as s:
        s.add(Group(name="support_leads"))
    assert [str(p) for p in system.engine.check(sources)] == []
