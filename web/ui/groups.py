"""The admin's page of candidate groups: create one, put staff in it."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service_layer import groups

from . import guard

bp = Blueprint("groups", __name__, url_prefix="/admin/groups")
MAX_FIELD = 2000


@bp.get("")
@guard.login_required("admin")
def page() -> Any:
    return render_template("admin/groups.html", groups=groups.list_groups(guard.system()))


@bp.post("")
@guard.login_required("admin")
def create() -> Any:
    name = request.form.get("name", "").strip()[:200]
    members = _usernames(request.form.get("members", ""))
    return _change(name, members, create=True)


@bp.post("/<name>/members")
@guard.login_required("admin")
def add(name: str) -> Any:
    members = _usernames(request.form.get("members", ""))
    if not members:
        flash("Name the staff to add, separated by commas or spaces.", "error")
        return redirect(url_for("groups.page"))
    return _change(name, members, create=False)


def _change(name: str, members: list[str], create: bool) -> Any:
    actor = guard.actor().name
    try:
        if create:
            groups.create_group(guard.system(), actor, name, members)
        else:
            groups.add_members(guard.system(), actor, name, members)
    except groups.AccountError as exc:
        flash(str(exc), "error")
    else:
        added = f" with {', '.join(members)}" if create and members else ""
        flash(f"Group {name} created{added}." if create else f"Added {', '.join(members)}.")
    return redirect(url_for("groups.page"))


def _usernames(text: str) -> list[str]:
    return list(dict.fromkeys(n for n in re.split(r"[\s,]+", text[:MAX_FIELD]) if n))
