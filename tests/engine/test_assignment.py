"""Camunda 7's assignment attributes on user tasks: read as written, resolved to names
with the task's data when the task becomes ready, and refused at deploy when they are
an expression Tokenflow does not evaluate yet."""

from __future__ import annotations

import pytest

from engine.assignment import Assignment, check, decode, encode, of_element, resolve
from engine.errors import WARNING
from engine.parser import read_file

ROLES = {"customer", "support", "finance", "admin"}


def user_task(attributes: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:userTask id="t" {attributes} />
  </bpmn:process>
</bpmn:definitions>""".encode()


def written(attributes: str) -> Assignment:
    root = read_file("p.bpmn", user_task(attributes)).root
    [task] = root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    return of_element(task)


def problems(attributes: str, groups: set[str] = ROLES) -> list[tuple[str, str]]:
    found = check([read_file("p.bpmn", user_task(attributes))], groups)
    assert all(p.element == "t" and p.file == "p.bpmn" for p in found)
    return [(p.severity, p.message) for p in found]


def test_the_attributes_are_read_as_comma_separated_names_with_spaces_ignored():
    assert written(
        'camunda:assignee=" demo " camunda:candidateUsers="gina, hal,," '
        'camunda:candidateGroups="support ,night_shift"'
    ) == Assignment("demo", ("gina", "hal"), ("support", "night_shift"))


def test_a_task_without_the_attributes_names_nobody():
    assert written("").is_empty


@pytest.mark.parametrize("expression", ["${reviewer}", "#{reviewer}", "${ reviewer }"])
def test_a_variable_names_the_person_it_holds_when_the_task_becomes_ready(expression):
    found = resolve(Assignment(expression), {"reviewer": "gina"})
    assert found == Assignment("gina")


def test_a_variable_of_candidates_may_hold_a_list_or_a_comma_separated_string():
    found = resolve(
        Assignment(users=("${people}", "hal"), groups=("${teams}",)),
        {"people": ["gina", "ivy"], "teams": "support, night_shift"},
    )
    assert found == Assignment(None, ("gina", "ivy", "hal"), ("support", "night_shift"))


@pytest.mark.parametrize("value", [None, 7, {"name": "gina"}, "", "not a name!", ["a,b"], [3]])
def test_a_variable_that_holds_no_name_names_nobody(value):
    data = {} if value is None else {"who": value}
    assert resolve(Assignment("${who}", ("${who}",), ("${who}",)), data).is_empty


def test_candidate_lists_are_stored_so_that_a_name_is_found_whole():
    assert encode(["gina", "hal"]) == ",gina,hal,"
    assert encode([]) is None
    assert decode(",gina,hal,") == ("gina", "hal")
    assert decode(None) == ()


def test_names_and_single_variables_deploy_without_a_finding():
    assert problems('camunda:assignee="${who}" camunda:candidateGroups="support, ${teams}"') == []


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            'camunda:assignee="${loan.owners.size()}"',
            "camunda:assignee: ${loan.owners.size()}: method calls such as .size(...) are not"
            " supported; read properties and compute with operators (dates: plusDays(n) and"
            " the like)",
        ),
        (
            'camunda:candidateGroups="#{approvers()}"',
            "camunda:candidateGroups: #{approvers()}: function calls such as approvers(...)"
            " are not supported; dateTime() is the one function",
        ),
        (
            'camunda:candidateUsers="gina, Hal Smith"',
            "camunda:candidateUsers 'Hal Smith' is not a name: names have letters, digits"
            " and . - _ @ only",
        ),
    ],
)
def test_what_cannot_be_resolved_to_names_is_refused_at_deploy_naming_it(attributes, message):
    assert problems(attributes) == [("error", message)]


def test_a_candidate_group_that_is_neither_role_nor_group_is_a_warning():
    assert problems('camunda:candidateGroups="night_shift"') == [
        (
            WARNING,
            "camunda:candidateGroups names 'night_shift', which is neither a role nor a group"
            " yet: until an admin creates it, its tasks go to the others named and to admins",
        )
    ]
    assert problems('camunda:candidateGroups="night_shift"', ROLES | {"night_shift"}) == []


def test_commas_inside_an_expression_do_not_split_the_attribute():
    assert written("camunda:candidateUsers=\"${amount > 10 ? 'gina,hal' : 'ivy'}, jo\"").users == (
        "${amount > 10 ? 'gina,hal' : 'ivy'}",
        "jo",
    )


def test_an_expression_may_give_a_list_of_names_or_comma_separated_names():
    def run(text, data):
        return ["gina", "hal"] if "list" in text else "ivy, jo"

    found = resolve(Assignment(users=("${team.list}", "${team.text}")), {}, run)
    assert found.users == ("gina", "hal", "ivy", "jo")
