"""The run-time half of the diagram-code sandbox: what checked code calls instead of Python's
own attribute access, item access and size-growing operators.

`engine/script_syntax.py` rewrites every `x.name` into `_tf_getattr(x, "name")`, every `x[k]`
into `_tf_getitem(x, k)`, the operators that can make huge values (`+ * ** << %`) into calls
of the functions below, and ticks the budget (`script_budget.py`) in every loop. What the
rewritten code can touch is therefore decided here, by type, with an allowlist: plain data
(str, int, float, bool, None, list, tuple, dict, set, frozenset, date, datetime, timedelta,
Decimal) and a few of their methods. Nothing here hands out a type, a module, a function's
globals, a frame or a bound method of anything but plain data.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .script_budget import (
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_STRING,
    ScriptAccessDenied,
    comparable,
    measure,
    ticking,
    too_large,
)

# -- attributes and items ----------------------------------------------------------------

_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier",
        "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join",
        "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "upper", "zfill",
    }
)  # fmt: skip
_NUMBER_ATTRIBUTES = frozenset({"bit_length", "real", "imag", "numerator", "denominator"})
_DATE_ATTRIBUTES = frozenset(
    {"year", "month", "day", "isoformat", "weekday", "isoweekday", "toordinal", "replace"}
)
_SET_METHODS = frozenset(
    {
        "add", "clear", "copy", "difference", "discard", "intersection", "isdisjoint",
        "issubset", "issuperset", "pop", "remove", "symmetric_difference", "union", "update",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: Mapping[type, frozenset[str]] = MappingProxyType(
    {
        str: _STR_METHODS,
        int: _NUMBER_ATTRIBUTES,
        bool: _NUMBER_ATTRIBUTES,
        float: frozenset({"is_integer", "real", "imag"}),
        Decimal: frozenset({"is_zero", "is_signed", "adjusted", "quantize", "normalize"}),
        list: frozenset(
            {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove"}
            | {"reverse", "sort"}
        ),
        tuple: frozenset({"count", "index"}),
        dict: frozenset(
            {"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update"}
            | {"values"}
        ),
        set: _SET_METHODS,
        frozenset: frozenset(
            {"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset"}
            | {"symmetric_difference", "union"}
        ),
        date: _DATE_ATTRIBUTES,
        datetime: _DATE_ATTRIBUTES
        | {"hour", "minute", "second", "microsecond", "date", "timestamp", "astimezone"},
        timedelta: frozenset({"days", "seconds", "microseconds", "total_seconds"}),
    }
)
# Every attribute name any plain type offers: the syntax check refuses all others up front.
ATTRIBUTE_NAMES = frozenset().union(*ALLOWED_ATTRIBUTES.values())
_SUBSCRIPTABLE = (str, bytes, list, tuple, dict, range)


def guarded_getattr(obj: Any, name: str) -> Any:
    allowed = ALLOWED_ATTRIBUTES.get(type(obj))
    if allowed is None or name not in allowed:
        raise ScriptAccessDenied(
            f"'{type(obj).__name__}' offers diagram code no attribute '.{name}'"
        )
    value = getattr(obj, name)
    checked = _CHECKED_METHODS.get((type(obj), name))
    return value if checked is None else checked(obj, value)


def guarded_getitem(obj: Any, key: Any) -> Any:
    if type(obj) not in _SUBSCRIPTABLE:
        raise ScriptAccessDenied(f"'{type(obj).__name__}' offers diagram code no items")
    return obj[key]


# -- methods that build large values -----------------------------------------------------


def _check_length(length: int, what: str) -> None:
    if length > MAX_STRING:
        raise too_large(what)


def _padding(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def padded(width: int, *args: Any) -> str:
        _check_length(int(width), "a padded string")
        return method(width, *args)

    return padded


def _expandtabs(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def expanded(tabsize: int = 8) -> str:
        _check_length(len(text) * max(int(tabsize), 1), "a string with expanded tabs")
        return method(tabsize)

    return expanded


def _replace(text: str, method: Callable[..., str]) -> Callable[..., str]:
    def replaced(old: str, new: str, count: int = -1) -> str:
        times = text.count(old) if old else len(text) + 1
        if count >= 0:
            times = min(times, count)
        _check_length(len(text) + times * max(len(new) - len(old), 0), "a replaced string")
        return method(old, new, count)

    return replaced


def _join(separator: str, method: Callable[..., str]) -> Callable[..., str]:
    def joined(parts: Iterable[Any]) -> str:
        parts = list(parts)
        if len(parts) > MAX_ITEMS:
            raise too_large("a joined string")
        total = len(separator) * max(len(parts) - 1, 0)
        total += sum(len(part) for part in parts if isinstance(part, str))
        _check_length(total, "a joined string")
        return method(parts)

    return joined


def _sort(items: list[Any], method: Callable[..., None]) -> Callable[..., None]:
    def sort(*, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        comparable(items)
        method(key=ticking(key), reverse=reverse)

    return sort


def _extend(items: list[Any], method: Callable[..., None]) -> Callable[..., None]:
    def extended(more: Iterable[Any]) -> None:
        more = list(more)
        if len(items) + len(more) > MAX_ITEMS:
            raise too_large("an extended list")
        method(more)

    return extended


def _comparing(container: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    # These compare elements (or, for a dict's pairs, hash them) in C: a container that
    # holds one big value many times over would make that one endless call.
    def compared(*args: Any) -> Any:
        comparable(container)
        for argument in args:
            comparable(argument)
        return method(*args)

    return compared


def _popitem(mapping: dict[Any, Any], method: Callable[[], Any]) -> Callable[[], Any]:
    def popped() -> Any:
        return comparable(method())  # the pair is a new tuple: measured like any other

    return popped


_CHECKED_METHODS: Mapping[tuple[type, str], Callable[[Any, Any], Callable[..., Any]]] = (
    MappingProxyType(
        {
            **{(str, name): _padding for name in ("center", "ljust", "rjust", "zfill")},
            (str, "expandtabs"): _expandtabs,
            (str, "replace"): _replace,
            (str, "join"): _join,
            (list, "extend"): _extend,
            (list, "sort"): _sort,
            **{(list, name): _comparing for name in ("count", "index", "remove")},
            **{(tuple, name): _comparing for name in ("count", "index")},
            (dict, "items"): _comparing,
            (dict, "popitem"): _popitem,
        }
    )
)


# -- operators that build large values ---------------------------------------------------

_SEQUENCES = (str, bytes, list, tuple)


def _repeat_check(sequence: Any, times: Any) -> None:
    if isinstance(times, int) and times > 0:
        limit = MAX_STRING if isinstance(sequence, str | bytes) else MAX_ITEMS
        if len(sequence) * times > limit:
            raise too_large("a repeated " + type(sequence).__name__)


def guarded_mul(left: Any, right: Any) -> Any:
    if isinstance(left, _SEQUENCES):
        _repeat_check(left, right)
    elif isinstance(right, _SEQUENCES):
        _repeat_check(right, left)
    elif (
        type(left) is int
        and type(right) is int
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise too_large("a product")
    return left * right


def guarded_add(left: Any, right: Any) -> Any:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        limit = MAX_STRING if isinstance(left, str | bytes) else MAX_ITEMS
        if len(left) + len(right) > limit:
            raise too_large("a joined " + type(left).__name__)
    return left + right


def guarded_pow(base: Any, exponent: Any) -> Any:
    # At least (bits - 1) * exponent bits: refused before Python starts on the power.
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS
    ):
        raise too_large("a power result")
    return base**exponent


def guarded_lshift(value: Any, shift: Any) -> Any:
    if (
        isinstance(value, int)
        and isinstance(shift, int)
        and value.bit_length() + shift > MAX_INT_BITS
    ):
        raise too_large("a shifted number")
    return value << shift


def guarded_mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _check_conversions(left)
        arguments = right if isinstance(right, tuple | dict) else (right,)
        measure(arguments, MAX_STRING, "a %-formatted string")
    return left % right


# A %-conversion: flags, width and precision (a number or "*"), length modifier, type.
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?.")


def _check_conversions(template: str) -> None:
    for width, precision in _CONVERSION.findall(template):
        for number in (width, precision):
            if number == "*":
                raise ScriptAccessDenied("'*' widths in %-formats are not available")
            if number and int(number) > MAX_FORMAT_WIDTH:
                raise too_large("a %-format width or precision")


_BINARY: Mapping[str, Callable[[Any, Any], Any]] = MappingProxyType(
    {
        "+": guarded_add,
        "*": guarded_mul,
        "**": guarded_pow,
        "<<": guarded_lshift,
        "%": guarded_mod,
        "-": operator.isub,
        "/": operator.itruediv,
        "//": operator.ifloordiv,
        ">>": operator.irshift,
        "&": operator.iand,
        "|": operator.ior,
        "^": operator.ixor,
        "@": operator.imatmul,
    }
)


def augmented(operator_: str, left: Any, right: Any) -> Any:
    """`left op= right` with the guard of `op`; lists, sets and dicts change in place, as
    Python's own augmented assignment does."""
    if type(left) is list and operator_ in ("+", "*"):
        if operator_ == "+":
            right = list(right)
            if len(left) + len(right) > MAX_ITEMS:
                raise too_large("an extended list")
        else:
            _repeat_check(left, right)
        if operator_ == "+":
            left += right
        else:
            left *= right
        return left
    return _BINARY[operator_](left, right)


def augmented_item(container: Any, key: Any, operator_: str, value: Any) -> None:
    """`container[key] op= value` with the guards of `container[key]` and of `op`."""
    container[key] = augmented(operator_, guarded_getitem(container, key), value)
