"""OTP verification: RFC vectors, windows, drift, replay and consecutive codes."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.tokens.models import HardwareToken
from domain.tokens.otp import (
    LOGIN_HOTP_LOOKAHEAD,
    LOGIN_TOTP_WINDOW,
    REGISTRATION_HOTP_LOOKAHEAD,
    REGISTRATION_TOTP_WINDOW,
    Match,
    OtpParams,
    current_time_step,
    find_consecutive_match,
    find_login_match,
    normalize_code,
)

RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]
RFC6238_SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238 Appendix B: (Unix time, {algorithm: 8-digit code}).
RFC6238_VECTORS = [
    (59, {"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}),
    (1111111109, {"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}),
    (1111111111, {"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}),
    (1234567890, {"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}),
    (2000000000, {"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}),
    (20000000000, {"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}),
]
DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}

SECRET = b"\x0b" * 20
NOW = datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)
TOTP = OtpParams(kind="totp", algorithm="SHA1", digits=6, period=30)
HOTP = OtpParams(kind="hotp", algorithm="SHA1", digits=6, period=None, counter=100)


def code_at(params: OtpParams, n: int, secret: bytes = SECRET) -> str:
    """The reference code at counter or time step `n`, straight from pyotp."""
    b32 = base64.b32encode(secret).decode()
    return pyotp.HOTP(b32, digits=params.digits, digest=DIGESTS[params.algorithm]).at(n)


def step_now(params: OtpParams = TOTP) -> int:
    assert params.period is not None
    return current_time_step(NOW, params.period)


def stored(params: OtpParams, match: Match) -> OtpParams:
    """The token state after a caller stores `match`."""
    if params.kind == "totp":
        return replace(params, last_time_step=match.step_or_counter, drift_steps=match.drift_steps)
    return replace(params, counter=match.next_counter)


@pytest.mark.parametrize(("counter", "code"), list(enumerate(RFC4226_CODES)))
def test_hotp_matches_rfc4226_appendix_d_vectors(counter, code):
    params = OtpParams(kind="hotp", algorithm="SHA1", digits=6, period=None, counter=counter)
    match = find_login_match(params, RFC4226_SECRET, code, NOW, window=0)
    assert match == Match(step_or_counter=counter, drift_steps=0, next_counter=counter + 1)


@pytest.mark.parametrize(("timestamp", "codes"), RFC6238_VECTORS)
@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
def test_totp_matches_rfc6238_appendix_b_vectors(timestamp, codes, algorithm):
    params = OtpParams(kind="totp", algorithm=algorithm, digits=8, period=30)
    now = datetime.fromtimestamp(timestamp, UTC)
    match = find_login_match(params, RFC6238_SEEDS[algorithm], codes[algorithm], now, window=0)
    assert match is not None
    assert match.step_or_counter == timestamp // 30
    assert match.drift_steps == 0


def test_totp_code_for_the_current_step_matches_at_login():
    match = find_login_match(TOTP, SECRET, code_at(TOTP, step_now()), NOW, LOGIN_TOTP_WINDOW)
    assert match == Match(step_or_counter=step_now(), drift_steps=0, next_counter=0)


def test_totp_code_typed_with_spaces_matches():
    code = code_at(TOTP, step_now())
    assert find_login_match(TOTP, SECRET, f" {code[:3]} {code[3:]} ", NOW, 1) is not None


def test_totp_code_from_three_steps_ahead_matches_and_reports_drift():
    match = find_login_match(TOTP, SECRET, code_at(TOTP, step_now() + 3), NOW, window=3)
    assert match is not None
    assert match.step_or_counter == step_now() + 3
    assert match.drift_steps == 3


def test_totp_code_from_one_step_behind_matches_at_login_and_reports_negative_drift():
    match = find_login_match(TOTP, SECRET, code_at(TOTP, step_now() - 1), NOW, LOGIN_TOTP_WINDOW)
    assert match is not None
    assert match.drift_steps == -1


def test_totp_code_two_steps_away_is_refused_at_login():
    for step in (step_now() - 2, step_now() + 2):
        assert find_login_match(TOTP, SECRET, code_at(TOTP, step), NOW, LOGIN_TOTP_WINDOW) is None


def test_totp_login_window_follows_the_learnt_drift():
    drifted = replace(TOTP, drift_steps=5)
    ahead = code_at(TOTP, step_now() + 6)
    assert find_login_match(drifted, SECRET, ahead, NOW, LOGIN_TOTP_WINDOW) is not None
    on_time = code_at(TOTP, step_now() - 1)
    assert find_login_match(drifted, SECRET, on_time, NOW, LOGIN_TOTP_WINDOW) is None


def test_totp_code_is_refused_once_it_has_been_used():
    code = code_at(TOTP, step_now())
    match = find_login_match(TOTP, SECRET, code, NOW, LOGIN_TOTP_WINDOW)
    assert match is not None
    assert find_login_match(stored(TOTP, match), SECRET, code, NOW, LOGIN_TOTP_WINDOW) is None


def test_totp_code_older_than_the_last_used_step_is_refused():
    used = replace(TOTP, last_time_step=step_now())
    older = code_at(TOTP, step_now() - 1)
    assert find_login_match(used, SECRET, older, NOW, LOGIN_TOTP_WINDOW) is None


def test_totp_code_after_the_last_used_step_matches():
    used = replace(TOTP, last_time_step=step_now())
    newer = code_at(TOTP, step_now() + 1)
    assert find_login_match(used, SECRET, newer, NOW, LOGIN_TOTP_WINDOW) is not None


def test_totp_token_with_60_second_period_and_8_digits_uses_its_own_parameters():
    params = OtpParams(kind="totp", algorithm="SHA256", digits=8, period=60)
    reference = pyotp.TOTP(
        base64.b32encode(SECRET).decode(), digits=8, digest=hashlib.sha256, interval=60
    )
    match = find_login_match(params, SECRET, reference.at(NOW), NOW, LOGIN_TOTP_WINDOW)
    assert match is not None
    assert match.step_or_counter == int(NOW.timestamp()) // 60
    two_minutes_on = NOW + timedelta(seconds=120)
    assert find_login_match(params, SECRET, reference.at(two_minutes_on), NOW, 1) is None


def test_code_with_the_wrong_number_of_digits_is_refused():
    eight = OtpParams(kind="totp", algorithm="SHA1", digits=8, period=30)
    eight_digit_code = code_at(eight, step_now())
    assert find_login_match(eight, SECRET, eight_digit_code[2:], NOW, 1) is None
    assert find_login_match(TOTP, SECRET, eight_digit_code, NOW, 1) is None


def test_naive_datetime_is_refused_rather_than_read_as_local_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        find_login_match(TOTP, SECRET, "123456", datetime(2024, 5, 1, 12), 1)


def test_hotp_code_within_the_look_ahead_matches_and_moves_the_counter_past_it():
    ahead = HOTP.counter + LOGIN_HOTP_LOOKAHEAD
    match = find_login_match(HOTP, SECRET, code_at(HOTP, ahead), NOW, LOGIN_HOTP_LOOKAHEAD)
    assert match == Match(step_or_counter=ahead, drift_steps=0, next_counter=ahead + 1)


def test_hotp_code_beyond_the_look_ahead_is_refused():
    beyond = code_at(HOTP, HOTP.counter + LOGIN_HOTP_LOOKAHEAD + 1)
    assert find_login_match(HOTP, SECRET, beyond, NOW, LOGIN_HOTP_LOOKAHEAD) is None


def test_hotp_code_before_the_stored_counter_is_refused():
    used = code_at(HOTP, HOTP.counter - 1)
    assert find_login_match(HOTP, SECRET, used, NOW, LOGIN_HOTP_LOOKAHEAD) is None


def test_hotp_code_is_refused_once_it_has_been_used():
    code = code_at(HOTP, HOTP.counter + 2)
    match = find_login_match(HOTP, SECRET, code, NOW, LOGIN_HOTP_LOOKAHEAD)
    assert match is not None
    assert find_login_match(stored(HOTP, match), SECRET, code, NOW, LOGIN_HOTP_LOOKAHEAD) is None


def test_consecutive_totp_codes_match_and_return_the_second_step():
    n = step_now() - 2
    match = find_consecutive_match(
        TOTP, SECRET, code_at(TOTP, n), code_at(TOTP, n + 1), NOW, REGISTRATION_TOTP_WINDOW
    )
    assert match == Match(step_or_counter=n + 1, drift_steps=-1, next_counter=0)


def test_consecutive_totp_codes_from_a_drifted_clock_match_and_teach_the_drift():
    n = step_now() + 7
    match = find_consecutive_match(
        TOTP, SECRET, code_at(TOTP, n), code_at(TOTP, n + 1), NOW, REGISTRATION_TOTP_WINDOW
    )
    assert match is not None
    assert match.drift_steps == 8


def test_consecutive_totp_codes_cannot_be_used_again_after_the_match_is_stored():
    first, second = code_at(TOTP, step_now() - 1), code_at(TOTP, step_now())
    match = find_consecutive_match(TOTP, SECRET, first, second, NOW, REGISTRATION_TOTP_WINDOW)
    assert match is not None
    after = stored(TOTP, match)
    assert find_consecutive_match(after, SECRET, first, second, NOW, 10) is None
    assert find_login_match(after, SECRET, first, NOW, LOGIN_TOTP_WINDOW) is None
    assert find_login_match(after, SECRET, second, NOW, LOGIN_TOTP_WINDOW) is None


def test_consecutive_totp_codes_whose_first_step_was_already_used_are_refused():
    n = step_now()
    used = replace(TOTP, last_time_step=n)
    assert (
        find_consecutive_match(
            used, SECRET, code_at(TOTP, n), code_at(TOTP, n + 1), NOW, REGISTRATION_TOTP_WINDOW
        )
        is None
    )


def test_non_consecutive_totp_codes_are_refused():
    n = step_now()
    assert (
        find_consecutive_match(
            TOTP, SECRET, code_at(TOTP, n), code_at(TOTP, n + 2), NOW, REGISTRATION_TOTP_WINDOW
        )
        is None
    )


def test_totp_codes_in_reverse_order_are_refused():
    n = step_now()
    assert (
        find_consecutive_match(
            TOTP, SECRET, code_at(TOTP, n + 1), code_at(TOTP, n), NOW, REGISTRATION_TOTP_WINDOW
        )
        is None
    )


def test_the_same_totp_code_twice_is_refused():
    code = code_at(TOTP, step_now())
    assert find_consecutive_match(TOTP, SECRET, code, code, NOW, REGISTRATION_TOTP_WINDOW) is None


def test_consecutive_totp_codes_outside_the_window_are_refused():
    window = REGISTRATION_TOTP_WINDOW
    for n in (step_now() - window - 1, step_now() + window):
        first, second = code_at(TOTP, n), code_at(TOTP, n + 1)
        assert find_consecutive_match(TOTP, SECRET, first, second, NOW, window) is None


def test_consecutive_totp_codes_at_both_edges_of_the_window_match():
    window = REGISTRATION_TOTP_WINDOW
    for n in (step_now() - window, step_now() + window - 1):
        first, second = code_at(TOTP, n), code_at(TOTP, n + 1)
        assert find_consecutive_match(TOTP, SECRET, first, second, NOW, window) is not None


def test_consecutive_hotp_codes_within_the_look_ahead_match_and_move_the_counter_past_both():
    n = HOTP.counter + REGISTRATION_HOTP_LOOKAHEAD
    match = find_consecutive_match(
        HOTP, SECRET, code_at(HOTP, n), code_at(HOTP, n + 1), NOW, REGISTRATION_HOTP_LOOKAHEAD
    )
    assert match == Match(step_or_counter=n + 1, drift_steps=0, next_counter=n + 2)


def test_consecutive_hotp_codes_beyond_the_look_ahead_are_refused():
    n = HOTP.counter + REGISTRATION_HOTP_LOOKAHEAD + 1
    assert (
        find_consecutive_match(
            HOTP, SECRET, code_at(HOTP, n), code_at(HOTP, n + 1), NOW, REGISTRATION_HOTP_LOOKAHEAD
        )
        is None
    )


def test_hotp_codes_in_reverse_order_or_with_a_gap_are_refused():
    n = HOTP.counter + 3
    codes = [code_at(HOTP, n + i) for i in range(3)]
    for first, second in ((codes[1], codes[0]), (codes[0], codes[2])):
        assert find_consecutive_match(HOTP, SECRET, first, second, NOW, 50) is None


def new_token(**columns: object) -> HardwareToken:
    return HardwareToken(serial="TF-1", sealed_secret=b"", batch="b", **columns)


def test_token_row_records_a_totp_match_so_its_code_cannot_be_replayed():
    token = new_token(kind="totp", algorithm="SHA1", digits=6, period=30)
    code = code_at(TOTP, step_now() + 1)
    match = find_login_match(token.otp_params(), SECRET, code, NOW, LOGIN_TOTP_WINDOW)
    assert match is not None
    token.record_match(match)
    assert (token.last_time_step, token.drift_steps) == (step_now() + 1, 1)
    assert find_login_match(token.otp_params(), SECRET, code, NOW, LOGIN_TOTP_WINDOW) is None


def test_token_row_records_a_hotp_match_as_its_next_counter():
    token = new_token(kind="hotp", algorithm="SHA1", digits=6, period=None, counter=100)
    code = code_at(HOTP, 104)
    match = find_login_match(token.otp_params(), SECRET, code, NOW, LOGIN_HOTP_LOOKAHEAD)
    assert match is not None
    token.record_match(match)
    assert token.counter == 105
    assert find_login_match(token.otp_params(), SECRET, code, NOW, LOGIN_HOTP_LOOKAHEAD) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "123456"),  # full-width, from an IME
        ("12345a", None),
        ("123-456", None),
        ("", None),
        ("   ", None),
        ("²³", None),
    ],
)
def test_normalize_code_keeps_only_decimal_digits(text, expected):
    assert normalize_code(text) == expected


@settings(database=None)
@given(st.text())
def test_normalize_code_never_raises_and_returns_ascii_digits_or_none(text):
    result = normalize_code(text)
    assert result is None or (result.isascii() and result.isdigit())


@settings(database=None, max_examples=200)
@given(code=st.text(), kind=st.sampled_from(["totp", "hotp"]))
def test_find_login_match_never_raises_on_arbitrary_code_text(code, kind):
    params = TOTP if kind == "totp" else HOTP
    result = find_login_match(params, SECRET, code, NOW, LOGIN_TOTP_WINDOW)
    assert result is None or isinstance(result, Match)


@settings(max_examples=300, deadline=None)
@given(
    secret=st.binary(min_size=16, max_size=64),
    counter=st.integers(min_value=0, max_value=2**48),
    digits=st.integers(min_value=6, max_value=10),
    algorithm=st.sampled_from(["SHA1", "SHA256", "SHA512"]),
)
def test_every_code_is_the_one_pyotp_computes(secret, counter, digits, algorithm):
    """The codes are computed here with the standard library's HMAC; pyotp, which
    computed them before, agrees on every one."""
    digest = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
    expected = pyotp.HOTP(
        base64.b32encode(secret).decode(), digits=digits, digest=digest[algorithm]
    ).at(counter)
    params = OtpParams("hotp", algorithm, digits, period=None, counter=counter)
    match = find_login_match(params, secret, expected, datetime(2026, 1, 1, tzinfo=UTC), 0)
    assert match is not None and match.step_or_counter == counter
