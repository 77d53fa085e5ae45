"""Checks on the code a diagram carries: conditions, scripts, multi-instance and timer
expressions. Each returns the reasons in words, empty when there are none."""

from __future__ import annotations

import ast
import re
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import juel
from .scripting import check_expression, is_juel
from .timer_text import literal_timer_value

_ISO_DURATION = re.compile(
    r"P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?",
    re.IGNORECASE,
)
# Quartz/Camunda cron: five to seven fields of digits, ranges, lists, steps, names, ? L W #.
_CRON = re.compile(r"([\d*?/,\-LW#A-Za-z]+\s+){4,6}[\d*?/,\-LW#A-Za-z]+")

_DURATION_FORM = 'an ISO 8601 duration such as "PT24H", "P3D" or "P1Y2M"'
_CYCLE_FORM = 'an ISO 8601 repeating interval such as "R/P1D" or "R3/PT10M"'


def check_condition(text: str | None) -> list[str]:
    """A sequence flow's condition: present, and a safe Python or a supported JUEL expression."""
    if not (text or "").strip():
        return ["condition is empty: write one, or remove the conditionExpression"]
    return [f"condition: {p}" for p in _value_problems(text or "")]


def _value_problems(text: str) -> list[str]:
    problems = check_expression(text)
    if not problems and is_juel(text) and juel.is_text(text):
        # Text around ${...} makes a string, and any non-empty string counts as true.
        return [f"{text.strip()} is text with expressions in it; write one ${{...}} expression"]
    return problems


def check_multi_instance(label: str, text: str | None) -> list[str]:
    """A multi-instance cardinality, collection or completion condition: the same
    checks as a condition, since each is evaluated on the task's data."""
    if not (text or "").strip():
        return [f"multi-instance {label} is empty"]
    if label == "collection" and is_juel(text or ""):
        # SpiffWorkflow reads camunda:collection as the name of a variable; the parser has
        # already made `${items}` into `items`, so this one is more than a name.
        return [
            f"multi-instance collection {(text or '').strip()}: name a variable, as "
            "${items} or items; a collection cannot be computed here"
        ]
    return [f"multi-instance {label}: {p}" for p in _value_problems(text or "")]


def check_timer(text: str, kind: str) -> list[str]:
    """A timer is literal ISO 8601 text (`PT10M`), a quoted one (`"PT10M"`) or an
    expression (Python or JUEL) that gives one at run time; a literal must be valid."""
    text = text.strip()
    if not text:
        return [f"{kind} is empty"]
    if literal_timer_value(text) is not None:
        reason = timer_literal_problem(text, kind)
        return [f"timer {text} is not a valid ISO 8601 {kind}: {reason}"] if reason else []
    if _CRON.fullmatch(text):
        return [_cron_reason(text)]
    problems = check_expression(text)
    if problems:
        return [f"timer: {p}" for p in problems]
    if is_juel(text):  # its value is known only at run time
        return []
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return [f"timer {text} must be a string"]
        reason = timer_literal_problem(node.value, kind)
        if reason:
            return [f"timer {node.value!r} is not a valid ISO 8601 {kind}: {reason}"]
    return []


def looks_iso(text: str) -> bool:
    """Whether `text` is an ISO 8601 duration, date or cycle written without quotes."""
    return literal_timer_value(text) is not None


def _cron_reason(text: str) -> str:
    return (
        f"timer {text!r} is a cron expression, and Tokenflow's timers have no cron; "
        f"write {_CYCLE_FORM}"
    )


def timer_literal_problem(value: str, kind: str) -> str | None:
    """Why `value` is no valid `kind` (timeDuration, timeDate, timeCycle), or None."""
    value = value.strip()
    if kind == "timeCycle" and _CRON.fullmatch(value):
        return f"it is a cron expression, and Tokenflow's timers have no cron; write {_CYCLE_FORM}"
    try:
        if kind == "timeDuration":
            return _duration_problem(value)
        if kind == "timeCycle":
            return _cycle_problem(value)
        return _date_problem(value)
    except Exception as exc:  # SpiffWorkflow's parsers raise whatever they meet
        return str(exc) or type(exc).__name__


def _duration_problem(value: str) -> str | None:
    if not _ISO_DURATION.fullmatch(value):
        return f"write {_DURATION_FORM}"
    TimerEventDefinition.parse_iso_duration(value)
    return None


def _cycle_problem(value: str) -> str | None:
    parts = value.split("/")
    repetitions = parts[0][1:]
    if not parts[0].upper().startswith("R") or (repetitions and not repetitions.isdigit()):
        return f"a cycle starts with R or Rn (n repetitions); write {_CYCLE_FORM}"
    if len(parts) not in (2, 3):
        return f"write {_CYCLE_FORM}, optionally with a start: R3/2026-01-01T09:00:00Z/P1D"
    durations = [p for p in parts[1:] if p.upper().startswith("P")]
    if len(durations) != 1:
        return f"a cycle needs exactly one duration; write {_CYCLE_FORM}"
    for part in parts[1:]:
        reason = _duration_problem(part) if part in durations else _date_problem(part)
        if reason:
            return reason
    TimerEventDefinition.parse_iso_recurring_interval(value)
    return None


def _date_problem(value: str) -> str | None:
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        return f"{exc}; write a date and time such as 2026-12-31T09:00:00+00:00"
    TimerEventDefinition.get_datetime(value)
    return None
