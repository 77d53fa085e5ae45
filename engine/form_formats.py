"""Well-known text formats a form field may name with its `format` property: a country
(an ISO 3166-1 alpha-2 code, chosen from a list of names) and a phone number (parsed with
the `phonenumbers` library, stored in E.164). Each turns what a person typed into the one
stored form, or says what is expected with an example."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import phonenumbers
import pycountry

COUNTRY = "country"
PHONE = "phone"
FORMATS = (COUNTRY, PHONE)
COUNTRY_HINT = (
    "Choose a country from the list, or enter its two-letter ISO 3166-1 code, "
    "for example US for the United States or DE for Germany."
)
PHONE_HINT = (
    "Enter a phone number in international format, starting with + and the country "
    "code, for example +1 415 555 0123."
)
# Names people write that ISO 3166 spells otherwise.
_ALIASES = {"UK": "GB", "GREAT BRITAIN": "GB", "ENGLAND": "GB", "AMERICA": "US"}


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(alpha-2 code, name) of every ISO 3166-1 country, by name."""
    found = ((c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries)
    return tuple(sorted(found, key=lambda item: item[1]))


@cache
def _country_index() -> dict[str, str]:
    """Every unambiguous way to write a country (codes and names, upper case) -> alpha-2."""
    index: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("alpha_3", "name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                index[value.upper()] = c.alpha_2
    index.update(_ALIASES)
    index.update({c.alpha_2: c.alpha_2 for c in pycountry.countries})
    return index


def country_name(code: Any) -> str | None:
    """The name of an alpha-2 code, or None for anything else."""
    return dict(countries()).get(str(code or "").upper())


def to_country(text: str) -> str:
    """The alpha-2 code of a country typed as its code, its three-letter code or its
    (official or common) name, case-insensitive; anything else says what is expected."""
    code = _country_index().get(" ".join(text.split()).upper())
    if code is None:
        raise ValueError(COUNTRY_HINT)
    return code


def to_phone(text: str, data: Mapping[str, Any]) -> str:
    """A phone number in E.164. A number without `+` is read as one of the country the
    instance's `country` (or `ship_country`) names, when it names one."""
    region = next(
        (str(data[k]).upper() for k in ("country", "ship_country") if country_name(data.get(k))),
        None,
    )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(PHONE_HINT) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"This is no valid phone number. {PHONE_HINT}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shown_phone(e164: Any) -> str:
    """A stored number as people read it (`+1 415-555-0123`); anything else as it is."""
    text = str(e164 or "")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def coerce(kind: str, text: str, data: Mapping[str, Any]) -> str:
    """`text` in the stored form of format `kind` (one of FORMATS)."""
    return to_country(text) if kind == COUNTRY else to_phone(text, data)


def options(kind: str | None) -> list[tuple[str, str]] | None:
    """The choices a field of this format offers (countries), or None."""
    return list(countries()) if kind == COUNTRY else None
