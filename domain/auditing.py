"""What a domain function that records an audit event is handed: a way to record one.

A service-task handler passes `ctx.audit`, which files the event in the instance's chain
with the task's actor and element; the domain names the event and its details, and never
needs to know whose chain that is. Events are recorded where the change happens, so their
order in the chain is the order of the changes."""

from __future__ import annotations

from typing import Any, Protocol


class Audit(Protocol):
    def __call__(self, event: str, **details: Any) -> None: ...
