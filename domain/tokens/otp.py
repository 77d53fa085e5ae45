"""Pure OTP verification: which counter or time step, if any, a typed code belongs to.

The codes are RFC 4226's HOTP (a TOTP code, RFC 6238, is the HOTP code of its time step),
computed here with the standard library's one-shot HMAC: pyotp, which gave the same
codes, decoded the secret from base32 again for every code, a third of a verification's
match. The window searches, the replay guard and drift learning live here too. Nothing
here touches the database: callers pass the token's state in as `OtpParams` and store
what the returned `Match` says, so the same code can never be accepted twice.

Every token's digits, hash and period come from its seed file; nothing assumes 30 s or
six digits.
"""

from __future__ import annotations

import hmac
import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Windows in time steps (TOTP, either side of the expected step) or counters (HOTP,
# ahead of the stored counter). Login is narrow because every extra step is another
# chance for a guessed code; registration and resync need two consecutive codes, which
# are far harder to guess, so they may look further for a token whose clock drifted or
# whose button was pressed while nobody was looking.
LOGIN_TOTP_WINDOW = 1
REGISTRATION_TOTP_WINDOW = 10
RESYNC_TOTP_WINDOW = 60
LOGIN_HOTP_LOOKAHEAD = 10
REGISTRATION_HOTP_LOOKAHEAD = 50
RESYNC_HOTP_LOOKAHEAD = 500

_DIGESTS = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}


@dataclass(frozen=True)
class OtpParams:
    """A token's verification state, as stored on its row."""

    kind: str  # 'totp' or 'hotp'
    algorithm: str  # 'SHA1', 'SHA256' or 'SHA512'
    digits: int
    period: int | None  # seconds per TOTP time step; None for HOTP
    counter: int = 0  # HOTP: next expected counter
    last_time_step: int | None = None  # TOTP: last accepted step (replay guard)
    drift_steps: int = 0  # TOTP: learnt offset of the token's clock, in steps


@dataclass(frozen=True)
class Match:
    """Where a code matched, and the state to store so that it cannot be replayed.

    TOTP: `step_or_counter` becomes the new last used step and `drift_steps` the learnt
    drift (matched step minus the server's current step). HOTP: `next_counter` is the
    matched counter plus one. The other field repeats the unchanged stored value.
    """

    step_or_counter: int
    drift_steps: int
    next_counter: int


def normalize_code(text: str) -> str | None:
    """The code as ASCII digits, or None if it is not a code.

    Whitespace is dropped because people copy codes with the token's grouping space;
    any Unicode decimal digit (full-width from an IME, say) counts as its ASCII digit.
    """
    digits: list[str] = []
    for char in text:
        if char.isspace():
            continue
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        digits.append(str(value))
    return "".join(digits) or None


def current_time_step(now: datetime, period: int) -> int:
    """The RFC 6238 time step (T0 = Unix epoch) that `now` falls in."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return math.floor(now.timestamp()) // period


def find_login_match(
    params: OtpParams, secret: bytes, code: str, now: datetime, window: int
) -> Match | None:
    """The match for one typed code, or None.

    TOTP searches `window` steps either side of the expected step (current step plus
    learnt drift), nearest first, skipping steps at or before the last used one. HOTP
    searches counters `counter` .. `counter + window`.
    """
    wanted = _normalized(code, params.digits)
    if wanted is None:
        return None
    otp = _generator(params, secret)
    current = _current(params, now)
    for n in _login_candidates(params, current, window):
        if hmac.compare_digest(otp.at(n), wanted):
            return _matched(params, n, current)
    return None


def find_consecutive_match(
    params: OtpParams, secret: bytes, code1: str, code2: str, now: datetime, window: int
) -> Match | None:
    """The match for `code2`, when `code1` is the code just before it; else None.

    Two consecutive codes prove possession far better than one, which is why
    registration and resync accept them over a wide window. TOTP: both steps lie within
    `window` steps of the expected step and after the last used step. HOTP: `code1` is
    at a counter in `counter` .. `counter + window`. The match is for `code2`, so
    storing it makes both codes unusable.
    """
    first = _normalized(code1, params.digits)
    second = _normalized(code2, params.digits)
    if first is None or second is None:
        return None
    otp = _generator(params, secret)
    current = _current(params, now)
    for n in _consecutive_candidates(params, current, window):
        if hmac.compare_digest(otp.at(n), first) and hmac.compare_digest(otp.at(n + 1), second):
            return _matched(params, n + 1, current)
    return None


def _normalized(code: str, digits: int) -> str | None:
    wanted = normalize_code(code)
    if wanted is None or len(wanted) != digits:
        return None
    return wanted


class _Codes:
    """A token's codes: `at(n)` is the HOTP code at counter (or TOTP time step) `n`."""

    __slots__ = ("_digest", "_modulus", "_secret", "digits")

    def __init__(self, secret: bytes, digest: str, digits: int) -> None:
        # The bounds pyotp kept (the import asks for more: 128 bits, 6 to 8 digits).
        if not 6 <= digits <= 10:
            raise ValueError("digits must be between 6 and 10")
        if len(secret) < 14:
            raise ValueError("Secrets must be at least 112 bits")
        self._secret, self._digest, self.digits = secret, digest, digits
        self._modulus = 10**digits

    def at(self, n: int) -> str:
        if n < 0:
            raise ValueError("input must be positive integer")
        mac = hmac.digest(self._secret, n.to_bytes(8, "big"), self._digest)
        offset = mac[-1] & 0x0F  # RFC 4226 5.3, dynamic truncation
        value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
        return str(value % self._modulus).zfill(self.digits)


