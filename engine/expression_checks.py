"""Checks on the code a diagram carries: conditions, scripts, multi-instance and timer
expressions. Each returns the reasons in words, empty when there are none."""

from __future__ import annotations

import ast
import re
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .scripting import check_expression

# An unquoted ISO 8601 duration or cycle (`PT24H`, `R3/P1D`), told apart from a variable
# such as `renewal_reminder_at` that holds the value.
_ISO_LIKE = re.compile(r"(R\d*/)?P(\d|T\d)[\dYMWDTHS.,]*", re.IGNORECASE)
_ISO_DURATION = re.compile(
    r"P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?",
    re.IGNORECASE,
)
# Quartz/Camunda cron: five to seven fields of digits, ranges, lists, steps, names, ? L W #.
_CRON = re.compile(r"([\d*?/,\-LW#A-Za-z]+\s+){4,6}[\d*?/,\-LW#A-Za-z]+")
# Camunda 7 diagrams carry JUEL (`${amount > 100}`), which is not Python.
_JUEL = re.compile(r"\s*[$#]\{.*\}\s*", re.DOTALL)

_DURATION_FORM = 'an ISO 8601 duration such as "PT24H", "P3D" or "P1Y2M"'
_CYCLE_FORM = 'an ISO 8601 repeating interval such as "R/P1D" or "R3/PT10M"'


def check_condition(text: str | None) -> list[str]:
    """A sequence flow's condition: present and a safe Python expression."""
    if not (text or "").strip():
        return ["condition is empty: write one, or remove the conditionExpression"]
    return [f"condition: {p}" for p in _expression_problems(text or "")]


def check_multi_instance(label: str, text: str | None) -> list[str]:
    """A multi-instance cardinality, collection or completion condition: the same
    checks as a condition, since each is evaluated on the task's data."""
    if not (text or "").strip():
        return [f"multi-instance {label} is empty"]
    return [f"multi-instance {label}: {p}" for p in _expression_problems(text or "")]


def _expression_problems(text: str) -> list[str]:
    if _JUEL.fullmatch(text):
        return [f"{text.strip()} is a JUEL expression; diagram code here is Python"]
    return check_expression(text)


def check_timer(text: str, kind: str) -> list[str]:
    """A timer is a Python expression; a literal must also be a valid ISO 8601 value."""
    text = text.strip()
    if not text:
        return [f"{kind} is empty"]
    if looks_iso(text):
        return [f'timer {text} must be quoted: "{text}"']
    if _CRON.fullmatch(text):
        return [_cron_reason(text)]
    problems = _expression_problems(text)
    if problems:
        return [f"timer: {p}" for p in problems]
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            return [f"timer {text} must be a string"]
        reason = timer_literal_problem(node.value, kind)
        if reason:
            return [f"timer {node.value!r} is not a valid ISO 8601 {kind}: {reason}"]
    return []


def looks_iso(text: str) -> bool:
    """Whether `text` is an ISO 8601 duration or cycle written without quotes."""
    return _ISO_LIKE.fullmatch(text) is not None


def _cron_reason(text: str) -> str:
    return f"timer {text!r} is a cron expression; timers take {_CYCLE_FORM}"


def timer_literal_problem(value: str, kind: str) -> str | None:
    """Why `value` is no valid `kind` (timeDuration, timeDate, timeCycle), or None."""
    value = value.strip()
    if kind == "timeCycle" and _CRON.fullmatch(value):
        return f"it is a cron expression; write {_CYCLE_FORM}"
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
