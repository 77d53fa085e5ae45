"""Who is logged in, and the one decorator every page goes through.

The signed session cookie holds the secret of a server-side session (`domain.accounts.sessions`):
the request is logged in while that session's row lives, so logout, "log out
everywhere", a password or role change and the idle and absolute lifetimes end it at
once. Anonymous visitors are sent to the login page; a logged-in user without the role
gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from domain.accounts import sessions
from domain.accounts import users as accounts
from domain.accounts.models import User
from engine.actors import Actor
from service_layer import signin
from web.context import system as system
from web.viewtypes import AnyView, P, View

_NO_USER = object()


def current_user() -> User | None:
    """The logged-in user (looked up once per request), or None."""
    cached = g.get("ui_user", _NO_USER)
    if cached is None or isinstance(cached, User):  # `g` holds no types: say what was kept
        return cached
    user, g.login_session_id, g.ui_groups = None, None, frozenset()
    secret = session.get("sid")
    if isinstance(secret, str):
        found = signin.resolve(system(), secret, sessions.BROWSER)
        if found is None:
            session.pop("sid", None)  # ended or expired: the cookie should say so too
        else:
            user, g.login_session_id, g.ui_groups = found.user, found.session_id, found.groups
    g.ui_user = user
    return user


def current_session_id() -> int | None:
    """The id of this request's session row (marked "this one" on the account page)."""
    current_user()
    return cast("int | None", g.login_session_id)  # set by current_user; `g` holds no types


def current_actor() -> Actor | None:
    user = current_user()
    return accounts.actor_of(user, g.get("ui_groups", frozenset())) if user else None


def user() -> User:
    """The user of a page behind `login_required`."""
    found = current_user()
    assert found is not None
    return found


def actor() -> Actor:
    """The actor of a page behind `login_required`."""
    found = current_actor()
    assert found is not None
    return found


def log_in(secret: str) -> None:
    """Carry a freshly started session's secret in the cookie."""
    session.clear()  # a fresh session (and CSRF token) after login: no fixation
    session.permanent = True
    session["sid"] = secret
    g.pop("ui_user", None)


def log_out() -> None:
    """End this session on the server (the cookie alone opens nothing) and forget it."""
    session_id = current_session_id()
    user = current_user()
    if session_id is not None and user is not None:
        signin.end_session(system(), user.id, session_id)
    session.clear()
    g.ui_user, g.login_session_id = None, None


def login_required(*roles: str) -> Callable[[View[P]], View[P]]:
    """Anonymous -> login page; with `roles`, one of them is needed (admin always)."""

    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            who = current_actor()
            if who is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and not (who.is_admin or who.roles & set(roles)):
                abort(403, "Your role may not open this page.")
            return view(*args, **kwargs)

        wrapper.login_required = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


def public(view: AnyView) -> AnyView:
    """Marks the few pages anonymous visitors may open (sign-up, log-in)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
