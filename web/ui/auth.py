"""Sign up (customers), log in, log out."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from domain.accounts import sessions
from domain.accounts import users as accounts
from service_layer import signin
from web import clients

from . import guard

bp = Blueprint("auth", __name__)
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}")


@bp.route("/login", methods=["GET", "POST"])
@guard.public
def login() -> Any:
    target = guard.safe_next(request.values.get("next"), url_for("customer.home"))
    if request.method == "GET":
        if guard.current_user() is not None:
            return redirect(target)
        return render_template("auth/login.html", next=target, username="", error=None)
    username = request.form.get("username", "").strip()[:150]
    password = request.form.get("password", "")[:1024]
    attempt = signin.log_in(
        guard.system(),
        username,
        password,
        clients.client_address(),
        clients.device(),
        sessions.BROWSER,
    )
    if attempt.secret is None:
        page = render_template(
            "auth/login.html", next=target, username=username, error=attempt.error
        )
        headers = {"Retry-After": str(attempt.retry_after)} if attempt.retry_after else {}
        return page, attempt.status, headers
    guard.log_in(attempt.secret)
    return redirect(target)


@bp.post("/logout")
@guard.login_required()
def logout() -> Any:
    guard.log_out()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@guard.public
def signup() -> Any:
    if request.method == "GET":
        if guard.current_user() is not None:
            return redirect(url_for("customer.home"))
        return render_template("auth/signup.html", values={}, errors={})
    values = {
        "username": request.form.get("username", "").strip()[:150],
        "email": request.form.get("email", "").strip()[:254],
    }
    password = request.form.get("password", "")[:1024]
    errors = _signup_errors(values, password, request.form.get("password_confirm", ""))
    secret = None
    if not errors:
        secret, errors = signin.sign_up(
            guard.system(), values["username"], values["email"], password, clients.device()
        )
    if secret is None:
        return render_template("auth/signup.html", values=values, errors=errors), 422
    guard.log_in(secret)
    flash("Welcome! Your account is ready.")
    return redirect(url_for("customer.home"))


def _signup_errors(values: dict[str, str], password: str, confirm: str) -> dict[str, str]:
    errors = {}
    if not values["username"]:
        errors["username"] = "Choose a username."
    if not EMAIL.fullmatch(values["email"]):
        errors["email"] = "Enter an email address like name@example.com."
    if len(password) < accounts.MIN_PASSWORD:
        errors["password"] = f"A password needs at least {accounts.MIN_PASSWORD} characters."
    elif password != confirm:
        errors["password_confirm"] = "The two passwords differ."  # noqa: S105  a message
    return errors
