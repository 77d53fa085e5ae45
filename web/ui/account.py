"""The account page: the person's sessions and API tokens (each can be ended), "log out
everywhere", and the password change, which ends every other session."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from domain.accounts import sessions
from domain.accounts import users as accounts
from service_layer import signin

from . import guard

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@guard.login_required()
def page() -> Any:
    return _render()


@bp.post("/sessions/<int(max=2147483647):session_id>/end")
@guard.login_required()
def end_session(session_id: int) -> Any:
    this_one = session_id == guard.current_session_id()
    ended = signin.end_session(guard.system(), guard.user().id, session_id)
    if this_one:
        guard.log_out()
        flash("You are logged out.")
        return redirect(url_for("auth.login"))
    flash("Session ended." if ended else "That session had ended already.")
    return redirect(url_for("account.page"))


@bp.post("/logout-everywhere")
@guard.login_required()
def log_out_everywhere() -> Any:
    signin.end_all_sessions(guard.system(), guard.user().id)
    guard.log_out()
    flash("You are logged out everywhere: every session and API token has ended.")
    return redirect(url_for("auth.login"))


@bp.post("/password")
@guard.login_required()
def change_password() -> Any:
    current = request.form.get("current_password", "")[:1024]
    new = request.form.get("new_password", "")[:1024]
    if new != request.form.get("new_password_confirm", ""):
        return _render({"new_password_confirm": "The two new passwords differ."}), 422
    refused = signin.change_password(
        guard.system(), guard.user().id, current, new, guard.current_session_id()
    )
    if refused is not None:
        field = "current_password" if "current" in refused else "new_password"
        return _render({field: refused}), 422
    flash("Your password is changed. Every other session and API token has ended.")
    return redirect(url_for("account.page"))


def _render(errors: dict[str, str] | None = None) -> str:
    rows = signin.active_sessions(guard.system(), guard.user().id)
    return render_template(
        "account/account.html",
        browsers=[r for r in rows if r.kind == sessions.BROWSER],
        tokens=[r for r in rows if r.kind == sessions.API],
        this_session=guard.current_session_id(),
        min_password=accounts.MIN_PASSWORD,
        errors=errors or {},
    )
