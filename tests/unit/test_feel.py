"""FEEL unary tests and literals as Camunda Modeler writes them in decision table cells."""

from __future__ import annotations

import contextlib
import time

import pytest

from engine import feel


@pytest.mark.parametrize(
    ("cell", "matching", "not_matching"),
    [
        ('"gold"', ["gold"], ["Gold", "silver", None, 1]),
        ('"say \\"hi\\""', ['say "hi"'], ["say hi"]),
        ("1000", [1000, 1000.0], [999, "1000", True]),
        ("-2.5", [-2.5], [2.5]),
        ("> 1000", [1001, 1000.5], [1000, "2000", None]),
        (">= 1000", [1000], [999]),
        ("< 10", [9, -1], [10]),
        ("<= 10", [10], [11]),
        ('> "m"', ["n", "zebra"], ["a", 5]),
        ("[1..5]", [1, 3, 5], [0, 6, None]),
        ("]1..5[", [2, 4.9], [1, 5]),
        ("(1..5)", [2], [1, 5]),
        ("[1..5)", [1], [5]),
        ('["a".."c"]', ["a", "b", "c"], ["d"]),
        ('"a","b"', ["a", "b"], ["c"]),
        ("< 5, > 10", [4, 11], [7]),
        ('not("a","b")', ["c", None], ["a", "b"]),
        ("not(> 5)", [5, 1], [6]),
        ("true", [True], [1, "true"]),
        ("false", [False], [0, None]),
        ("null", [None], [0, ""]),
    ],
)
def test_unary_tests(cell, matching, not_matching):
    test = feel.unary_tests(cell)
    assert test is not None
    assert [test(v) for v in matching] == [True] * len(matching)
    assert [test(v) for v in not_matching] == [False] * len(not_matching)


@pytest.mark.parametrize("cell", ["-", "", "  -  ", None])
def test_a_dash_or_an_empty_cell_matches_anything(cell):
    assert feel.unary_tests(cell) is None


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("limit", "names ('limit') are not supported"),
        ("> limit", "names ('limit') are not supported"),
        ('date("2026-01-01")', "date(...) values are not supported"),
        ('date and time("2026-01-01T00:00:00")', "date and time(...) values are not supported"),
        ("= 5", "'=' is not a unary test"),
        ("!= 5", "'!=' is not a unary test"),
        ("[1..5", "the cell ends too early"),
        ('[1.."a"]', "an interval's ends must both be numbers or both be strings"),
        ("[1..5}", "cannot read"),
        ("> true", "> needs a number or a string"),
        ('"a" "b"', "unexpected"),
        ("not(1", "the cell ends too early"),
        ("x" * 3000, "a cell is longer than 2000 characters"),
    ],
)
def test_what_the_subset_cannot_read_is_refused_with_the_reason(cell, message):
    with pytest.raises(feel.FeelError) as caught:
        feel.unary_tests(cell)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("cell", "value"),
    [('"gold"', "gold"), ("42", 42), ("-1.5", -1.5), ("true", True), ("null", None), ("", None)],
)
def test_output_literals(cell, value):
    assert feel.literal(cell) == value


@pytest.mark.parametrize("cell", ["amount * 2", "a", '"a" + "b"', "[1, 2]"])
def test_an_output_entry_must_be_one_literal(cell):
    with pytest.raises(feel.FeelError):
        feel.literal(cell)


def test_reading_a_long_cell_takes_linear_time():
    started = time.monotonic()
    for cell in ("a " * 999, '"' + "x" * 1990 + '"', "1," * 999 + "1"):
        with contextlib.suppress(feel.FeelError):
            feel.unary_tests(cell)
    assert time.monotonic() - started < 0.5
