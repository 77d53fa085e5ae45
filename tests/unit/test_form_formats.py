"""Form field formats (country, phone), examples beside patterns, and defaults that are
expressions over the task data (`${ship_country}`), as Camunda 7 writes them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lxml import etree

from engine import form_formats, forms
from tests.engine.builders import form, problems
from tests.unit.builders import field

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"


def formatted(kind: str, **props: str | None) -> forms.Field:
    return dataclasses.replace(field(**props), format=kind)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("US", "US"), ("us", "US"), ("USA", "US"), ("United States", "US"), ("germany", "DE")],
)
def test_a_country_is_taken_by_code_or_unambiguous_name_and_stored_as_its_code(typed, code):
    assert forms.validate([formatted("country")], {"f": typed}, {})[0] == {"f": code}


def test_an_unknown_country_says_what_is_expected_with_an_example():
    _, _, errors = forms.validate([formatted("country")], {"f": "Atlantis"}, {})
    assert errors == {"f": form_formats.COUNTRY_HINT}
    assert "for example US" in errors["f"]


def test_a_country_field_offers_every_country_by_name():
    [described] = forms.describe([formatted("country")], {})
    assert described["format"] == "country"
    assert {"id": "DE", "name": "Germany"} in described["options"]
    assert len(described["options"]) > 240


@pytest.mark.parametrize(
    ("typed", "data", "stored"),
    [
        ("+1 415 555 0123", {}, "+14155550123"),
        ("(415) 555-0123", {"country": "US"}, "+14155550123"),
        ("030 1234567", {"ship_country": "DE"}, "+49301234567"),
    ],
)
def test_a_phone_number_is_stored_in_e164(typed, data, stored):
    assert forms.validate([formatted("phone")], {"f": typed}, data)[0] == {"f": stored}


@pytest.mark.parametrize("typed", ["12345", "(415) 555-0123", "call me"])
def test_a_phone_number_that_cannot_be_read_says_what_is_expected(typed):
    _, _, errors = forms.validate([formatted("phone")], {"f": typed}, {})
    assert "for example +1 415 555 0123" in errors["f"]


def test_a_stored_number_is_shown_in_international_format():
    assert form_formats.shown_phone("+14155550123") == "+1 415-555-0123"
    assert form_formats.shown_phone("not a number") == "not a number"


def test_a_pattern_miss_quotes_the_fields_example_or_its_help():
    f = dataclasses.replace(field(pattern="[0-9]{4}"), example="1234")
    message = forms.validate([f], {"f": "12"}, {})[2]["f"]
    assert message == "Enter it as expected, for example 1234."
    helped = dataclasses.replace(field(pattern="[0-9]{4}"), help="Four digits, e.g. 1234.")
    message = forms.validate([helped], {"f": "12"}, {})[2]["f"]
    assert message == "This is not in the expected format: Four digits, e.g. 1234."


def test_every_pattern_in_the_processes_folder_has_an_example_that_fits_it():
    for path in PROCESSES.glob("*.bpmn"):
        for f in etree.parse(path).iter(f"{CAMUNDA}formField"):
            patterns = [c for c in f.iter(f"{CAMUNDA}constraint") if c.get("name") == "pattern"]
            examples = [p for p in f.iter(f"{CAMUNDA}property") if p.get("id") == "example"]
            if patterns:
                assert examples, f"{path.name}: {f.get('id')} has a pattern and no example"


def test_an_expression_default_is_evaluated_over_the_task_data_and_missing_is_none():
    f = field(default="${ship_country}")
    assert forms.describe([f], {"ship_country": "DE"})[0]["default"] == "DE"
    assert forms.describe([f], {})[0]["default"] is None
    either = field(default="${empty a ? b : a}")
    assert forms.describe([either], {"b": "TF1"})[0]["default"] == "TF1"
    # An API client that leaves the field out means the default, as the form showed it.
    assert forms.validate([f], {}, {"ship_country": "DE"})[0] == {"f": "DE"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '<camunda:formField id="f" type="string"><camunda:properties>'
            '<camunda:property id="format" value="postcode"/></camunda:properties>'
            "</camunda:formField>",
            "form field 'f': format 'postcode' is unknown; use country or phone",
        ),
        (
            '<camunda:formField id="f" type="string"><camunda:properties>'
            '<camunda:property id="example" value="12"/></camunda:properties>'
            '<camunda:validation><camunda:constraint name="pattern" config="[0-9]{4}"/>'
            "</camunda:validation></camunda:formField>",
            "form field 'f': example '12' does not fit the pattern '[0-9]{4}'",
        ),
        (
            '<camunda:formField id="f" type="string" defaultValue="${a +}"/>',
            "form field 'f': defaultValue '${a +}'",
        ),
    ],
)
def test_a_bad_format_example_or_default_expression_is_refused_at_deploy(body, expected):
    found = problems(form(body))
    assert any(expected in p for p in found), found
