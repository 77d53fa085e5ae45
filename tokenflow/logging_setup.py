"""Logging for every Tokenflow process: one JSON object a line, or plain text.

`tokenflow web` (under gunicorn) and `tokenflow worker` log JSON by default, so a log
shipper can index each field; the other commands log plain text for a person at a
terminal. `TOKENFLOW_LOG_FORMAT=json|text` overrides either. Every record carries the
`request_id` and `instance_id` of the work it was logged for, when the code that set
them (web/observability.py for requests) knows them.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from service_layer.log_context import instance_id, request_id

__all__ = ["instance_id", "request_id"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FORMATS = ("json", "text")
# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "instance_id",
}


class ContextFilter(logging.Filter):
    """Copies the current request and instance ids onto each record (an explicit
    `extra={"instance_id": ...}` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        if getattr(record, "instance_id", None) is None:
            record.instance_id = instance_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "request_id"?, "instance_id"?, ...extra, "exc"?}`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key in ("request_id", "instance_id"):
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def dict_config(fmt: str = "text", level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` document for `fmt`; gunicorn takes the same one
    (gunicorn_conf.py), so its own messages come out in the same shape."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if fmt == "json" else {"format": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["context"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"stderr": handler},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            # Requests are logged by the app (web/observability.py), with their ids.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "spiff": {"level": "WARNING"},
            # "tick skipped: maximum number of running instances" whenever a worker's
            # tick outlasts the interval, which is normal under load, not news.
            "apscheduler.scheduler": {"level": "ERROR"},
            # Every tick's "Running job ... executed successfully": the worker logs what ran.
            "apscheduler.executors": {"level": "WARNING"},
            # Alembic's plugin set-up lines on every start.
            "alembic.runtime.plugins": {"level": "WARNING"},
            "SpiffWorkflow": {"level": "WARNING"},
        },
    }


def configure(fmt: str = "text", level: str = "INFO") -> None:
    logging.config.dictConfig(dict_config(fmt, level))
