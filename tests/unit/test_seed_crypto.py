"""Token secrets sealed at rest: round trip, and every way a sealed blob must fail."""

from __future__ import annotations

import base64

import pytest

from domain.tokens.seed_crypto import SealError, open_sealed, parse_seed_key, seal

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SECRET = b"12345678901234567890"


def test_sealed_secret_opens_with_the_same_key_and_serial():
    blob = seal(KEY, SECRET, "987654321")
    assert open_sealed(KEY, blob, "987654321") == SECRET


def test_sealed_secret_does_not_contain_the_plain_secret():
    assert SECRET not in seal(KEY, SECRET, "987654321")


def test_sealing_twice_gives_different_bytes_because_the_nonce_is_random():
    assert seal(KEY, SECRET, "S1") != seal(KEY, SECRET, "S1")


def test_sealed_secret_copied_to_another_serial_does_not_open():
    blob = seal(KEY, SECRET, "S1")
    with pytest.raises(SealError):
        open_sealed(KEY, blob, "S2")


def test_sealed_secret_does_not_open_with_another_key():
    blob = seal(KEY, SECRET, "S1")
    with pytest.raises(SealError):
        open_sealed(OTHER_KEY, blob, "S1")


@pytest.mark.parametrize("position", [0, 11, 12, -1])
def test_sealed_secret_with_any_flipped_byte_does_not_open(position):
    blob = bytearray(seal(KEY, SECRET, "S1"))
    blob[position] ^= 0x01
    with pytest.raises(SealError):
        open_sealed(KEY, bytes(blob), "S1")


def test_truncated_sealed_secret_does_not_open():
    with pytest.raises(SealError):
        open_sealed(KEY, seal(KEY, SECRET, "S1")[:20], "S1")


def test_sealing_with_a_key_that_is_not_32_bytes_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        seal(KEY[:16], SECRET, "S1")


def test_seed_key_is_read_from_64_hex_characters():
    assert parse_seed_key(KEY.hex()) == KEY
    assert parse_seed_key(f"  {KEY.hex().upper()}\n") == KEY


def test_seed_key_is_read_from_urlsafe_base64_with_or_without_padding():
    text = base64.urlsafe_b64encode(KEY).decode()
    assert parse_seed_key(text) == KEY
    assert parse_seed_key(text.rstrip("=")) == KEY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "secret",
        KEY.hex()[:-2],
        KEY.hex() + "00",
        base64.urlsafe_b64encode(KEY[:16]).decode(),
        base64.b64encode(bytes([0xFB] * 32)).decode(),  # '+' and '/' are not URL-safe
        "g" * 64,
    ],
)
def test_seed_key_in_any_other_form_is_refused_without_echoing_it(text):
    with pytest.raises(ValueError, match="64 hex characters or URL-safe base64") as caught:
        parse_seed_key(text)
    assert not text or text not in str(caught.value)
