"""Demo data for `make run`: users of every role, a demo token batch, demo relying
applications. Idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from domain.accounts.users import create_user, find_user
from domain.relying_apps.apps import create_app, find_app
from domain.tokens.inventory import load_demo_batch
from engine.db import unit_of_work
from service_layer.system import System

DEMO_PASSWORD = "tokenflow-demo"  # noqa: S105  demo accounts, printed on purpose
DEMO_USERS = [
    ("customer", ["customer"]),
    ("agent", ["proofing_agent"]),
    ("support", ["support"]),
    ("support_lead", ["support"]),
    ("finance", ["finance"]),
    ("analyst", ["analyst"]),
    ("admin", ["admin"]),
]
# Groups beside the roles: the diagrams offer some tasks to them too (processes/README.md).
DEMO_GROUPS = {"support_lead": ["support_leads"]}
# An aerospace prime's portal takes hardware tokens only; the intranet also phone codes.
DEMO_APPS = [("aerospace-portal", "hardware_token"), ("intranet", "hardware_token,phone")]


def load_demo(system: System) -> Iterator[str]:
    with unit_of_work(system.session_factory) as s:
        for name, roles in DEMO_USERS:
            if find_user(s, name) is None:
                groups = DEMO_GROUPS.get(name, [])
                create_user(s, name, DEMO_PASSWORD, roles, actor="demo", groups=groups)
        tokens = load_demo_batch(s, system.services.seed_key)
        new_keys = {
            name: create_app(s, name, accepts, actor="demo")[1]
            for name, accepts in DEMO_APPS
            if find_app(s, name) is None
        }
    yield "Demo logins (password for all: tokenflow-demo):"
    for name, roles in DEMO_USERS:
        yield f"  {name:<12} {', '.join(roles + DEMO_GROUPS.get(name, []))}"
    yield f"Demo token batch: {tokens} new token(s) (serials DEMO00001..DEMO00020)."
    yield "Codes of a demo token: .venv/bin/tokenflow tokens demo-codes DEMO00001"
    yield (
        "The sandbox carrier delivers a shipped token "
        f"{in_words(system.config.sandbox_delivery_after)} after shipping"
        " (TOKENFLOW_SANDBOX_DELIVERY_AFTER)."
    )
    yield "Demo relying applications (POST /api/v1/otp/verify with the key as Bearer token):"
    for name, accepts in DEMO_APPS:
        key = new_keys.get(name)
        shown = f"API key {key} (shown only now)" if key else "API key shown when it was created"
        yield f"  {name:<16} accepts {accepts}: {shown}"


def in_words(duration: timedelta) -> str:
    """`2 minutes`, `3 days`, `1 day 12 hours`: a setting as a person reads it."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "at once"
