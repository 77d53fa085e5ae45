"""DMN files deploy beside BPMN files: versioned per decision, pinned per instance, and
anything this engine cannot run refused with the decision (or task) and the reason."""

from __future__ import annotations

import pytest

from engine.actors import SYSTEM
from engine.errors import DefinitionInvalid
from engine.registry import Registry
from tests.builders import ADMIN, engine_system, only_task
from tests.decisions.builders import DMN13, decided, deploy, process, table

ONE_RULE = [(["-"], ['"yes"'])]


@pytest.fixture
def system(config):
    return engine_system(config, Registry())


def refusals(system, *sources):
    with pytest.raises(DefinitionInvalid) as caught:
        deploy(system, *sources)
    return [(p.element, p.message) for p in caught.value.problems if p.is_error]


def test_a_deploy_stores_numbered_versions_of_each_decision(system):
    first = deploy(system, ("d.dmn", table(ONE_RULE)))
    assert [(d.kind, d.key, d.version, d.changed) for d in first] == [
        ("decision", "decide", 1, True)
    ]
    again = deploy(system, ("d.dmn", table(ONE_RULE)))
    assert [(d.version, d.changed) for d in again] == [(1, False)]
    changed = deploy(system, ("d.dmn", table([(["-"], ['"no"'])])))
    assert [(d.version, d.changed) for d in changed] == [(2, True)]


def test_new_instances_use_the_new_version_and_running_ones_keep_theirs(system):
    deploy(system, ("d.dmn", table(ONE_RULE)), ("p.bpmn", process(mapping="singleEntry")))
    before = system.engine.start("decider", ADMIN, {"amount": 1}, owner_id=ADMIN.user_id)
    deploy(system, ("d.dmn", table([(["-"], ['"no"'])])))
    assert decided(system, {"amount": 1})["outcome"] == "no"
    assert before["variables"]["outcome"] == "yes"
    # The earlier instance's bundle still holds version 1: a retry-free look at its spec.
    look = only_task(system, ADMIN, instance_id=before["id"])
    system.engine.complete_task(look["id"], {}, ADMIN)
    assert system.engine.instance(before["id"], ADMIN)["status"] == "completed"


def test_a_bpmn_naming_no_deployed_decision_is_refused_with_its_element(system):
    assert refusals(system, ("p.bpmn", process("nowhere"))) == [
        (
            "rule",
            "business rule task names decision 'nowhere', which is not deployed: deploy its "
            "DMN file first or with this diagram",
        )
    ]


def test_a_bpmn_may_name_a_decision_deployed_earlier(system):
    deploy(system, ("d.dmn", table(ONE_RULE)))
    [deployed] = deploy(system, ("p.bpmn", process()))
    assert (deployed.kind, deployed.key) == ("process", "decider")


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (process(""), "business rule task has no camunda:decisionRef"),
        (process(mapping="firstOne"), "camunda:mapDecisionResult 'firstOne' is not one of"),
        (process(result_variable="2x"), "camunda:resultVariable '2x' is not a variable name"),
        (
            process(extra='camunda:decisionRefBinding="version" camunda:decisionRefVersion="1"'),
            "camunda:decisionRefBinding: only 'latest'",
        ),
    ],
)
def test_business_rule_task_attributes_are_checked(system, task, message):
    [(element, said)] = refusals(system, ("d.dmn", table(ONE_RULE)), ("p.bpmn", task))
    assert element == "rule"
    assert said.startswith(message)


def test_single_entry_on_rules_filling_two_outputs_deploys_with_a_warning(system):
    # Camunda checks this at run time (an empty cell gives no entry), so it is a warning
    two = table([(["-"], ['"a"', '"b"'])], outputs=("x", "y"))
    deployed = deploy(system, ("d.dmn", two), ("p.bpmn", process(mapping="singleEntry")))
    [warning] = {w for d in deployed for w in d.warnings if w.element == "rule"}
    assert "takes one output per result, and rule(s) 1 of 'decide' fill several" in (
        warning.message
    )


def test_single_entry_on_rules_filling_one_output_each_deploys_clean(system):
    each_one = table([(["> 5"], ['"a"', ""]), (["<= 5"], ["", '"b"'])], outputs=("x", "y"))
    deployed = deploy(system, ("d.dmn", each_one), ("p.bpmn", process(mapping="singleEntry")))
    assert not [w for d in deployed for w in d.warnings if w.element == "rule"]


