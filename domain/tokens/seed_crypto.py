"""Token secrets sealed at rest with AES-GCM.

A database dump alone must not reveal any seed: each secret is encrypted under a key that
lives outside the database (`TOKENFLOW_SEED_KEY`). The token's serial is bound in as
associated data, so a sealed secret copied onto another token's row refuses to open
instead of silently making one token verify another's codes.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_B64_KEY = re.compile(r"[A-Za-z0-9_-]{43}=?")


class SealError(Exception):
    """A sealed secret did not open: wrong key, wrong serial, or altered bytes."""


def parse_seed_key(text: str) -> bytes:
    """The 32-byte seed key from its configured text form.

    Accepts 64 hex characters or URL-safe base64 of 32 bytes. The error never repeats
    the text, because the text is the key.
    """
    candidate = text.strip()
    if _HEX_KEY.fullmatch(candidate):
        return bytes.fromhex(candidate)
    if _B64_KEY.fullmatch(candidate):
        try:
            key = base64.urlsafe_b64decode(candidate.rstrip("=") + "=")
        except binascii.Error:
            key = b""
        if len(key) == KEY_BYTES:
            return key
    raise ValueError("the seed key must be 64 hex characters or URL-safe base64 of 32 bytes")


def _cipher(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise ValueError(f"the seed key must be {KEY_BYTES} bytes")
    return AESGCM(key)


def seal(key: bytes, secret: bytes, serial: str) -> bytes:
    """`secret` encrypted for the token `serial`: nonce followed by ciphertext and tag.

    The nonce is random for every call, so sealing the same secret twice yields
    different bytes and nothing can be learnt by comparing rows.
    """
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(key).encrypt(nonce, secret, serial.encode())


def open_sealed(key: bytes, blob: bytes, serial: str) -> bytes:
    """The secret sealed by `seal` for `serial`; `SealError` if it does not authenticate."""
    cipher = _cipher(key)
    if len(blob) < NONCE_BYTES + _TAG_BYTES:
        raise SealError("sealed secret is truncated")
    nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        return cipher.decrypt(nonce, ciphertext, serial.encode())
    except InvalidTag:
        raise SealError(
            "sealed secret does not open: wrong seed key, wrong serial or altered data"
        ) from None
