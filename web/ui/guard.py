"""Who is logged in, and the one decorator every page goes through.

The session cookie holds the user's id and a stamp derived from the password hash, so a
password change ends every other session. Anonymous visitors are sent to the login page;
a logged-in user without the role gets 403.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from engine.actors import Actor
from engine.db import unit_of_work
from web import accounts
from web.models import User

_NO_USER = object()


def system() -> Any:
    return current_app.extensions["tokenflow"]


def _stamp(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def current_user() -> User | None:
    """The logged-in user (loaded once per request), or None."""
    cached = g.get("ui_user", _NO_USER)
    if cached is not _NO_USER:
        return cached  # type: ignore[return-value]
    user = None
    uid = session.get("uid")
    if isinstance(uid, int):
        with unit_of_work(system().session_factory) as s:
            found = s.get(User, uid)
        if found is not None and found.active and session.get("stamp") == _stamp(found):
            user = found
    g.ui_user = user
    return user


def current_actor() -> Actor | None:
    user = current_user()
    return accounts.actor_of(user) if user else None


def actor() -> Actor:
    """The actor of a page behind `login_required`."""
    found = current_actor()
    assert found is not None
    return found


def log_in(user: User) -> None:
    session.clear()  # a fresh session (and CSRF token) after login: no fixation
    session.permanent = True
    session["uid"] = user.id
    session["stamp"] = _stamp(user)
    g.ui_user = user


def log_out() -> None:
    session.clear()
    g.ui_user = None


def login_required(*roles: str) -> Callable:
    """Anonymous -> login page; with `roles`, one of them is needed (admin always)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_actor()
            if who is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if roles and not (who.is_admin or who.roles & set(roles)):
                abort(403, "Your role may not open this page.")
            return view(*args, **kwargs)

        wrapper.login_required = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


def public(view: Callable) -> Callable:
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
