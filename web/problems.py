"""RFC 9457 problem responses; every error the API gives goes through here."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from engine.errors import (
    Conflict,
    DefinitionInvalid,
    EngineError,
    Forbidden,
    InvalidInput,
    NotFound,
    ProcessIncident,
)

log = logging.getLogger(__name__)

STATUS = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidInput: 422,
    DefinitionInvalid: 422,
    ProcessIncident: 422,
}


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def engine_problem(exc: EngineError) -> Response:
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    extra: dict[str, Any] = {}
    if exc.errors:
        extra["errors"] = exc.errors
    if isinstance(exc, DefinitionInvalid):
        extra["problems"] = [p.as_dict() for p in exc.problems]
    if isinstance(exc, ProcessIncident):
        extra.update(incident_id=exc.incident_id, instance_id=exc.instance_id, element=exc.element)
        if exc.notices:  # shown once, as a completed task's 200 would have
            extra["notice"] = exc.notices
    return problem(status, exc.title, exc.detail, **extra)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError) -> Any:
        if wants_json():
            return engine_problem(exc)
        return _html_error(STATUS.get(type(exc), 400), exc.title, exc.detail)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if wants_json():
            return problem(exc.code or 500, exc.name, exc.description or exc.name)
        return _html_error(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return problem(500, "Internal error", "Something went wrong on our side.")
        return _html_error(500, "Something went wrong", "Please try again in a moment.")


def _html_error(status: int, title: str, detail: str) -> Any:
    from flask import render_template

    try:
        return render_template("error.html", status=status, title=title, detail=detail), status
    except Exception:  # no UI templates (API-only deployments)
        return problem(status, title, detail)
