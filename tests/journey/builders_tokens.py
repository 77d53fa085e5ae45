"""Hardware tokens for journey tests. They enter the inventory through `import_tokens`, the
path an operator's PSKC import takes, so their secrets are sealed exactly as in production.

- `stock_tokens`: a small PSKC seed file written on the spot (`pskc_file`, each seed
  derivable with `seed_of`), so a journey can allocate a token;
- `add_token`: one token whose clear secret the test keeps (`TestToken`), to compute the
  codes it would show with pyotp at the engine's clock;
- `two_codes` of a stocked token, and `deliver_and_register`, the journey's last steps.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pyotp
from sqlalchemy import select

from domain.tokens.models import HardwareToken
from domain.tokens.pskc_import import TokenSeed, import_tokens, read_pskc
from engine.clock import clock
from engine.db import unit_of_work
from service_layer.system import System
from tests.builders import Journey

_KEY_PACKAGE = """
  <KeyPackage>
    <DeviceInfo><Manufacturer>Test</Manufacturer><SerialNo>{serial}</SerialNo></DeviceInfo>
    <Key Id="{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
      <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>
        <Secret><PlainValue>{secret}</PlainValue></Secret>
        <TimeInterval><PlainValue>30</PlainValue></TimeInterval>
      </Data>
    </Key>
  </KeyPackage>"""


def seed_of(serial: str) -> bytes:
    """A token's seed, derivable by the test that later needs its codes."""
    return hashlib.sha256(f"test seed {serial}".encode()).digest()[:20]


def pskc_file(serials: list[str]) -> bytes:
    packages = "".join(
        _KEY_PACKAGE.format(serial=s, secret=base64.b64encode(seed_of(s)).decode()) for s in serials
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
        f"{packages}\n</KeyContainer>\n"
    ).encode()


def stock_tokens(system: System, count: int = 3, prefix: str = "TF") -> list[str]:
    """Import `count` TOTP tokens (serials `TF000001`...) into the inventory."""
    serials = [f"{prefix}{n:06d}" for n in range(1, count + 1)]
    with unit_of_work(system.session_factory) as s:
        seeds = read_pskc(pskc_file(serials))
        return import_tokens(s, seeds, system.services.seed_key, batch="journey-test")


_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


@dataclass(frozen=True)
class TestToken:
    __test__ = False  # not a pytest test class

    serial: str
    kind: str
    digits: int
    period: int | None
    algorithm: str
    secret: bytes

    def _generator(self) -> pyotp.HOTP:
        b32 = base64.b32encode(self.secret).decode()
        return pyotp.HOTP(b32, digits=self.digits, digest=_DIGESTS[self.algorithm])

    def code_at(self, n: int) -> str:
        """The code at HOTP counter or TOTP time step `n`."""
        return self._generator().at(n)

    def current_step(self) -> int:
        assert self.period is not None
        return int(clock.now().timestamp()) // self.period

    def consecutive_codes(self, offset: int = 0) -> tuple[str, str]:
        """Two codes shown one press after the other: TOTP ending at the current time step
        (plus `offset` steps), HOTP at counters `offset` and `offset + 1`."""
        if self.kind == "hotp":
            return self.code_at(offset), self.code_at(offset + 1)
        step = self.current_step() + offset
        return self.code_at(step - 1), self.code_at(step)


def add_token(
    system: System,
    serial: str,
    *,
    kind: str = "totp",
    digits: int = 6,
    period: int | None = 30,
    algorithm: str = "SHA1",
    order_number: str | None = None,
    secret: bytes | None = None,
) -> TestToken:
    """Import one token (its secret derived from the serial unless given); with
    `order_number` it is allocated to that order, as shipping would have done."""
    secret = secret or hashlib.sha256(f"journey seed {serial}".encode()).digest()[:20]
    seed = TokenSeed(
        serial=serial,
        kind=kind,
        algorithm=algorithm,
        digits=digits,
        period=period if kind == "totp" else None,
        counter=0,
        secret=secret,
    )
    with unit_of_work(system.session_factory) as s:
        import_tokens(s, [seed], system.services.seed_key, batch="journey-test")
        if order_number is not None:
            row = s.scalars(select(HardwareToken).where(HardwareToken.serial == serial)).one()
            row.status, row.order_number = "allocated", order_number
    return TestToken(serial, kind, digits, seed.period, algorithm, secret)


def token_row(system: System, serial: str) -> HardwareToken:
    """The inventory's row for `serial`, detached (to read, not to change)."""
    with unit_of_work(system.session_factory) as s:
        row = s.scalars(select(HardwareToken).where(HardwareToken.serial == serial)).one()
        s.expunge(row)
        return row


# -- the token in the customer's hands -----------------------------------------------


def two_codes(serial: str) -> tuple[str, str]:
    """What pressing the token's button twice shows (TF test tokens: TOTP, 30 s, 6)."""
    totp = pyotp.TOTP(base64.b32encode(seed_of(serial)).decode())
    step = int(clock.now().timestamp()) // 30
    return totp.generate_otp(step), totp.generate_otp(step + 1)


def deliver_and_register(journey: Journey) -> None:
    """The token arrives; the customer registers it with two codes and skips the phone."""
    journey.message("token_delivered", {"carrier_status": "delivered"})
    serial = journey.variables["token_serial"]
    code1, code2 = two_codes(serial)
    journey.complete("register_token", {"serial_number": serial, "code1": code1, "code2": code2})
    journey.complete("register_phone", {"skip": True})


def totp_codes(serial: str) -> tuple[str, str]:
    """The previous code and the current one of a stocked token, as a person typing two
    codes shown a moment apart has them (`two_codes` is the current and the next)."""
    totp = pyotp.TOTP(base64.b32encode(seed_of(serial)).decode())
    step = int(clock.now().timestamp()) // 30
    return totp.generate_otp(step - 1), totp.generate_otp(step)
