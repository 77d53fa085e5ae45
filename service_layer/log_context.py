"""What the work in hand is about, for every log record it writes: the front end sets
these (web/observability.py for a request), `tokenflow.logging_setup` puts them on each
record."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
instance_id: ContextVar[str | None] = ContextVar("instance_id", default=None)
