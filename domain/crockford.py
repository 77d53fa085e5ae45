"""Crockford's base32, for codes people read out and type: license keys and activation
codes. No I, L, O or U; what a person types for those (O for zero, I or L for one) is read
as meant, in either case, with spaces and dashes ignored."""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s-]+")


def encode(number: int, length: int) -> str:
    """The low 5 * `length` bits of `number` as `length` characters, highest first."""
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(length)))


def normalize(text: object, length: int) -> str | None:
    """The `length` canonical characters `text` stands for, or None if it cannot be one."""
    if not isinstance(text, str):
        return None
    compact = _SEPARATORS.sub("", text).upper().translate(_ALIASES)
    if len(compact) != length or any(char not in ALPHABET for char in compact):
        return None
    return compact
