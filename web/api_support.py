"""What every module of the JSON API shares: the blueprint, bearer-token authentication,
the caller, and the parsing of bodies and query arguments into clear 400s and 422s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, cast

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from domain.accounts import sessions
from domain.accounts import users as accounts
from engine import queries
from engine.actors import Actor
from engine.errors import Forbidden
from service_layer import signin
from web.context import system as system
from web.viewtypes import P, View

from .problems import ApiError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STAFF = ("proofing_agent", "support", "finance", "analyst", "admin")
MAX_PAGE = 500


def authenticated(*roles: str) -> Callable[[View[P]], View[P]]:
    """Bearer token required; with `roles`, the caller needs one of them (admin always)."""

    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                raise ApiError(401, "Unauthorized", "Log in: send `Authorization: Bearer <token>`.")
            found = signin.resolve(system(), header.removeprefix("Bearer ").strip(), sessions.API)
            if found is None:
                raise ApiError(401, "Unauthorized", "The token is unknown, revoked or expired.")
            actor = accounts.actor_of(found.user, found.groups)
            if roles and not (actor.is_admin or actor.roles & set(roles)):
                raise Forbidden("Your role may not do this.")
            g.actor, g.login_session_id = actor, found.session_id
            return view(*args, **kwargs)

        return wrapper

    return decorate


def actor() -> Actor:
    return cast(Actor, g.actor)  # set by `authenticated`; `g` holds no types


def body() -> dict[str, Any]:
    try:
        data = request.get_json(force=True, silent=False)
    except RequestEntityTooLarge:
        raise
    except Exception:  # malformed, wrong encoding or nested too deep
        raise ApiError(400, "Bad request", "The body must be valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Bad request", "The body must be a JSON object.")
    return data


def field(data: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ApiError(
            422,
            "Invalid input",
            f"`{name}` must be a {kind.__name__}.",
            errors={name: f"must be a {kind.__name__}"},
        )
    return value


def int_arg(name: str, default: int, high: int = MAX_PAGE) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise ApiError(400, "Bad request", f"`{name}` must be a whole number up to {high}.")
    return int(raw)


def task_order() -> str:
    sort = request.args.get("sort", "created")
    if sort not in queries.TASK_ORDERS:
        orders = ", ".join(queries.TASK_ORDERS)
        raise ApiError(400, "Bad request", f"`sort` must be one of {orders}.")
    return sort


def date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "Bad request", f"`{name}` must be an ISO 8601 date.") from None


# -- auth ---------------------------------------------------------------------------------


def version_arg() -> int | None:
    """`?version=n` of a deployed file; None (absent or 0): the latest."""
    return int_arg("version", 0, high=10**9) or None


def xml_response(xml: str) -> Any:
    return current_app.response_class(xml, mimetype="application/xml")


# -- instances ----------------------------------------------------------------------------
