"""Use cases of hardware tokens outside a process: the owner's resync, support's reset,
an admin's seed-file import. The API, the pages and the CLI call these; each opens its
one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from domain.credentials import lockout
from domain.tokens.inventory import import_seed_file
from domain.tokens.pskc_import import PskcImportError
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work

from .system import System

TokenRefused = lockout.TokenRefused
__all__ = [
    "PskcImportError",
    "TokenRefused",
    "TokenState",
    "import_tokens",
    "resync",
    "support_reset",
]


@dataclass(frozen=True)
class TokenState:
    serial: str
    status: str


def resync(system: System, owner: Actor, serial: str, code1: str, code2: str) -> TokenState:
    """The owner's token in step again (and unlocked) from two consecutive codes. A
    refusal (TokenRefused) is raised after its transaction commits: the failed attempt
    counts toward the token's lockout."""
    refused: lockout.TokenRefused | None = None
    with unit_of_work(system.session_factory) as s:
        try:
            token = lockout.resync(
                s,
                system.services.seed_key,
                owner.user_id or 0,
                serial,
                code1,
                code2,
                clock.now(),
                owner.name,
            )
            state = TokenState(token.serial, token.status)
        except lockout.TokenRefused as exc:
            refused = exc
    if refused is not None:
        raise refused
    return state


def support_reset(
    system: System, actor: str, serial: str, codes: tuple[str, str] | None = None
) -> TokenState:
    """Support unlocks a token; with two consecutive codes it re-learns its clock too."""
    with unit_of_work(system.session_factory) as s:
        token = lockout.support_reset(
            s, system.services.seed_key, serial, clock.now(), actor, codes
        )
        return TokenState(token.serial, token.status)


def import_tokens(
    system: System,
    data: bytes,
    *,
    batch: str,
    actor: str,
    psk: bytes | None = None,
    password: str | None = None,
    iv: bytes | None = None,
) -> list[str]:
    """Every token of a PSKC (RFC 6030) file stored, or none (PskcImportError)."""
    with unit_of_work(system.session_factory) as s:
        return import_seed_file(
            s,
            data,
            system.services.seed_key,
            batch=batch,
            psk=psk,
            password=password,
            iv=iv,
            actor=actor,
        )
