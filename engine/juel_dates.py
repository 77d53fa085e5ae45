"""Date arithmetic in JUEL as Camunda diagrams write it: `${dateTime().plusDays(2)}`.

Camunda offers `dateTime()`, a Joda-Time DateTime of now, whose `plusDays(n)` and friends
make due dates and timer dates. Tokenflow offers that much and no more: `dateTime()` is the
engine clock's now (UTC), and a date or datetime value answers only the methods below, each
taking one whole number. `toDate()` is there because Camunda diagrams end with it; the value
is already a date. These are the only calls JUEL may make here.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from .juel_ops import JuelEvaluationError, as_number

FUNCTIONS = frozenset({"dateTime"})

_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "Seconds": "seconds",
        "Minutes": "minutes",
        "Hours": "hours",
        "Days": "days",
        "Weeks": "weeks",
        "Months": "months",
        "Years": "years",
    }
)
METHODS = frozenset({f"{sign}{unit}" for sign in ("plus", "minus") for unit in _UNITS} | {"toDate"})


def call_method(target: Any, name: str, arguments: list[Any]) -> Any:
    """`target.name(*arguments)` for the date methods above; anything else is refused."""
    if not isinstance(target, date):
        raise JuelEvaluationError(f".{name}(...) needs a date")
    if name == "toDate":
        _arity(name, arguments, 0)
        return target
    _arity(name, arguments, 1)
    amount = as_number(arguments[0])
    if isinstance(amount, float) and not amount.is_integer():
        raise JuelEvaluationError(f".{name}(...) takes a whole number")
    sign = 1 if name.startswith("plus") else -1
    unit = _UNITS[name.removeprefix("plus").removeprefix("minus")]
    if not isinstance(target, datetime) and unit in ("seconds", "minutes", "hours"):
        raise JuelEvaluationError(f"a date without a time has no {unit}")
    try:
        return _shifted(target, unit, sign * int(amount))
    except (OverflowError, ValueError):
        raise JuelEvaluationError(f".{name}(...) leaves the calendar") from None


def _arity(name: str, arguments: list[Any], expected: int) -> None:
    if len(arguments) != expected:
        raise JuelEvaluationError(f".{name}(...) takes {expected} argument(s)")


def _shifted(moment: date, unit: str, amount: int) -> date:
    if unit in ("months", "years"):
        months = amount * 12 if unit == "years" else amount
        # As Joda-Time does: the 31st plus one month is the last day of the next month.
        index = moment.year * 12 + moment.month - 1 + months
        year, month = divmod(index, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)
    return moment + timedelta(**{unit: amount})


def date_time(now: Callable[[], datetime] | None) -> datetime:
    if now is None:
        raise JuelEvaluationError("dateTime() needs the engine's clock, which is not given here")
    return now()
