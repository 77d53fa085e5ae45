"""The builtins diagram code gets: a small set, with wrappers where a builtin could be made
to build huge values or to loop in C, where no budget ticks.

Left out on purpose: `map` and `filter` (they call a function per item from C; a
comprehension does the same and ticks), and everything that reaches types, objects,
attributes, frames, modules, files or the interpreter (`type`, `getattr`, `vars`, `iter`,
`format`, `open`, `__import__`, ...).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .script_budget import (
    MAX_ITEMS,
    MAX_STARRED,
    MAX_STRING,
    TEXT_SAFE,
    ScriptAccessDenied,
    comparable,
    measure,
    ticking,
    too_large,
)

_NO_DEFAULT = object()


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_ITEMS:
        raise too_large(f"a range of {len(numbers):,} numbers")
    return numbers


def _str(value: Any = "") -> str:
    if not isinstance(value, TEXT_SAFE):
        measure(value, MAX_STRING, "a string")
    return str(value)


def _sum(values: Iterable[Any], start: Any = 0) -> Any:
    # Summing lists or tuples with a start of [] is quadratic repetition in disguise.
    if not isinstance(start, int | float | Decimal | timedelta):
        raise ScriptAccessDenied("sum() adds numbers only in diagram code")
    return sum(values, start)


def _sorted(
    values: Iterable[Any], *, key: Callable[[Any], Any] | None = None, reverse: bool = False
) -> list[Any]:
    return sorted(comparable(list(values)), key=ticking(key), reverse=reverse)


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def extreme(
        *args: Any, key: Callable[[Any], Any] | None = None, default: Any = _NO_DEFAULT
    ) -> Any:
        options: dict[str, Any] = {"key": ticking(key)}
        if default is not _NO_DEFAULT:
            options["default"] = default
        values = comparable(list(args[0] if len(args) == 1 else args))
        return pick(values, **options)

    return extreme


def _zip(*iterables: Iterable[Any], strict: bool = False) -> Iterator[tuple[Any, ...]]:
    if len(iterables) > MAX_STARRED:
        raise too_large(f"a zip of {len(iterables):,} sequences")
    # Each tuple is new, made of values that may be big: measured like any other tuple.
    return (comparable(group) for group in zip(*iterables, strict=strict))


def _tuple(values: Iterable[Any] = ()) -> tuple[Any, ...]:
    made: tuple[Any, ...] = comparable(tuple(values))
    return made


_WRAPPED_TYPES: Mapping[Any, type] = MappingProxyType({_str: str, _range: range, _tuple: tuple})


def _isinstance(value: Any, kinds: Any) -> bool:
    if isinstance(kinds, tuple):
        kinds = tuple(_WRAPPED_TYPES.get(kind, kind) for kind in kinds)
    else:
        kinds = _WRAPPED_TYPES.get(kinds, kinds)
    return isinstance(value, kinds)


SAFE_BUILTINS: Mapping[str, Any] = MappingProxyType(
    {
        **{
            name: getattr(builtins, name)
            for name in (
                "abs", "all", "any", "bool", "dict", "enumerate", "float", "frozenset", "int",
                "len", "list", "reversed", "round", "set",
                # So that scripts can raise and catch the ordinary errors.
                "ArithmeticError", "Exception", "IndexError", "KeyError", "LookupError",
                "NameError", "TypeError", "ValueError", "ZeroDivisionError",
            )
        },
        "isinstance": _isinstance,
        "max": _extreme(max),
        "min": _extreme(min),
        "range": _range,
        "sorted": _sorted,
        "str": _str,
        "sum": _sum,
        "tuple": _tuple,
        "zip": _zip,
    }
)  # fmt: skip
