"""Budgets of diagram code: the limits of one evaluation (time, loop iterations, sizes),
the exceptions that say one was exceeded, and the measure of a value's size.

The time and iteration budgets are ticked by the rewritten code (`_tf_tick()` in every loop
and comprehension) and by callables that builtins call from C (sort keys); sizes are
checked before a value is built (`engine/script_guards.py`) or measured after.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

# Sizes no diagram needs and that keep one operation far below the time budget's scale.
MAX_STRING = 1_000_000  # characters (or bytes) in one string made by diagram code
MAX_ITEMS = 100_000  # elements in a list or tuple made by repetition, or in a range
MAX_INT_BITS = 16_384  # an int made by **, * or << (about 4,900 decimal digits)
MAX_WRITTEN = 1_000_000  # size units (characters, elements) of what a script leaves behind
MAX_DEPTH = 64  # nesting of what a script leaves behind or turns into a string
MAX_FORMAT_WIDTH = 1_000  # width or precision in a %-format or an f-string format spec
MAX_STARRED = 32  # arguments passed as f(*values)


class ScriptBudgetExceeded(Exception):
    """Diagram code went over one of its budgets (time, operations, sizes); the message
    says which in words."""


class ScriptAccessDenied(Exception):
    """Diagram code reached for an attribute or item that plain data does not offer it."""


@dataclass(frozen=True)
class ScriptLimits:
    """Budgets of one evaluation of diagram code (a condition, a script, a timer...)."""

    time_budget: float = 0.1  # seconds
    max_operations: int = 100_000  # loop iterations and comprehension items

    def __post_init__(self) -> None:
        if self.time_budget <= 0 or self.max_operations <= 0:
            raise ValueError("script budgets must be positive")


_ACTIVE = threading.local()


class Budget:
    """One evaluation's budget: `tick` is called once per loop iteration or comprehension
    item. Once exceeded, every later tick (and `check`) raises again, so code that catches
    the first exception cannot go on looping."""

    __slots__ = ("deadline", "exceeded", "left", "limits")

    def __init__(self, limits: ScriptLimits) -> None:
        self.limits = limits
        self.left = limits.max_operations
        self.deadline = time.perf_counter() + limits.time_budget
        self.exceeded: str | None = None

    def __enter__(self) -> Budget:
        # The budget that callables handed to builtins (sort keys) tick, in this thread.
        _ACTIVE.budget = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        _ACTIVE.budget = None

    def tick(self) -> bool:
        self.left -= 1
        if self.left < 0 or time.perf_counter() > self.deadline:
            if self.exceeded is None:
                self.exceeded = (
                    f"the script ran more than {self.limits.max_operations:,} loop iterations"
                    if self.left < 0
                    else f"the script ran longer than {self.limits.time_budget * 1000:g} ms"
                )
            self.left = -1
        self.check()
        return True

    def check(self) -> None:
        if self.exceeded is not None:
            raise ScriptBudgetExceeded(self.exceeded)


def ticking(key: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """`key` ticking the running budget once per call: sorted(), min(), max() and
    list.sort() call it from C, where no loop of the diagram's own ticks."""
    budget = getattr(_ACTIVE, "budget", None)
    if key is None or budget is None:
        return key

    def ticking_key(item: Any) -> Any:
        budget.tick()
        return key(item)

    return ticking_key


def starred(values: Iterable[Any]) -> tuple[Any, ...]:
    """`f(*values)`: builtins loop over their arguments in C, so there are few of them."""
    arguments = tuple(values)
    if len(arguments) > MAX_STARRED:
        raise too_large(f"a call with {len(arguments):,} *arguments")
    return arguments


def too_large(what: str) -> ScriptBudgetExceeded:
    return ScriptBudgetExceeded(f"{what} would be too large")


def rethrow_if_uncatchable() -> None:
    """First statement of every `except` block: diagram code may handle its own errors,
    never a budget or a refusal (and nothing that is not an Exception)."""
    caught = sys.exc_info()[1]
    if isinstance(caught, ScriptBudgetExceeded | ScriptAccessDenied) or not isinstance(
        caught, Exception
    ):
        raise caught  # type: ignore[misc]


# -- sizes of values ---------------------------------------------------------------------

_SCALARS = (int, float, bool, type(None), Decimal, date, datetime, timedelta)
TEXT_SAFE = (*_SCALARS, str)


_CONTAINERS = (list, tuple, dict, set, frozenset)


def measure(value: Any, limit: int, what: str) -> int:
    """Size units of `value` (one per element, one per character of a string), refusing
    with ScriptBudgetExceeded past `limit`, past MAX_ITEMS elements in all or past
    MAX_DEPTH levels. It stops as soon as it knows, so a list that holds one big list
    many times over costs no more than MAX_ITEMS steps."""
    total = len(value) if isinstance(value, str | bytes) else 1
    if not isinstance(value, _CONTAINERS):
        if total > limit:
            raise too_large(what)
        return total
    elements = 0
    level = [value]
    for _depth in range(MAX_DEPTH + 1):
        inner: list[Any] = []
        for container in level:
            if isinstance(container, dict):
                children: Any = (*container.keys(), *container.values())
            elif isinstance(container, list | tuple | set | frozenset):
                children = container
            else:
                continue
            elements += len(children)
            if elements > MAX_ITEMS:
                raise too_large(what)
            for child in children:
                if isinstance(child, str | bytes):
                    total += len(child)
                else:
                    total += 1
                    inner.append(child)
        if total > limit:
            raise too_large(what)
        if not inner:
            return total
        level = inner
    raise ScriptBudgetExceeded(f"{what} is nested deeper than {MAX_DEPTH} levels")


def comparable(value: Any) -> Any:
    """`value`, once measured if it is a container: comparing or hashing one walks it in C
    in one call, and a value that holds one big value many times over (`x = [x, x]`
    repeated) would make that call endless, or a tuple nested 100,000 deep crash it."""
    if type(value) in _CONTAINERS:
        measure(value, sys.maxsize, "a compared or hashed value")
    return value


def compared_in(container: Any) -> Any:
    """The right side of `in`: a list or tuple compares its elements to the left side; a
    dict or set only hashes it, so it need not be walked."""
    if type(container) in (list, tuple):
        measure(container, sys.maxsize, "a searched value")
    return container


def checked_text(value: Any) -> Any:
    """An f-string's value: containers are measured before Python turns them into text."""
    if not isinstance(value, TEXT_SAFE):
        measure(value, MAX_STRING, "an f-string")
    return value
