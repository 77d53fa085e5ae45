"""Who a ready user task is for and its due date, follow-up date and priority, from the
attributes on its spec (`assignment.py`, `task_attributes.py`) and its data.

A task whose attributes hold JUEL is resolved when it becomes ready (`scopes.py`), inside
the step: an expression that fails there is an incident at the task, and the result is
kept in the task's internal data for the work item and the inbox queries. A task with
literal attributes only is resolved from its data whenever it is asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task

from . import assignment, task_attributes
from .assignment import Assignment
from .io_mapping import runner

RESOLVED = "tf_assigned"  # internal data of a ready user task: what resolve() returned
_HAS_EXPRESSIONS = "tf_has_expressions"


class AssignmentFailed(Exception):
    def __init__(self, where: str, reason: Exception) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def _written(spec: TaskSpec) -> tuple[Assignment, dict[str, str]]:
    return assignment.of_spec(spec), dict(getattr(spec, "task_attributes", {}) or {})


def is_user_task(spec: TaskSpec) -> bool:
    return getattr(spec, "assignment", None) is not None  # set by the user task parser


def has_expressions(spec: TaskSpec) -> bool:
    """Does a user task's assignment or attribute hold JUEL? Known once per spec: this is
    asked at every update of every task."""
    known = spec.__dict__.get(_HAS_EXPRESSIONS)
    if known is None:
        people, attributes = _written(spec)
        known = is_user_task(spec) and (
            assignment.has_expressions(people) or task_attributes.has_expressions(attributes)
        )
        setattr(spec, _HAS_EXPRESSIONS, known)
    return bool(known)


def resolve(spec: TaskSpec, task: Task) -> dict[str, Any]:
    """The names and attributes, as plain JSON for the task's internal data."""
    people, attributes = _written(spec)
    run = runner(task)
    try:
        named = assignment.resolve(people, task.data, run)
    except Exception as exc:
        raise AssignmentFailed("the task's assignment", exc) from exc
    try:
        values = task_attributes.resolve(attributes, task.data, run)
    except Exception as exc:
        raise AssignmentFailed("the task's due date, follow-up date or priority", exc) from exc
    return {
        "assignee": named.assignee,
        "users": list(named.users),
        "groups": list(named.groups),
        **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()},
    }


def of_task(task: Task) -> tuple[Assignment, dict[str, Any]]:
    """(people, work item columns due_at/follow_up_at/priority) of a ready user task."""
    spec = task.task_spec
    stored = task.internal_data.get(RESOLVED)
    if isinstance(stored, dict):
        people = Assignment(stored["assignee"], tuple(stored["users"]), tuple(stored["groups"]))
        columns = {
            "due_at": task_attributes.to_datetime(stored["due_at"]),
            "follow_up_at": task_attributes.to_datetime(stored["follow_up_at"]),
            "priority": stored["priority"],
        }
        return people, columns
    written, attributes = _written(spec)
    return assignment.resolve(written, task.data), task_attributes.resolve(attributes, task.data)
