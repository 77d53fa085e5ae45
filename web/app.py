"""The Flask app factory: nothing starts at import time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, redirect, request
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from service_layer import health
from service_layer.system import System

from . import api, api_decisions, api_groups, api_otp, metrics, observability, problems, ui
from .api_support import bp as api_bp
from .context import EXTENSION

# The API's routes register on `api_bp` when their modules are imported.
_API_ROUTES = (api, api_decisions, api_groups, api_otp)

MAX_BODY = 2 * 1024 * 1024
# A year, the value browsers' preload lists ask for; subdomains are the operator's to decide.
HSTS = "max-age=31536000"
# Load balancers and scrapers probe the backend itself, often over plain HTTP.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
csrf = CSRFProtect()


def create_app(system: System) -> Flask:
    """The web application over a system the composition root built
    (`tokenflow.system.build_system`)."""
    config = system.config
    app = App(__name__, config.secret_key.reveal)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="tokenflow_session",
        SESSION_COOKIE_SECURE=config.force_https,
        PERMANENT_SESSION_LIFETIME=config.session_max,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    app.extensions[EXTENSION] = system
    app.session_interface = SessionInterface()
    if config.force_https:
        _force_https(app)
    csrf.init_app(app)

    csrf.exempt(api_bp)  # bearer tokens, no cookies: CSRF cannot ride on them
    app.register_blueprint(api_bp)
    ui.register(app)
    from .analyst import bp as analyst_bp

    app.register_blueprint(analyst_bp)
    problems.register(app)
    observability.register(app, system)
    metrics.register(app, system)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness and database reachability."""
        try:
            health.ping_database(system)
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


def _force_https(app: Flask) -> None:
    """TOKENFLOW_FORCE_HTTPS: plain HTTP is sent to HTTPS (308 keeps the method and body),
    and HTTPS answers tell browsers to use nothing else (HSTS). Behind a proxy that ends
    TLS, gunicorn takes `X-Forwarded-Proto: https` from trusted addresses (see README)."""

    @app.before_request
    def _redirect_to_https() -> ResponseReturnValue | None:
        if request.is_secure or request.path in PROBES:
            return None
        return redirect(request.url.replace("http://", "https://", 1), code=308)

    @app.after_request
    def _strict_transport_security(response: Response) -> Response:
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


class App(Flask):
    """Flask whose secret key is read from a closure instead of `app.config`, which any
    code holding the app (`current_app`) can read or dump."""

    def __init__(self, import_name: str, read_secret_key: Callable[[], str]) -> None:
        super().__init__(import_name)
        self.read_secret_key = read_secret_key

    # Read-only on purpose, where Flask's is a writable config attribute: no code may set it.
    @property
    def secret_key(self) -> str:  # type: ignore[override]  # read by sessions and CSRF tokens
        return self.read_secret_key()


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is `Secure` always under TOKENFLOW_FORCE_HTTPS, and otherwise
    whenever the request came over HTTPS (behind a proxy, gunicorn sets the scheme from
    `X-Forwarded-Proto` when the proxy's address is in `FORWARDED_ALLOW_IPS`)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)
