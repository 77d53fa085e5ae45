"""Codes a person types (activation codes, phone codes, license keys), stored only as keyed
digests: HMAC-SHA256 under a key derived from the seed key, which lives outside the database.

A database dump alone reveals no code. A deterministic digest (unlike argon2's salted one)
lets a validator find a code by its digest in one query.
"""

from __future__ import annotations

import hashlib
import hmac


def code_digest(key: bytes, purpose: str, code: str) -> str:
    """The stored form of a normalized code; `purpose` keeps activation and phone codes
    (and any later kind) from ever matching each other's digests."""
    subkey = hmac.new(key, f"tokenflow:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(subkey, code.encode(), hashlib.sha256).hexdigest()


PHONE_CODE_DIGITS = 6


def derive_phone_code(seed_key: bytes, idempotency_key: str) -> str:
    """Six digits for one send, derived rather than random: a retried send (same key) sends
    the same code, so a crash between sending and storing never leaves a code unusable."""
    mac = hmac.new(
        seed_key, f"tokenflow:phone-code-gen:{idempotency_key}".encode(), hashlib.sha256
    ).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**PHONE_CODE_DIGITS:0{PHONE_CODE_DIGITS}d}"
