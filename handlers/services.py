"""What handlers reach outside the workflow: adapters and keys, built from configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.clock import clock
from handlers.adapters import Adapters, build_adapters
from handlers.tokens.seed_crypto import parse_seed_key


@dataclass(frozen=True)
class Services:
    adapters: Adapters
    seed_key: bytes
    settings: dict[str, Any]


def build_services(config: Any) -> Services:
    return Services(
        adapters=build_adapters(
            config.sandbox_dir,
            config.outbox_dir,
            config.smtp_host,
            config.smtp_port,
            config.mail_from,
            clock=clock.now,
        ),
        seed_key=parse_seed_key(config.seed_key),
        settings={},
    )
