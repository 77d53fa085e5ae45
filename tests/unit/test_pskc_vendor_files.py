"""PSKC files as vendors write them: a measured clock drift, an IV sent apart from the
file, older ciphers, and encryptions nobody here can read."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pyotp
import pytest
from sqlalchemy.orm import Session

from domain.tokens.models import HardwareToken
from domain.tokens.otp import (
    REGISTRATION_TOTP_WINDOW,
    RESYNC_TOTP_WINDOW,
    current_time_step,
    find_consecutive_match,
)
from domain.tokens.pskc_import import PskcImportError, import_tokens, read_pskc
from domain.tokens.seed_crypto import open_sealed
from engine.clock import clock
from tests.unit.builders import LEGACY_SECRET, document, encrypted_file, key_package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pskc"
SEED_KEY = bytes(range(32))
NOIV_PSK = bytes.fromhex("12345678901234567890123456789012")
NOIV_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SECRET = b"12345678901234567890"
# Algorithm, and a key of its size, for files that python-pskc writes here.
LEGACY_CIPHERS = {
    "camellia128-cbc": bytes(range(16)),
    "camellia256-cbc": bytes(range(32)),
    "kw-camellia128": bytes(range(16)),
    "tripledes-cbc": bytes(range(24)),
    "kw-tripledes": bytes(range(24)),
}


def with_drift(package: str, drift: int) -> str:
    return package.replace(
        "</Data>", f"<TimeDrift><PlainValue>{drift}</PlainValue></TimeDrift></Data>"
    )


def two_codes_at_drift(secret: bytes, period: int, drift: int, now: datetime) -> tuple[str, str]:
    """What the owner reads off a token whose clock is `drift` steps off: two codes."""
    otp = pyotp.HOTP(base64.b32encode(secret).decode())
    step = current_time_step(now, period) + drift
    return otp.at(step - 1), otp.at(step)


def test_a_time_drift_in_the_file_is_kept_as_the_tokens_learnt_drift(session: Session) -> None:
    [seed] = read_pskc(document(with_drift(key_package("TF-1", interval=60), -122)))
    assert (seed.period, seed.drift_steps) == (60, -122)
    import_tokens(session, [seed], SEED_KEY, "drifted")
    assert session.query(HardwareToken).one().drift_steps == -122


def test_a_time_drift_beyond_two_months_of_steps_is_refused() -> None:
    with pytest.raises(PskcImportError, match="TF-1: a time drift beyond 100000 steps"):
        read_pskc(document(with_drift(key_package("TF-1", interval=60), -100_001)))


def test_a_time_drift_on_an_hotp_key_means_nothing_and_is_ignored() -> None:
    package = key_package("TF-1", algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp")
    [seed] = read_pskc(document(with_drift(package, 5)))
    assert seed.drift_steps == 0


def test_the_vendor_file_drifted_122_steps_registers_and_resyncs_with_the_tokens_codes(
    session: Session,
) -> None:
    [seed] = read_pskc((FIXTURES / "feitian_c200_timedrift.xml").read_bytes())
    assert (seed.serial, seed.period, seed.drift_steps) == ("2600215704919", 60, -122)
    import_tokens(session, [seed], SEED_KEY, "feitian")
    token = session.query(HardwareToken).one()
    secret = open_sealed(SEED_KEY, token.sealed_secret, token.serial)
    now = clock.now()
    code1, code2 = two_codes_at_drift(secret, 60, -122, now)
    params = token.otp_params()
    for window in (REGISTRATION_TOTP_WINDOW, RESYNC_TOTP_WINDOW):
        match = find_consecutive_match(params, secret, code1, code2, now, window)
        assert match is not None and match.drift_steps == -122
    # Imported as 0, as it used to be, the same codes are out of reach of both windows.
    undrifted = replace(params, drift_steps=0)
    assert find_consecutive_match(undrifted, secret, code1, code2, now, RESYNC_TOTP_WINDOW) is None


def test_a_noiv_file_imports_with_the_iv_the_vendor_gave_separately() -> None:
    data = (FIXTURES / "python_pskc_aes128_cbc_noiv.pskcxml").read_bytes()
    [seed] = read_pskc(data, psk=NOIV_PSK, iv=NOIV_IV)
    assert (seed.serial, seed.kind, seed.secret) == ("NOIV0001", "hotp", SECRET)


def test_a_noiv_file_without_its_iv_is_refused_naming_aes128_cbc_noiv() -> None:
    data = (FIXTURES / "python_pskc_aes128_cbc_noiv.pskcxml").read_bytes()
    with pytest.raises(PskcImportError, match="aes128-cbc-noiv, whose IV the vendor gives"):
        read_pskc(data, psk=NOIV_PSK)


def test_an_iv_of_the_wrong_size_is_refused_in_one_line() -> None:
    data = (FIXTURES / "python_pskc_aes128_cbc_noiv.pskcxml").read_bytes()
    with pytest.raises(PskcImportError, match="NOIV0001: cannot decrypt the secret"):
        read_pskc(data, psk=NOIV_PSK, iv=bytes(5))


def test_each_unsupported_encryption_is_named_in_the_refusal() -> None:
    data = encrypted_file("aes128-cbc", bytes(16)).replace(
        b"xmlenc#aes128-cbc", b"xmlenc#seed128-cbc", 1
    )
    data = data.replace(b"xmlenc#aes128-cbc", b"xmlenc#gost-cbc", 1)
    with pytest.raises(PskcImportError) as refused:
        read_pskc(data, psk=bytes(16))
    message = str(refused.value)
    assert "'http://www.w3.org/2001/04/xmlenc#seed128-cbc'" in message
    assert "'http://www.w3.org/2001/04/xmlenc#gost-cbc'" in message
    assert "MAC" not in message and "wrong pre-shared key" not in message


@pytest.mark.parametrize("algorithm", sorted(LEGACY_CIPHERS))
def test_camellia_and_triple_des_files_import_without_a_library_warning(algorithm: str) -> None:
    # pytest turns any warning into an error here, so reading is proof enough.
    [seed] = read_pskc(
        encrypted_file(algorithm, LEGACY_CIPHERS[algorithm]), psk=LEGACY_CIPHERS[algorithm]
    )
    assert (seed.serial, seed.secret) == ("LEGACY01", LEGACY_SECRET)
