"""Token inventory operations shared by the CLI, the API and the demo."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit_subjects
from engine import audit

from .models import HardwareToken
from .pskc_import import PskcImportError, TokenSeed, import_tokens, read_pskc
from .seed_crypto import open_sealed

DEMO_BATCH = "demo"
DEMO_COUNT = 20


def import_seed_file(
    session: Session,
    data: bytes,
    seed_key: bytes,
    *,
    batch: str,
    psk: bytes | None = None,
    password: str | None = None,
    iv: bytes | None = None,
    actor: str | None = None,
) -> list[str]:
    """Read, check and store a whole PSKC file, or nothing (PskcImportError)."""
    seeds = read_pskc(data, psk=psk, password=password, iv=iv)
    serials = import_tokens(session, seeds, seed_key, batch)
    audit.record(
        session,
        "tokens.imported",
        subject=audit_subjects.INVENTORY,
        actor=actor,
        batch=batch,
        count=len(serials),
    )
    return serials


def demo_seeds() -> list[TokenSeed]:
    """A demo batch whose secrets are derived from public text: never for real use.
    Half are 30 s / 6 digit SHA1 tokens, half 60 s / 8 digit SHA256 (like Feitian c200)."""
    seeds = []
    for n in range(1, DEMO_COUNT + 1):
        secret = hashlib.sha256(f"tokenflow-demo-token-{n}".encode()).digest()[:20]
        if n % 2:
            seeds.append(TokenSeed(f"DEMO{n:05d}", "totp", "SHA1", 6, 30, 0, secret))
        else:
            seeds.append(TokenSeed(f"DEMO{n:05d}", "totp", "SHA256", 8, 60, 0, secret))
    return seeds


def load_demo_batch(session: Session, seed_key: bytes) -> int:
    if session.scalar(select(HardwareToken.id).where(HardwareToken.batch == DEMO_BATCH)):
        return 0
    return len(import_tokens(session, demo_seeds(), seed_key, DEMO_BATCH))


def demo_codes(session: Session, seed_key: bytes, serial: str, now: datetime) -> list[str]:
    """What pressing a demo token's button twice shows: two consecutive codes.
    Refused for any token that is not in the demo batch."""
    token = session.scalar(select(HardwareToken).where(HardwareToken.serial == serial))
    if token is None or token.batch != DEMO_BATCH:
        raise PskcImportError(f"{serial} is not a demo token")
    secret = open_sealed(seed_key, token.sealed_secret, token.serial)
    digest = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
    otp = pyotp.TOTP(
        base64.b32encode(secret).decode(),
        digits=token.digits,
        digest=digest[token.algorithm],
        interval=token.period or 30,
    )
    step = int(now.timestamp()) // (token.period or 30)
    return [otp.generate_otp(step), otp.generate_otp(step + 1)]
