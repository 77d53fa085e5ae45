"""What kind of SpiffWorkflow task this is, and what a waiting one waits for."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.task import Task


def is_service(task: Task) -> bool:
    return isinstance(task.task_spec, ServiceTask)


def is_user(task: Task) -> bool:
    return isinstance(task.task_spec, UserTask)


def definitions_of(task: Task) -> list[Any]:
    """The event definitions a waiting task listens for: an event-based gateway (or a
    multiple event) waits for all of its branches' events at once."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def is_timer(task: Task) -> bool:
    return any(isinstance(d, TimerEventDefinition) for d in definitions_of(task))


def message_names(task: Task) -> list[str]:
    return [d.name for d in definitions_of(task) if isinstance(d, MessageEventDefinition)]
