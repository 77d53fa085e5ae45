"""What JUEL's operators do to Tokenflow's task data: the coercions of the EL specification
(section 1.18), on plain JSON-like values.

Decisions where the specification leaves room or Java differs from Python:
- `+` adds numbers; it never joins strings (as in EL, where `"a" + "b"` is an error). A
  string that holds a number counts as that number (`"5" + 1` is 6); null counts as 0.
- `/` and `div` divide as floats; `%` and `mod` keep the sign of the dividend (Java's
  remainder). Dividing by zero is an error here, where Java would give Infinity or NaN:
  no diagram means to compute with those.
- A variable no task data holds is an error, as in Camunda ("Unknown property used in
  expression"); a missing key of a dict or an index past a list's end gives null.
- `a.b` and `a["b"]` read dict keys, list items and the plain attributes the sandbox
  allows (`date.year`); never a method.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from . import script_guards as guards
from .script_budget import Budget, ScriptAccessDenied, comparable


class JuelError(ValueError):
    """A JUEL expression that cannot be compiled; the message names the expression and
    what is not supported."""


class JuelEvaluationError(ValueError):
    """A JUEL expression met a value its operator cannot take; the message says which."""


@dataclass(frozen=True)
class Scope:
    variables: Mapping[str, Any]
    budget: Budget
    now: Callable[[], datetime] | None = None


def variable(scope: Scope, name: str) -> Any:
    if name not in scope.variables:
        raise JuelEvaluationError(f"unknown variable {name!r} in the expression")
    return scope.variables[name]


_ESCAPES = {"\\": "\\", "'": "'", '"': '"'}


def unescape(body: str) -> str:
    """A string literal's text: EL knows only \\\\, \\' and \\\" as escapes."""
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPES.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


# -- property access ---------------------------------------------------------------------

_KEYS = (str, int, float, bool, type(None))


def read_property(target: Any, key: Any) -> Any:
    if target is None:
        return None
    if isinstance(target, dict):
        if not isinstance(key, _KEYS):
            raise JuelEvaluationError(f"a {type(key).__name__} cannot be a key")
        return target.get(key)
    if isinstance(target, list | tuple):
        index = _as_index(key)
        return target[index] if 0 <= index < len(target) else None
    if not isinstance(key, str):
        raise ScriptAccessDenied(f"'{type(target).__name__}' offers diagram code no items")
    value = guards.guarded_getattr(target, key)
    if callable(value):
        raise ScriptAccessDenied(
            f".{key} of a {type(target).__name__} is a method; JUEL here reads properties only"
        )
    return value


def _as_index(key: Any) -> int:
    number = as_number(key)
    if isinstance(number, float) and not number.is_integer():
        raise JuelEvaluationError("a list index must be a whole number")
    return int(number)


# -- coercions ---------------------------------------------------------------------------


def as_boolean(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise JuelEvaluationError(f"{_shown(value)} cannot be read as true or false")


def as_number(value: Any) -> int | float | Decimal:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise JuelEvaluationError(f"{_shown(value)} cannot be read as a number")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            pass
    raise JuelEvaluationError(f"{_shown(value)} cannot be read as a number")


def as_text(value: Any) -> str:
    """A value as composite text shows it: null as nothing, booleans as Java writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict | set | frozenset):
        return len(value) == 0
    return False


_KINDS = (
    (bool, "true or false"),
    (str, "text"),
    (int | float | Decimal, "a number"),
    (datetime | date, "a date"),
    (timedelta, "a duration"),
    (dict, "a map"),
    (list | tuple | set | frozenset, "a list"),
)


def _shown(value: Any) -> str:
    """What a value is, in EL's words: an error names the kind, never the value, which
    may be a customer's data and ends up in an incident."""
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


def _pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Both numbers, of one kind: Decimal meets float as float, as Java's double would."""
    a, b = as_number(left), as_number(right)
    if isinstance(a, float) and isinstance(b, Decimal):
        b = float(b)
    elif isinstance(b, float) and isinstance(a, Decimal):
        a = float(a)
    return a, b


# -- arithmetic --------------------------------------------------------------------------


def negate(value: Any) -> Any:
    return -as_number(value)


def add(left: Any, right: Any) -> Any:
    a, b = _pair(left, right)
    return a + b


def subtract(left: Any, right: Any) -> Any:
    a, b = _pair(left, right)
    return a - b


def multiply(left: Any, right: Any) -> Any:
    a, b = _pair(left, right)
    return guards.guarded_mul(a, b)


def divide(left: Any, right: Any) -> Any:
    a, b = _pair(left, right)
    if b == 0:
        raise JuelEvaluationError("division by zero")
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(a) / Decimal(b)
    return float(a) / float(b)


def remainder(left: Any, right: Any) -> Any:
    a, b = _pair(left, right)
    if b == 0:
        raise JuelEvaluationError("division by zero (mod)")
    if isinstance(a, int) and isinstance(b, int):
        magnitude = abs(a) % abs(b)
        return -magnitude if a < 0 else magnitude
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(a) % Decimal(b)  # Decimal's % already keeps the dividend's sign
    return math.fmod(a, b)


# -- comparisons -------------------------------------------------------------------------

_NUMBERS = (int, float, Decimal)
_ORDERED = (str, date, datetime, timedelta)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


def equals(left: Any, right: Any) -> bool:
    if left is right:
        return True
    if left is None or right is None:
        return False
    if _is_number(left) or _is_number(right):
        a, b = _pair(left, right)
        return bool(a == b)
    if isinstance(left, bool) or isinstance(right, bool):
        return as_boolean(left) == as_boolean(right)
    if isinstance(left, str) or isinstance(right, str):
        return as_text(left) == as_text(right)
    return bool(comparable(left) == comparable(right))


def _ordering(compare: Callable[[Any, Any], bool], or_equal: bool) -> Callable[[Any, Any], bool]:
    def ordered(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return or_equal and left is right
        if _is_number(left) or _is_number(right):
            return compare(*_pair(left, right))
        for kind in _ORDERED:
            if isinstance(left, kind) and isinstance(right, kind):
                return compare(left, right)
        raise JuelEvaluationError(f"{_shown(left)} and {_shown(right)} cannot be ordered")

    return ordered


BINARY: Mapping[str, Callable[[Any, Any], Any]] = MappingProxyType(
    {
        "+": add,
        "-": subtract,
        "*": multiply,
        "/": divide,
        "div": divide,
        "%": remainder,
        "mod": remainder,
        "==": equals,
        "eq": equals,
        "!=": lambda a, b: not equals(a, b),
        "ne": lambda a, b: not equals(a, b),
        "<": _ordering(operator.lt, False),
        "lt": _ordering(operator.lt, False),
        ">": _ordering(operator.gt, False),
        "gt": _ordering(operator.gt, False),
        "<=": _ordering(operator.le, True),
        "le": _ordering(operator.le, True),
        ">=": _ordering(operator.ge, True),
        "ge": _ordering(operator.ge, True),
    }
)
