"""Typed form values: what a submitted value of each built-in type becomes, and the
messages (with an example) when it does not fit.

Dates follow Camunda 7: its default pattern `dd/MM/yyyy` (what analysts and their
Modeler write) is accepted beside ISO 8601 (what JSON clients and the HTML date input
send); task data always holds ISO, so conditions and handlers see one format.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

MAX_STRING = 2000
_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no", ""}
_CAMUNDA_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATE_HINT = "Enter a date as day/month/year, for example 31/12/2026, or as 2026-12-31."


def to_bool(raw: Any) -> bool | None:
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, str) and raw.lower() in _TRUE | _FALSE:
        return raw.lower() in _TRUE
    raise ValueError("Enter true or false.")


def to_int(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"-?\d{1,18}", raw):
        return int(raw)
    raise ValueError("Enter a whole number, for example 42.")


def parse_date(raw: Any) -> date | None:
    """The date in `dd/MM/yyyy` or `yyyy-MM-dd`, or None when it is neither or no date."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    try:
        if m := _CAMUNDA_DATE.fullmatch(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _ISO_DATE.fullmatch(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:  # 31/02: the right shape, no such day
        return None
    return None


def to_date(raw: Any) -> date:
    parsed = parse_date(raw)
    if parsed is None:
        raise ValueError(DATE_HINT)
    return parsed


def shown(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def check_number_range(value: int, low: str | None, high: str | None) -> int:
    if low is not None and value < int(low):
        raise ValueError(f"Enter a whole number of {low} or more, for example {low}.")
    if high is not None and value > int(high):
        raise ValueError(f"Enter a whole number of {high} or less, for example {high}.")
    return value


def check_date_range(value: date, low: str | None, high: str | None) -> date:
    earliest, latest = parse_date(low), parse_date(high)
    if earliest is not None and value < earliest:
        raise ValueError(f"Enter {shown(earliest)} or later.")
    if latest is not None and value > latest:
        raise ValueError(f"Enter {shown(latest)} or earlier.")
    return value


def check_length(text: str, minlength: str | None, maxlength: str | None) -> str:
    most = int(maxlength or MAX_STRING)
    if len(text) > most:
        raise ValueError(f"Use at most {most} characters.")
    if minlength is not None and len(text) < int(minlength):
        raise ValueError(f"Use at least {minlength} characters.")
    return text
