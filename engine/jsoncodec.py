"""JSON for the database's JSON columns: orjson's speed, the standard library's results.

Task payloads and instance state are read and written at every step, and decoding them
with the standard library took a tenth of a worker's time firing timers
(bench/timers.py). orjson does the same work several times faster. Where the two would
give different results, the standard library's is kept:

- An integer beyond 64 bits: orjson refuses to write it, and reads it back as a float.
  Such values are written by `json`, and text with a run of 19 or more digits is read by
  `json` too (a 64-bit integer has at most 19 digits).
- A datetime or a dataclass: `json` refuses it, so orjson passes it on to refuse it too,
  rather than storing text that would come back as a string.
- Dictionary keys that are not strings are converted as `json` converts them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
# Every digit made "0", so that 19 digits in a row are one substring search away (a
# regular expression for them took five times as long as orjson's whole parse).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)  # a big integer; anything else raises here as it would


def loads(data: str | bytes) -> Any:
    raw = data if isinstance(data, bytes) else data.encode()
    if _NINETEEN_DIGITS in raw.translate(_DIGITS_TO_ZERO):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # what orjson refuses (NaN): read, or refused, as before
