"""ISO 8601 durations as Tokenflow reads them, in diagrams' settings and in configuration."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration in weeks, days, hours, minutes, seconds ("P30D", "PT10M").

    Years and months are refused: their length depends on the date, and a validity an
    analyst reads as "30 days" should be exactly that.
    """
    value = text.strip().upper()
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P30D or PT10M")
    return timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})
