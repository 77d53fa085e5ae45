"""Task forms in HTML: which widget a field gets, and the posted form as task data.

The engine's `forms.describe` is the one form definition; this module only maps it to
HTML inputs and back. Sensitive fields are never echoed into a re-rendered form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RADIO_MAX = 5
TEXTAREA_FROM = 500
# Browser autofill hints for the journey's well-known fields.
AUTOCOMPLETE = {
    "card_number": "cc-number",
    "card_expiry": "cc-exp",
    "card_cvc": "cc-csc",
    "ship_name": "shipping name",
    "ship_street": "shipping street-address",
    "ship_city": "shipping address-level2",
    "ship_postal_code": "shipping postal-code",
    "ship_country": "shipping country",
    "bill_name": "billing name",
    "bill_street": "billing street-address",
    "bill_city": "billing address-level2",
    "bill_postal_code": "billing postal-code",
    "bill_country": "billing country",
    "legal_first_name": "given-name",
    "legal_last_name": "family-name",
    "country": "country",
    "phone": "tel",
    "phone_number": "tel",
    "date_of_birth": "bday",
    "street": "street-address",
    "city": "address-level2",
    "postal_code": "postal-code",
    "code": "one-time-code",
    "code1": "off",
    "code2": "off",
    "activation_code": "off",
    "license_key": "off",
    "ssn_last4": "off",
}
NUMERIC = {"card_number", "card_cvc", "code", "code1", "code2", "ssn_last4"}


def widget(field: Mapping[str, Any]) -> str:
    """text, textarea, number, date, tel, checkbox, radio or select (a country too)."""
    kind = field.get("type")
    if field.get("format") == "country":
        return "select"
    if field.get("format") == "phone":
        return "tel"
    if kind == "boolean":
        return "checkbox"
    if kind == "enum":
        return "radio" if len(field.get("options") or []) <= RADIO_MAX else "select"
    if kind == "long":
        return "number"
    if kind == "date":
        return "date"
    maxlength = field.get("maxlength")
    if maxlength is not None and str(maxlength).isdigit() and int(maxlength) >= TEXTAREA_FROM:
        return "textarea"
    return "text"


def decorate(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The described fields plus what the template needs to draw each one."""
    out = []
    for f in fields:
        item = dict(f)
        item["widget"] = widget(f)
        item["autocomplete"] = AUTOCOMPLETE.get(f["id"], "off" if f.get("sensitive") else None)
        item["inputmode"] = "numeric" if f["id"] in NUMERIC else None
        out.append(item)
    return out


def groups(fields: list[dict[str, Any]]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Consecutive fields labelled `Group: part` (e.g. `Shipping address: city`) go into
    one fieldset with the group as its legend and the part as each label."""
    out: list[tuple[str | None, list[dict[str, Any]]]] = []
    for f in fields:
        group, sep, part = str(f["label"]).partition(": ")
        legend = group if sep and part and f["widget"] != "radio" else None
        item = {**f, "short_label": part[:1].upper() + part[1:] if legend else f["label"]}
        if legend is not None and out and out[-1][0] == legend:
            out[-1][1].append(item)
        else:
            out.append((legend, [item]))
    # A group of one is just a label with a colon (`Approve: identity proven`).
    return [
        (legend, items) if len(items) > 1 else (None, [{**items[0], "short_label": None}])
        for legend, items in out
    ]


def submitted(fields: list[dict[str, Any]], form: Mapping[str, str]) -> dict[str, Any]:
    """The task data in a posted form: only the form's own fields, booleans as bools.
    An unticked box is an answer (false), never "use the default"; a read-only field is
    shown, not submitted."""
    data: dict[str, Any] = {}
    for f in fields:
        if f.get("readonly"):
            continue
        if f["type"] == "boolean":
            data[f["id"]] = form.get(f["id"]) in ("true", "on", "1")
        elif f["id"] in form:
            data[f["id"]] = form[f["id"]]
    return data


def initial(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The values an untouched form shows: each field's default."""
    values: dict[str, Any] = {}
    for f in fields:
        default = f.get("default")
        if f["type"] == "boolean":
            values[f["id"]] = str(default).lower() == "true"
        elif default is not None:
            values[f["id"]] = str(default)
    return values


def remembered(fields: list[dict[str, Any]], variables: Mapping[str, Any]) -> dict[str, Any]:
    """What the person entered when they last completed this form (kept in the instance's
    variables): never a secret, which the variables do not hold either."""
    return {
        f["id"]: variables[f["id"]]
        for f in fields
        if not f.get("sensitive") and variables.get(f["id"]) is not None
    }


def echo(fields: list[dict[str, Any]], data: Mapping[str, Any]) -> dict[str, Any]:
    """What a re-rendered form keeps of the typed values: everything but secrets."""
    secret = {f["id"] for f in fields if f.get("sensitive")}
    return {k: v for k, v in data.items() if k not in secret}
