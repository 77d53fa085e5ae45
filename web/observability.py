"""Request ids, one structured log line per request, readiness, and database trouble
answered for what it is: an outage 503 (try again), a value it refused 400, never 500.

- `X-Request-ID`: a caller's id is kept when it is short and plain (it goes into logs,
  so nothing that could forge a log line), otherwise a new one is made; either way the
  response carries it back and every log record of the request has it.
- The instance a request was about (`instance_id` in the path, or the instance a start
  or task completion answered with) is logged with the request.
- `GET /readyz`: 200 only when the database answers and its schema is at the migration
  head this code expects; a load balancer sends traffic only then. `/healthz` stays the
  liveness check.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from uuid import uuid4

from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

from service_layer import health, log_context
from service_layer.system import System

from .problems import problem

log = logging.getLogger("tokenflow.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_INSTANCE_RESPONSES = ("/api/v1/process-instances", "/api/v1/tasks/", "/api/v1/messages")


def register(app: Flask, system: System) -> None:
    head = system.schema_head

    @app.before_request
    def _begin() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid4().hex
        g.request_started = time.perf_counter()
        g.log_tokens = (
            log_context.request_id.set(g.request_id),
            log_context.instance_id.set((request.view_args or {}).get("instance_id")),
        )

    @app.after_request
    def _log_request(response: Response) -> Response:
        request_id = g.get("request_id") or uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = g.get("request_started")
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)
                if started is not None
                else None,
                "instance_id": log_context.instance_id.get() or _answered_instance(response),
                "remote_addr": request.remote_addr,
            },
        )
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        tokens = g.pop("log_tokens", None)
        if tokens:
            log_context.request_id.reset(tokens[0])
            log_context.instance_id.reset(tokens[1])

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: DBAPIError) -> Response:
        log.warning("database unavailable: %s", str(exc.orig or exc).splitlines()[0])
        response = problem(503, "Unavailable", "The database is not answering; try again.")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _value_refused_by_the_database(exc: Exception) -> Response:
        # Input the API let through but the database cannot hold (an id beyond its
        # integer range: DataError on PostgreSQL, OverflowError from SQLite's driver;
        # a NUL character): the client's error, not a server fault.
        detail = getattr(exc, "orig", None) or exc
        log.info("database refused a value: %s", str(detail).splitlines()[0])
        return problem(400, "Bad request", "A value in the request is out of range or invalid.")

    @app.get("/readyz")
    def readyz() -> Any:
        """Readiness: the database answers and its schema is at the migration head."""
        try:
            current = health.schema_revision(system)
        except Exception:
            return problem(503, "Not ready", "The database does not answer.")
        if current != head:
            return problem(
                503,
                "Not ready",
                f"The database schema is at {current}, this code needs {head}: "
                "run `tokenflow db upgrade`.",
            )
        return jsonify({"status": "ready", "migration": head})


def _answered_instance(response: Response) -> str | None:
    """The instance a start, task completion or message answered with, if any."""
    if request.method != "POST" or not request.path.startswith(_INSTANCE_RESPONSES):
        return None
    if not response.is_json or response.direct_passthrough:
        return None
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return None
    nested = body.get("instance")
    found = body.get("instance_id") or (nested.get("id") if isinstance(nested, dict) else None)
    if found is None and request.path == "/api/v1/process-instances":
        found = body.get("id")
    return found if isinstance(found, str) else None
