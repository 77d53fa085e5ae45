"""Form fields from `camunda:formData`: types, constraints, defaults and their messages."""

from __future__ import annotations

from typing import Any

import pytest

from engine import forms
from tests.unit.builders import field


def check(f: forms.Field, submitted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values, _, errors = forms.validate([f], submitted, {})
    return values, errors


@pytest.mark.parametrize("typed", ["31/12/2026", "2026-12-31", " 31/12/2026 "])
def test_a_date_is_accepted_in_camundas_pattern_or_iso_and_stored_as_iso(typed: str) -> None:
    assert check(field(type="date"), {"f": typed}) == ({"f": "2026-12-31"}, {})


@pytest.mark.parametrize("typed", ["31/02/2026", "12/31/2026", "tomorrow", "2026-13-01", 20261231])
def test_an_impossible_or_unreadable_date_is_refused_with_an_example(typed: Any) -> None:
    _, errors = check(field(type="date"), {"f": typed})
    assert "31/12/2026" in errors["f"] and "2026-12-31" in errors["f"]


def test_a_date_default_in_camundas_pattern_is_shown_to_the_api_as_iso() -> None:
    [described] = forms.describe([field(type="date", default="01/02/2027")], {})
    assert described["default"] == "2027-02-01"


@pytest.mark.parametrize(
    ("f", "typed", "message"),
    [
        (field(required=None), "", "This field is required."),
        (field(minlength="3"), "ab", "Use at least 3 characters."),
        (field(maxlength="3"), "abcd", "Use at most 3 characters."),
        (field(type="long", min="1"), "0", "Enter a whole number of 1 or more, for example 1."),
        (field(type="long", max="9"), "10", "Enter a whole number of 9 or less, for example 9."),
        (field(type="long"), "1.5", "Enter a whole number, for example 42."),
        (field(type="boolean"), "maybe", "Enter true or false."),
    ],
)
def test_a_broken_constraint_says_what_is_expected(
    f: forms.Field, typed: str, message: str
) -> None:
    assert check(f, {"f": typed})[1] == {"f": message}


def test_min_and_max_apply_to_dates_too() -> None:
    f = field(type="date", min="2026-01-01", max="31/12/2026")
    assert check(f, {"f": "2025-12-31"})[1] == {"f": "Enter 01/01/2026 or later."}
    assert check(f, {"f": "01/01/2027"})[1] == {"f": "Enter 31/12/2026 or earlier."}
    assert check(f, {"f": "2026-06-30"}) == ({"f": "2026-06-30"}, {})


def test_a_readonly_field_keeps_its_value_and_refuses_a_new_one() -> None:
    f = field(readonly=None, default="fixed")
    assert check(f, {}) == ({}, {})
    assert check(f, {"f": "changed"})[1] == {"f": "This field is read-only: leave it out."}


def test_a_readonly_field_is_described_as_readonly() -> None:
    [described] = forms.describe([field(readonly=None)], {})
    assert described["readonly"] is True


def test_a_field_left_out_takes_its_default_value() -> None:
    fields = [
        field("attended", type="boolean", default="true"),
        field("count", type="long", default="3"),
        field("note", default="none"),
        field("when", type="date", default="01/02/2027"),
    ]
    values, _, errors = forms.validate(fields, {}, {})
    assert errors == {}
    assert values == {"attended": True, "count": 3, "note": "none", "when": "2027-02-01"}


def test_a_boolean_given_as_false_stays_false_whatever_its_default() -> None:
    f = field("attended", type="boolean", default="true")
    assert check(f, {"attended": False}) == ({"attended": False}, {})


def test_a_boolean_left_out_without_a_default_is_false() -> None:
    assert check(field(type="boolean"), {}) == ({"f": False}, {})
