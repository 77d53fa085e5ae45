"""Assignment and task attributes written as any JUEL the evaluator supports: evaluated
when the task becomes ready (input parameters included), lists for candidates, dates from
`dateTime()`; an expression that fails there is an incident at the task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.assignment import decode
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import ProcessIncident
from engine.models import WorkItem
from tests.builders import ADMIN, CUSTOMER, engine_system, only_task
from tests.engine.builders import Recorder, deploy, diagram, io, param

SETUP = (
    '<bpmn:scriptTask id="setup" scriptFormat="python"><bpmn:script>'
    'amount = 1500\nreviewers = ["gina", "hal"]\nvip = True'
    "</bpmn:script></bpmn:scriptTask>"
)


@pytest.fixture
def system(config):
    return engine_system(config, Recorder().registry)


def user_task(attributes: str, extensions: str = "") -> str:
    return (
        f'<bpmn:userTask id="review" {attributes}>'
        f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements></bpmn:userTask>"
    )


def ready(system, attributes: str, extensions: str = "") -> dict:
    deploy(system, ("p.bpmn", diagram("p", SETUP, user_task(attributes, extensions))))
    system.engine.start("p", CUSTOMER)
    return only_task(system, ADMIN)


def test_assignee_and_candidates_from_expressions_with_lists(system):
    task = ready(
        system,
        "camunda:assignee=\"${amount > 1000 ? 'gina' : 'hal'}\" "
        'camunda:candidateUsers="${reviewers}, ivy" '
        "camunda:candidateGroups=\"${vip ? 'support_leads' : 'support'}, finance\"",
    )
    assert task["assignee"] == "gina"
    with unit_of_work(system.session_factory) as s:
        item = s.get(WorkItem, task["id"])
        users, groups = decode(item.candidate_users), decode(item.candidate_groups)
    assert set(users) == {"gina", "hal", "ivy"}
    assert groups == ("support_leads", "finance")


def test_assignment_sees_the_tasks_input_parameters(system):
    mapping = io(param("input", "approver", "${amount > 1000 ? 'lead' : 'clerk'}"))
    task = ready(system, 'camunda:assignee="${approver}"', mapping)
    assert task["assignee"] == "lead"


def test_due_and_follow_up_dates_and_priority_from_expressions(system):
    task = ready(
        system,
        'camunda:dueDate="${dateTime().plusDays(2)}" '
        'camunda:followUpDate="${dateTime().plusHours(4).toDate()}" '
        'camunda:priority="${vip ? 80 : 50}"',
    )
    due = datetime.fromisoformat(task["due_at"]).astimezone(UTC)
    assert abs(due - (clock.now() + timedelta(days=2))) < timedelta(minutes=1)
    follow_up = datetime.fromisoformat(task["follow_up_at"]).astimezone(UTC)
    assert abs(follow_up - (clock.now() + timedelta(hours=4))) < timedelta(minutes=1)
    assert task["priority"] == 80


@pytest.mark.parametrize(
    "attributes",
    [
        'camunda:assignee="${owner.name}"',
        'camunda:candidateGroups="${amount / 0}"',
        'camunda:dueDate="${missing.plusDays(1)}"',
    ],
)
def test_an_expression_that_fails_when_the_task_becomes_ready_is_an_incident_there(
    system, attributes
):
    deploy(system, ("p.bpmn", diagram("p", SETUP, user_task(attributes))))
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("p", CUSTOMER)
    assert caught.value.element == "review"
