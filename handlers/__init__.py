"""Service-task handlers and user-task validators, one module per capability.

Each handler is a plain function registered under the topic its diagrams name
(`@registry.handler()` registers a function under its own name): the code for topic
`send_license_key_email` is the function `send_license_key_email`. `load()` imports the
modules, so registering happens once, in one place.
"""

from __future__ import annotations

import importlib

from engine.registry import Registry

registry = Registry()

MODULES: tuple[str, ...] = (
    "catalog",
    "orders",
    "payment",
    "refunds",
    "card_checks",
    "shipping",
    "license_keys",
    "proofing",
    "video_proofing",
    "appointment_changes",
    "activation",
    "registration",
    "phone",
    "lost_token",
    "renewal",
    "lockout",
)


def load() -> Registry:
    for name in MODULES:
        importlib.import_module(f"handlers.{name}")
    return registry
