"""Camunda's user-task attributes `camunda:dueDate`, `camunda:followUpDate` and
`camunda:priority`, as the Modeler's "Due date", "Follow up date" and "Priority" write them.

Supported: a literal (an ISO 8601 date or date-time; a whole number for the priority) or
a JUEL expression (`${reviewDue}`, `${dateTime().plusDays(2)}`, `${vip ? 80 : 50}`),
evaluated when the task becomes ready. An expression the evaluator does not support is
refused at deploy; one that fails at run time is an incident at the task (`scopes.py`). A
value that is no usable date or number leaves the attribute unset (priority: Camunda's
default 50): these attributes order people's work, they are no reason to stop an instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from . import juel

# attribute -> work item column
COLUMNS = {"dueDate": "due_at", "followUpDate": "follow_up_at", "priority": "priority"}
DEFAULT_PRIORITY = 50
MAX_PRIORITY = 2**31 - 1
_VARIABLE = re.compile(r"[$#]\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}")
_INTEGER = re.compile(r"-?\d{1,10}")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-][0-9:]+)?")


def read(node: etree._Element) -> dict[str, str]:
    """The attributes a user task element sets, as written."""
    found = {}
    for name in COLUMNS:
        value = node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}")
        if value is not None and value.strip():
            found[name] = value.strip()
    return found


def check(name: str, text: str) -> str | None:
    """Why `text` cannot be the value of attribute `name`, or None when it can."""
    if juel.is_juel(text):
        reasons = juel.check(text)
        return f"camunda:{name}: {reasons[0]}" if reasons else None
    if name == "priority":
        if _INTEGER.fullmatch(text) and abs(int(text)) <= MAX_PRIORITY:
            return None
        return (
            f"camunda:priority {text!r} is not supported: use a whole number (50) "
            "or a variable (${priority})"
        )
    if to_datetime(text) is not None:
        return None
    return (
        f"camunda:{name} {text!r} is not supported: use an ISO date or date-time "
        f"(2027-01-31 or 2027-01-31T09:00:00Z) or a variable (${{{name}}})"
    )


def has_expressions(written: Mapping[str, str]) -> bool:
    return any(juel.is_juel(text) for text in written.values())


def resolve(
    written: Mapping[str, str],
    data: Mapping[str, Any],
    run: Callable[[str, Mapping[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """The work item's `due_at`, `follow_up_at` and `priority` for a task now ready;
    `run` evaluates expressions (without it only a variable alone is read)."""
    values: dict[str, Any] = {"due_at": None, "follow_up_at": None}
    values["priority"] = DEFAULT_PRIORITY
    for name, text in written.items():
        found = _VARIABLE.fullmatch(text)
        if found:
            raw = data.get(found[1])
        elif juel.is_juel(text):
            raw = run(text, data) if run is not None else None
        else:
            raw = text
        if name == "priority":
            values["priority"] = _to_priority(raw)
        else:
            values[COLUMNS[name]] = to_datetime(raw)
    return values


def to_datetime(raw: Any) -> datetime | None:
    """An ISO date (midnight UTC) or date-time (UTC when it names no zone), else None."""
    if isinstance(raw, datetime):
        parsed = raw
    elif isinstance(raw, date):
        parsed = datetime.combine(raw, time())
    elif isinstance(raw, str) and _ISO.fullmatch(raw):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _to_priority(raw: Any) -> int:
    if isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= MAX_PRIORITY:
        return raw
    return DEFAULT_PRIORITY
