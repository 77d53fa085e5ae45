"""FEEL as Camunda Modeler writes it in a decision table's cells: unary tests in the input
entries, literals in the output entries. Parsed at deploy into plain Python tests; nothing
is ever evaluated as code.

Unary tests: `-` or an empty cell (anything); a literal (`"gold"`, `1000`, `-2.5`, `true`,
`false`, `null`) for equality; a comparison (`< 10`, `<= 10`, `> 1000`, `>= 1000`); an
interval (`[1..5]`, `]1..5[`, `(1..5)`, `[1..5)`; `]` or `(` on the left and `[` or `)`
on the right leave the end out); a comma-separated list of those (any one matches); and
`not(...)` around such a list. Output entries: one literal, or empty (null).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Test = Callable[[Any], bool]
MAX_CELL = 2000


class FeelError(ValueError):
    """A cell this FEEL subset cannot read; the message says what is not supported."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<range>\.\.)
      | (?P<op><=|>=|!=|<|>|=)
      | (?P<punct>[\[\]\(\),])
      | (?P<word>[A-Za-z_]\w*(?:[ ]+[A-Za-z_]\w*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    found, pos, end = [], 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FeelError(f"cannot read {text[pos:].strip()[:40]!r}")
        kind = match.lastgroup or ""
        found.append(_Tok(kind, match.group(kind).strip()))
        pos = match.end()
    return found


def _literal_of(tok: _Tok) -> Any:
    if tok.kind == "string":
        return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
    if tok.kind == "number":
        return float(tok.text) if "." in tok.text else int(tok.text)
    if tok.kind == "word" and tok.text in _KEYWORDS:
        return _KEYWORDS[tok.text]
    if tok.kind == "word" and tok.text.split()[0] in ("date", "time", "duration"):
        raise FeelError(f"{tok.text}(...) values are not supported: compare text or numbers")
    if tok.kind == "word":
        raise FeelError(
            f"names ({tok.text!r}) are not supported in a cell: write the value itself, "
            'a string in double quotes ("gold") or a number'
        )
    raise FeelError(f"expected a value, found {tok.text!r}")


def literal(text: str | None) -> Any:
    """An output entry's value: a FEEL literal, or None for an empty cell."""
    stripped = (text or "").strip()
    if not stripped:
        return None
    if len(stripped) > MAX_CELL:
        raise FeelError(f"a cell is longer than {MAX_CELL} characters")
    toks = _tokens(stripped)
    if len(toks) != 1:
        raise FeelError(
            f"output {stripped!r} is not a literal: write one value "
            '("text", a number, true, false or null); expressions are not supported'
        )
    return _literal_of(toks[0])


def _comparable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return True
    return type(a) is type(b) and isinstance(a, str)


def _equals(expected: Any) -> Test:
    def test(value: Any) -> bool:
        if expected is None or value is None:
            return expected is None and value is None
        return _comparable(value, expected) and value == expected

    return test


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda v, e: v < e,
    "<=": lambda v, e: v <= e,
    ">": lambda v, e: v > e,
    ">=": lambda v, e: v >= e,
}


def _compare(op: str, bound: Any) -> Test:
    if bound is None or isinstance(bound, bool):
        raise FeelError(f"{op} needs a number or a string, not {bound!r}")
    check = _COMPARE[op]
    return lambda value: value is not None and _comparable(value, bound) and check(value, bound)


def _interval(low: Any, high: Any, low_closed: bool, high_closed: bool) -> Test:
    if not _comparable(low, high) or low is None or isinstance(low, bool):
        raise FeelError("an interval's ends must both be numbers or both be strings")
    low_test = _compare(">=" if low_closed else ">", low)
    high_test = _compare("<=" if high_closed else "<", high)
    return lambda value: low_test(value) and high_test(value)


class _Reader:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks, self.pos = toks, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FeelError("the cell ends too early")
        if text is not None and tok.text != text:
            raise FeelError(f"expected {text!r}, found {tok.text!r}")
        self.pos += 1
        return tok

    def tests(self) -> list[Test]:
        found = [self.positive()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take(",")
            found.append(self.positive())
        return found

    def positive(self) -> Test:
        tok = self.take()
        if tok.kind == "op":
            if tok.text in ("=", "!="):
                raise FeelError(f"{tok.text!r} is not a unary test: write the value, or not(value)")
            return _compare(tok.text, _literal_of(self.take()))
        if tok.text in ("[", "]", "("):
            low = _literal_of(self.take())
            self.take("..")
            high = _literal_of(self.take())
            closing = self.take().text
            if closing not in ("]", "[", ")"):
                raise FeelError(f"an interval ends with ], [ or ), not {closing!r}")
            return _interval(low, high, tok.text == "[", closing == "]")
        return _equals(_literal_of(tok))


def unary_tests(text: str | None) -> Test | None:
    """An input entry as a test of the input's value; None for `-` or an empty cell."""
    stripped = (text or "").strip()
    if stripped in ("", "-"):
        return None
    if len(stripped) > MAX_CELL:
        raise FeelError(f"a cell is longer than {MAX_CELL} characters")
    toks = _tokens(stripped)
    negated = bool(toks) and toks[0].kind == "word" and toks[0].text == "not"
    reader = _Reader(toks[1:] if negated else toks)
    if negated:
        reader.take("(")
    tests = reader.tests()
    if negated:
        reader.take(")")
    if reader.peek() is not None:
        raise FeelError(f"unexpected {reader.peek().text!r}")  # type: ignore[union-attr]

    def matches(value: Any) -> bool:
        return any(test(value) for test in tests) != negated

    return matches
