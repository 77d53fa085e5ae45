"""The Flask app factory: nothing starts at import time."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text

from tokenflow.config import Config
from tokenflow.system import System, build_system

from . import problems

MAX_BODY = 2 * 1024 * 1024
csrf = CSRFProtect()


def create_app(config: Config | None = None, system: System | None = None) -> Flask:
    config = config or Config.from_env()
    system = system or build_system(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    app.extensions["tokenflow"] = system
    csrf.init_app(app)

    from .api import bp as api_bp

    csrf.exempt(api_bp)  # bearer tokens, no cookies: CSRF cannot ride on them
    app.register_blueprint(api_bp)
    _register_ui(app)
    problems.register(app)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness and database reachability."""
        try:
            with system.db.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return problems.problem(503, "Unavailable", "The database does not answer.")
        return jsonify({"status": "ok"})

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def _register_ui(app: Flask) -> None:
    try:
        from .ui import bp as ui_bp
    except ImportError:
        return
    app.register_blueprint(ui_bp)
