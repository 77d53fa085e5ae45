"""Who may use the analyst pages: analysts and admins, logged in through the UI's
session (web.ui.guard). Pages send strangers to the login page; the JSON routes the
modeler calls answer with problem documents instead."""

from __future__ import annotations

from functools import wraps

from flask.typing import ResponseReturnValue

from engine.actors import Actor
from engine.errors import EngineError
from web import problems
from web.context import system as system
from web.ui import guard
from web.viewtypes import P, View

ROLE = "analyst"


def page(view: View[P]) -> View[P]:
    return guard.login_required(ROLE)(view)


def json_route(view: View[P]) -> View[P]:
    """For the modeler's calls: 401/403 and engine errors as problem+json."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        who = guard.current_actor()
        if who is None:
            return problems.problem(401, "Unauthorized", "Log in again to continue.")
        if not (who.is_admin or ROLE in who.roles):
            return problems.problem(403, "Forbidden", "Your role may not do this.")
        try:
            return view(*args, **kwargs)
        except EngineError as exc:
            return problems.engine_problem(exc)

    wrapper.login_required = True  # type: ignore[attr-defined]
    return wrapper


def actor() -> Actor:
    return guard.actor()