def _generator(params: OtpParams, secret: bytes) -> _Codes:
    # A TOTP code is the HOTP code of the time step, so one generator serves both.
    digest = _DIGESTS.get(params.algorithm)
    if digest is None:
        raise ValueError(f"unsupported OTP algorithm {params.algorithm!r}")
    if params.kind not in ("totp", "hotp"):
        raise ValueError(f"unsupported OTP kind {params.kind!r}")
    return _Codes(secret, digest, params.digits)


def _current(params: OtpParams, now: datetime) -> int:
    """The server's current time step (TOTP) or the stored counter (HOTP)."""
    if params.kind == "hotp":
        return params.counter
    if not params.period or params.period <= 0:
        raise ValueError("a TOTP token needs a positive period")
    return current_time_step(now, params.period)


def _login_candidates(params: OtpParams, current: int, window: int) -> Iterable[int]:
    if window < 0:
        raise ValueError("window must not be negative")
    if params.kind == "hotp":
        return range(params.counter, params.counter + window + 1)
    return _fresh_steps(params, current, window)


def _consecutive_candidates(params: OtpParams, current: int, window: int) -> Iterable[int]:
    """Counters or steps `n` at which `code1` may sit (with `code2` at `n + 1`)."""
    if window < 0:
        raise ValueError("window must not be negative")
    if params.kind == "hotp":
        return range(params.counter, params.counter + window + 1)
    # Ordered by where code2 sits, since code2 is the code just read off the token.
    lowest = max(current + params.drift_steps - window, _replay_floor(params) + 1)
    return [step - 1 for step in _fresh_steps(params, current, window) if step - 1 >= lowest]


def _fresh_steps(params: OtpParams, current: int, window: int) -> list[int]:
    """TOTP steps within `window` of the expected step, nearest first, never replayed."""
    expected = current + params.drift_steps
    floor = _replay_floor(params)
    steps = [step for step in range(expected - window, expected + window + 1) if step > floor]
    return sorted(steps, key=lambda step: (abs(step - expected), step))


def _replay_floor(params: OtpParams) -> int:
    """The highest TOTP step that may not match: the last used one (steps start at 0)."""
    return -1 if params.last_time_step is None else params.last_time_step


def _matched(params: OtpParams, n: int, current: int) -> Match:
    if params.kind == "totp":
        return Match(step_or_counter=n, drift_steps=n - current, next_counter=params.counter)
    return Match(step_or_counter=n, drift_steps=params.drift_steps, next_counter=n + 1)


class OtpState(Protocol):
    """What a token keeps of its verification state: the row, or a verification's copy."""

    kind: str
    algorithm: str
    digits: int
    period: int | None
    counter: int
    last_time_step: int | None
    drift_steps: int


def params_of(token: OtpState) -> OtpParams:
    """The verification state of a token, for the pure functions above."""
    return OtpParams(
        kind=token.kind,
        algorithm=token.algorithm,
        digits=token.digits,
        period=token.period,
        counter=token.counter or 0,
        last_time_step=token.last_time_step,
        drift_steps=token.drift_steps or 0,
    )


def record_match(token: OtpState, match: Match) -> None:
    """Store what a successful match taught us, so its codes cannot be used again."""
    if token.kind == "totp":
        token.last_time_step = match.step_or_counter
        token.drift_steps = match.drift_steps
    else:
        token.counter = match.next_counter
