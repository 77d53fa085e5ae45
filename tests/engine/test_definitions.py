from __future__ import annotations

import pytest

from engine.errors import DefinitionInvalid
from engine.registry import Registry
from tests.builders import ADMIN, BPMN_DIR, CUSTOMER, deploy, engine_system, only_task

LINEAR = (BPMN_DIR / "linear.bpmn").read_text()


def registry() -> Registry:
    reg = Registry()
    reg.handler("greet")(lambda ctx: {"greeting": "hi"})
    reg.handler("tick")(lambda ctx: {})
    reg.handler("charge")(lambda ctx: {})
    return reg


def problems_of(system, xml: str) -> list[str]:
    with pytest.raises(DefinitionInvalid) as caught:
        system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)
    return [str(p) for p in caught.value.problems]


def test_deploying_the_same_file_twice_makes_no_new_version(config):
    system = engine_system(config, registry(), "linear.bpmn")
    again = deploy(system, "linear.bpmn")
    assert [(d.key, d.version, d.changed) for d in again] == [("linear", 1, False)]


def test_a_changed_file_becomes_the_next_version_and_only_new_instances_take_it(config):
    system = engine_system(config, registry(), "linear.bpmn")
    old = system.engine.start("linear", CUSTOMER)
    changed = LINEAR.replace('"PT1H"', '"PT2H"')
    [deployed] = system.engine.deploy([("linear.bpmn", changed.encode())], ADMIN)
    assert (deployed.version, deployed.changed) == (2, True)
    new = system.engine.start("linear", CUSTOMER)
    assert old["definition_version"] == 1
    assert new["definition_version"] == 2
    # The old instance still runs on its own version.
    task = only_task(system, CUSTOMER, instance_id=old["id"])
    view, _, _ = system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    assert view["definition_version"] == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('camunda:topic="greet"', 'camunda:topic="nobody_home"'),
            "greet: no handler is registered for topic 'nobody_home'",
        ),
        (
            ('name="support"', 'name="janitors"'),
            "Lane_support: lane 'janitors' is not a known role",
        ),
        (('"PT1H"', "PT1X"), "wait_hour: timer PT1X is not a valid ISO 8601 timeDuration"),
        (('"PT1H"', '"PT1 hour"'), "wait_hour: timer 'PT1 hour' is not a valid ISO 8601"),
        (('type="boolean"', 'type="colour"'), "review: form field 'ok' has type 'colour'"),
    ],
)
def test_an_invalid_diagram_is_refused_with_each_problem_named_by_element(config, change, expected):
    system = engine_system(config, registry())
    problems = problems_of(system, LINEAR.replace(*change))
    assert any(expected in p for p in problems), problems


def test_every_problem_is_listed_not_just_the_first(config):
    system = engine_system(config, registry())
    xml = LINEAR.replace('camunda:topic="greet"', 'camunda:topic="nope"').replace('"PT1H"', "PT1X")
    problems = problems_of(system, xml)
    assert len(problems) == 2


def test_a_condition_that_imports_os_is_refused(config):
    system = engine_system(config, registry())
    xml = (
        (BPMN_DIR / "gateways.bpmn")
        .read_text()
        .replace('route == "parallel"', "__import__('os').system('touch /tmp/pwned') == 0")
    )
    problems = problems_of(system, xml)
    assert any("to_par: condition" in p and "__import__" in p for p in problems), problems


def test_a_script_with_an_import_is_refused(config):
    system = engine_system(config, registry())
    xml = (
        (BPMN_DIR / "call_child.bpmn")
        .read_text()
        .replace("answer = answer + 1", "import os\nanswer = 1")
    )
    assert any("bump: script" in p for p in problems_of(system, xml))


@pytest.mark.parametrize(
    "xml",
    [
        "<not-closed",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        '<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
    ],
)
def test_malformed_or_entity_laden_xml_is_refused(config, xml):
    system = engine_system(config, registry())
    assert problems_of(system, xml)


def test_a_call_to_an_undeployed_process_is_refused(config):
    system = engine_system(config, registry())
    problems = problems_of(system, (BPMN_DIR / "call_parent.bpmn").read_text())
    assert any("call: calls process 'call_child'" in p for p in problems), problems


def test_a_parent_and_its_child_deploy_together(config):
    system = engine_system(config, registry(), "call_parent.bpmn", "call_child.bpmn")
    view = system.engine.start("call_parent", CUSTOMER)
    assert view["active"] == ["call", "inner"] or "inner" in view["active"]
