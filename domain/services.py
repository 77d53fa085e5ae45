"""What handlers reach outside the workflow: adapters and keys, built from configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters import Adapters, build_adapters
from domain.tokens.seed_crypto import parse_seed_key
from engine.clock import clock


@dataclass(frozen=True)
class Services:
    adapters: Adapters
    # The seed key in a closure, not as bytes in an attribute: objects that request code
    # can walk to (the app's extensions, the engine) hold no plain key.
    read_seed_key: Callable[[], bytes] = field(repr=False)
    settings: dict[str, Any]

    @property
    def seed_key(self) -> bytes:
        return self.read_seed_key()


def build_services(config: Any) -> Services:
    seed_key = parse_seed_key(config.seed_key.reveal())
    return Services(
        adapters=build_adapters(
            config.sandbox_dir,
            config.outbox_dir,
            config.smtp_host,
            config.smtp_port,
            config.mail_from,
            clock=clock.now,
            delivery_after=config.sandbox_delivery_after,
        ),
        read_seed_key=lambda: seed_key,
        settings={"public_base_url": getattr(config, "base_url", None)},
    )
