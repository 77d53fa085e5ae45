"""Token inventory for journey tests: a small PSKC seed file written on the spot and
imported through the same path an operator uses, so a journey can allocate a token."""

from __future__ import annotations

import base64
import hashlib

from sqlalchemy import select

from domain.tokens.models import HardwareToken
from domain.tokens.pskc_import import import_tokens, read_pskc
from engine.db import unit_of_work
from service_layer.system import System

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


def token(system: System, serial: str) -> HardwareToken:
    with unit_of_work(system.session_factory) as s:
        found = s.scalars(select(HardwareToken).where(HardwareToken.serial == serial)).one()
        s.expunge(found)
        return found
