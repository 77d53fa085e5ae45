"""Demo data for `make run`: users of every role, a demo token batch. Idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.db import unit_of_work
from handlers.tokens.inventory import load_demo_batch
from web.accounts import create_user, find_user

DEMO_PASSWORD = "tokenflow-demo"  # noqa: S105  demo accounts, printed on purpose
DEMO_USERS = [
    ("customer", ["customer"]),
    ("agent", ["proofing_agent"]),
    ("support", ["support"]),
    ("finance", ["finance"]),
    ("analyst", ["analyst"]),
    ("admin", ["admin"]),
]


def load_demo(system: Any) -> Iterator[str]:
    with unit_of_work(system.session_factory) as s:
        for name, roles in DEMO_USERS:
            if find_user(s, name) is None:
                create_user(s, name, DEMO_PASSWORD, roles, actor="demo")
        tokens = load_demo_batch(s, system.services.seed_key)
    yield "Demo logins (password for all: tokenflow-demo):"
    for name, roles in DEMO_USERS:
        yield f"  {name:<9} {', '.join(roles)}"
    yield f"Demo token batch: {tokens} new token(s) (serials DEMO00001..DEMO00020)."
    yield "Codes of a demo token: .venv/bin/tokenflow tokens demo-codes DEMO00001"
