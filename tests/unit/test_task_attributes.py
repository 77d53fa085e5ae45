"""Camunda's dueDate, followUpDate and priority: what deploys and what a task gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import task_attributes


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dueDate", "2027-01-31"),
        ("dueDate", "2027-01-31T09:00:00"),
        ("followUpDate", "2027-01-31T09:00:00+02:00"),
        ("dueDate", "${reviewDue}"),
        ("priority", "80"),
        ("priority", "#{ priority }"),
    ],
)
def test_a_literal_or_a_plain_variable_deploys(name: str, text: str) -> None:
    assert task_attributes.check(name, text) is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "dueDate",
            "${dateTime().withDayOfWeek(1)}",
            "camunda:dueDate: ${dateTime().withDayOfWeek(1)}: method calls such as "
            ".withDayOfWeek(...) are not supported; read properties and compute with operators"
            " (dates: plusDays(n) and the like)",
        ),
        (
            "dueDate",
            "next week",
            "camunda:dueDate 'next week' is not supported: use an ISO date or date-time "
            "(2027-01-31 or 2027-01-31T09:00:00Z) or a variable (${dueDate})",
        ),
        (
            "priority",
            "high",
            "camunda:priority 'high' is not supported: use a whole number (50) or a "
            "variable (${priority})",
        ),
    ],
)
def test_anything_else_is_refused_saying_what_to_write(name: str, text: str, message: str) -> None:
    assert task_attributes.check(name, text) == message


def test_a_date_without_a_zone_is_utc_and_a_variable_is_read_from_task_data() -> None:
    written = {"dueDate": "2027-01-31T09:00:00", "followUpDate": "${later}", "priority": "${p}"}
    resolved = task_attributes.resolve(written, {"later": "2027-02-01", "p": "7"})
    assert resolved == {
        "due_at": datetime(2027, 1, 31, 9, tzinfo=UTC),
        "follow_up_at": datetime(2027, 2, 1, tzinfo=UTC),
        "priority": 7,
    }


def test_a_variable_without_a_usable_value_leaves_the_defaults() -> None:
    written = {"dueDate": "${due}", "priority": "${p}"}
    resolved = task_attributes.resolve(written, {"due": "soon", "p": True})
    assert resolved == {"due_at": None, "follow_up_at": None, "priority": 50}