def test_a_task_without_result_variable_deploys_with_a_warning(system):
    deployed = deploy(system, ("d.dmn", table(ONE_RULE)), ("p.bpmn", process(result_variable=None)))
    [warning] = {w for d in deployed for w in d.warnings if w.element == "rule"}
    assert "no camunda:resultVariable" in warning.message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (table(ONE_RULE, hit_policy="OUTPUT ORDER"), "hit policy 'OUTPUT ORDER' is not supported"),
        (table(ONE_RULE, aggregation="SUM"), "aggregation 'SUM' is not supported"),
        (
            table([(["-"], ["1", "2"])], outputs=("a", "b"), hit_policy="COLLECT",
                  aggregation="SUM"),
            "COLLECT with SUM needs exactly one output",
        ),
        (table(ONE_RULE, hit_policy="PRIORITY"), "hit policy PRIORITY needs output values"),
        (table(ONE_RULE, outputs=("",)), "output 'out0' has no name"),
        (table(ONE_RULE, output_type="date"), "output 'result': typeRef 'date' is not supported"),
        (table([(["-"], ["5"])], output_type="string"), "rule 1, output 'result': 5 is not"),
        (table([(["> limit"], ["1"])]), "rule 1, input 'In 0': names ('limit') are not supported"),
        (table([(['date("2026-01-01")'], ["1"])]), "rule 1, input 'In 0': date(...) values"),
        (table([(["[1..5"], ["1"])]), "rule 1, input 'In 0': the cell ends too early"),
        (table([(["-"], ["amount * 2"])]), "rule 1, output 'result': cannot read"),
        (table([(["-"], ["amount"])]), "rule 1, output 'result': names ('amount')"),
        (table([(["-", "-"], ["1"])]), "rule 1 has 2 input and 1 output cells for 1 inputs"),
        (table(ONE_RULE, inputs=("",)), "input 'In 0' has no input expression"),
        (table(ONE_RULE, inputs=("__import__('os')",)), "input 'In 0': "),
        (table(ONE_RULE, inputs=("${x.size()}",)), "input 'In 0': "),
    ],
)  # fmt: skip
def test_what_a_decision_table_cannot_run_is_refused_naming_the_decision(system, document, message):
    found = refusals(system, ("d.dmn", document))
    assert found, "refused"
    element, said = found[0]
    assert element == "decide"
    assert said.startswith(message), said


def _dmn(body: str) -> bytes:
    return (
        f'<definitions xmlns="{DMN13}" id="defs" name="d" namespace="n">{body}</definitions>'
    ).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '<decision id="lit"><literalExpression><text>1</text></literalExpression></decision>',
            "only decision tables are supported",
        ),
        (
            '<decision id="lit"><informationRequirement><requiredDecision href="#x"/>'
            '</informationRequirement><decisionTable><output name="o"/></decisionTable>'
            "</decision>",
            "requires decision 'x', which is not a decision table of this file",
        ),
        (
            '<decision id="lit"><decisionTable><input label="x"><inputExpression '
            'expressionLanguage="javascript"><text>x</text></inputExpression></input>'
            '<output name="o"/></decisionTable></decision>',
            "input 'x': expression language 'javascript' is not supported",
        ),
    ],
)
def test_other_dmn_constructs_are_refused(system, body, message):
    [(element, said), *_] = refusals(system, ("d.dmn", _dmn(body)))
    assert element == "lit"
    assert said.startswith(message)


def test_decisions_that_require_each_other_are_refused(system):
    cycle = (
        '<decision id="lit"><informationRequirement><requiredDecision href="#other"/>'
        '</informationRequirement><decisionTable><output name="o"/></decisionTable>'
        '</decision><decision id="other"><informationRequirement><requiredDecision '
        'href="#lit"/></informationRequirement><decisionTable><output name="p"/>'
        "</decisionTable></decision>"
    )
    assert refusals(system, ("d.dmn", _dmn(cycle))) == [
        ("other", "requires 'lit', which requires it in turn: a cycle")
    ]


def test_a_decision_id_longer_than_its_column_is_refused(system):
    long_id = "d" * 201
    [(element, said)] = refusals(system, ("d.dmn", table(ONE_RULE, decision_id=long_id)))
    assert (element, said) == (long_id, "a decision id is at most 200 characters: it is the key")


def test_a_decision_id_in_two_files_is_refused(system):
    found = refusals(system, ("a.dmn", table(ONE_RULE)), ("b.dmn", table(ONE_RULE)))
    assert found == [("decide", "decision 'decide' is also in a.dmn")]


def test_a_dmn_file_with_a_doctype_is_refused(system):
    hostile = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]>' + table(ONE_RULE)[38:]
    with pytest.raises(DefinitionInvalid) as caught:
        system.engine.deploy([("d.dmn", hostile)], SYSTEM)
    assert "DOCTYPE" in str(caught.value.problems[0])


def test_a_business_rule_task_does_not_consume_sensitive_fields(system):
    """It runs in the form's step but hands nothing to a handler: a user task after it
    still loses the fields, and the deploy says so."""
    form = (
        '<bpmn:extensionElements><camunda:formData><camunda:formField id="card" type="string">'
        '<camunda:properties><camunda:property id="sensitive" value="true"/>'
        "</camunda:properties></camunda:formField></camunda:formData></bpmn:extensionElements>"
    )
    diagram = (
        process(mapping="singleEntry")
        .decode()
        .replace('<bpmn:startEvent id="start"/>',
                 '<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" '
                 f'targetRef="pay"/><bpmn:userTask id="pay">{form}</bpmn:userTask>')
        .replace('id="f1" sourceRef="start"', 'id="f1" sourceRef="pay"')
    )  # fmt: skip
    found = refusals(system, ("d.dmn", table(ONE_RULE)), ("p.bpmn", diagram.encode()))
    assert [element for element, said in found if "are lost at 'look'" in said] == ["pay"]
