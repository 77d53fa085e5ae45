"""Who may start a process: Camunda 7's starter attributes, read at deploy and checked
when a person starts an instance (never when the engine does)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.actors import Actor
from engine.db import unit_of_work
from engine.errors import DefinitionInvalid, Forbidden
from engine.models import Group, ProcessDefinition, ProcessInstance
from engine.parser import parse_xml
from engine.registry import Registry
from engine.starters import describe, may_start, of_process
from tests.builders import engine_system
from tests.engine.builders import STRAIGHT, starter_diagram

ALICE = Actor("alice", frozenset({"customer"}), user_id=101)
BOB = Actor("bob", frozenset({"customer"}), user_id=102)
SAM = Actor("sam", frozenset({"support"}), user_id=201)
FRAN = Actor("fran", frozenset({"finance"}), user_id=202)
ROOT = Actor("root", frozenset({"admin"}), user_id=1)


SPAWNING = """
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="spawn" />
    <bpmn:serviceTask id="spawn" camunda:type="external" camunda:topic="spawn" />
    <bpmn:sequenceFlow id="f2" sourceRef="spawn" targetRef="end" />
    <bpmn:endEvent id="end" />"""


def starters_of(attributes: str) -> dict:
    return of_process(parse_xml(starter_diagram("p", attributes)), "p")


def test_a_process_without_starter_attributes_is_unrestricted_and_startable():
    assert starters_of("") == {"groups": None, "users": None, "startable": True}


def test_starter_groups_and_users_are_comma_separated_names_with_spaces_ignored():
    found = starters_of(
        'camunda:candidateStarterGroups=" support ,customer,," '
        'camunda:candidateStarterUsers="alice, bob"'
    )
    assert found == {
        "groups": ["customer", "support"],
        "users": ["alice", "bob"],
        "startable": True,
    }


def test_an_empty_starter_attribute_names_nobody_rather_than_everybody():
    assert starters_of('camunda:candidateStarterGroups=""')["groups"] == []


@pytest.mark.parametrize("value", ["false", "False", " FALSE "])
def test_is_startable_in_tasklist_false_marks_a_process_only_the_engine_starts(value):
    assert starters_of(f'camunda:isStartableInTasklist="{value}"')["startable"] is False


def test_any_other_is_startable_in_tasklist_value_keeps_camundas_default_of_true():
    assert starters_of('camunda:isStartableInTasklist="true"')["startable"] is True


@pytest.mark.parametrize(
    ("attributes", "allowed"),
    [
        ("", {SAM, FRAN, ROOT}),
        ('camunda:candidateStarterGroups="customer"', {ALICE, BOB, ROOT}),
        ('camunda:candidateStarterGroups="support"', {SAM, ROOT}),
        ('camunda:candidateStarterUsers="alice"', {ALICE, ROOT}),
        (
            'camunda:candidateStarterGroups="finance" camunda:candidateStarterUsers="bob"',
            {BOB, FRAN, ROOT},
        ),
        ('camunda:candidateStarterGroups=""', {ROOT}),
        ('camunda:candidateStarterGroups="customer" camunda:isStartableInTasklist="false"', {ROOT}),
        ('camunda:isStartableInTasklist="false"', {ROOT}),
    ],
    ids=[
        "unmarked: staff, not customers",
        "customer group",
        "support group",
        "one user by name",
        "a group or a user",
        "empty group list: admins only",
        "not startable wins over groups",
        "not startable: admins only",
    ],
)
def test_who_may_start_follows_the_attributes_and_admins_may_start_anything(attributes, allowed):
    rule = starters_of(attributes)
    assert {a for a in (ALICE, BOB, SAM, FRAN, ROOT) if may_start(a, rule)} == allowed


def registry() -> Registry:
    reg = Registry()
    reg.handler("tick")(lambda ctx: {})

    @reg.handler()
    def spawn(ctx):
        ctx.start_process("internal", {})

    return reg


@pytest.fixture
def system(config):
    return engine_system(config, registry())


def deploy(system, key: str, attributes: str = "", body: str = STRAIGHT) -> None:
    system.engine.deploy([(f"{key}.bpmn", starter_diagram(key, attributes, body))], ROOT)


def instances_of(system, key: str) -> int:
    with unit_of_work(system.session_factory) as s:
        return s.scalar(
            select(func.count())
            .select_from(ProcessInstance)
            .where(ProcessInstance.process_key == key)
        )


def test_a_deploy_stores_who_may_start_each_version(system):
    deploy(system, "p", 'camunda:candidateStarterUsers="alice"')
    deploy(system, "p", 'camunda:isStartableInTasklist="false"')
    with unit_of_work(system.session_factory) as s:
        rows = s.scalars(select(ProcessDefinition).order_by(ProcessDefinition.version))
        assert [(r.version, r.starters) for r in rows] == [
            (1, {"groups": None, "users": ["alice"], "startable": True}),
            (2, {"groups": None, "users": None, "startable": False}),
        ]


def test_the_engine_refuses_a_customer_a_process_not_marked_for_customers(system):
    deploy(system, "staff_only")
    with pytest.raises(Forbidden, match="may not start the process 'staff_only'"):
        system.engine.start("staff_only", ALICE)
    assert system.engine.start("staff_only", SAM)["status"] == "completed"


def test_the_latest_version_decides_who_may_start(system):
    deploy(system, "p", 'camunda:candidateStarterUsers="alice"')
    assert system.engine.start("p", ALICE)["status"] == "completed"
    deploy(system, "p", 'camunda:candidateStarterUsers="bob"')
    with pytest.raises(Forbidden):
        system.engine.start("p", ALICE)
    assert system.engine.start("p", BOB)["status"] == "completed"


def test_a_process_only_the_engine_starts_says_so_to_a_person_who_tries(system):
    deploy(system, "internal", 'camunda:isStartableInTasklist="false"')
    with pytest.raises(Forbidden, match="started by Tokenflow itself"):
        system.engine.start("internal", SAM)
    assert system.engine.start("internal", ROOT)["status"] == "completed"


def test_a_refused_start_leaves_no_instance_behind(system):
    deploy(system, "internal", 'camunda:isStartableInTasklist="false"')
    with pytest.raises(Forbidden):
        system.engine.start("internal", ALICE)
    assert instances_of(system, "internal") == 0


def test_a_handler_starts_a_process_that_no_person_but_an_admin_may_start(system):
    deploy(system, "internal", 'camunda:isStartableInTasklist="false"')
    deploy(system, "spawner", 'camunda:candidateStarterGroups="customer"', SPAWNING)
    assert system.engine.start("spawner", ALICE)["status"] == "completed"
    assert instances_of(system, "internal") == 1


def test_a_call_activity_runs_a_process_that_no_person_but_an_admin_may_start(config):
    system = engine_system(config, registry(), "call_child.bpmn", "call_parent.bpmn")
    with pytest.raises(Forbidden):
        system.engine.start("call_child", ALICE)
    assert "inner" in system.engine.start("call_parent", ALICE)["active"]


def test_a_deploy_refuses_a_starter_group_that_is_no_role(system):
    with pytest.raises(DefinitionInvalid) as refused:
        deploy(system, "p", 'camunda:candidateStarterGroups="customer, customers"')
    [problem] = refused.value.problems
    assert (problem.file, problem.element) == ("p.bpmn", "p")
    assert "'customers', which is neither a role nor a group" in problem.message


def test_a_group_an_admin_made_may_be_named_as_starters_and_its_members_start(system):
    with unit_of_work(system.session_factory) as s:
        s.add(Group(name="fraud_desk"))
    deploy(system, "p", 'camunda:candidateStarterGroups="fraud_desk"')
    member = Actor("fran", frozenset({"finance"}), user_id=202, member_of=frozenset({"fraud_desk"}))
    assert system.engine.start("p", member)["status"] == "completed"
    with pytest.raises(Forbidden):
        system.engine.start("p", FRAN)


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        ("", "staff of any role and admins; no customers (the diagram names no starters)"),
        (
            'camunda:isStartableInTasklist="false"',
            "Tokenflow itself (call activities, handlers) and admins",
        ),
        (
            'camunda:candidateStarterGroups="customer,support" camunda:candidateStarterUsers="bob"',
            "the groups customer, support; the user bob; admins",
        ),
        ('camunda:candidateStarterGroups=""', "admins only"),
    ],
)
def test_who_may_start_is_described_in_words_for_the_analyst(attributes, words):
    assert describe(starters_of(attributes)) == words
