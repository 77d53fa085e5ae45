"""API routes of candidate groups: admins list and create them and put staff in them."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from domain.accounts import users as accounts

from .api_support import actor, authenticated, body, bp, field, session
from .problems import ApiError

MAX_MEMBERS = 100


@bp.get("/groups")
@authenticated("admin")
def list_groups() -> Any:
    """The candidate groups admins created, with their members (roles are groups too)."""
    with session() as s:
        return jsonify(accounts.list_groups(s))


@bp.post("/groups")
@authenticated("admin")
def create_group() -> Any:
    """Create a candidate group, optionally with its first members."""
    data = body()
    name = field(data, "name", str)
    members = _usernames(data, required=False)
    with session() as s:
        try:
            accounts.create_group(s, name, actor().name)
            if members:
                accounts.add_members(s, name, members, actor().name, create=False)
        except accounts.AccountError as exc:
            raise ApiError(422, "Invalid input", str(exc)) from None
        return jsonify(_view(s, name)), 201


@bp.post("/groups/<name>/members")
@authenticated("admin")
def add_group_members(name: str) -> Any:
    """Put staff into a group; those already in it stay."""
    members = _usernames(body(), required=True)
    with session() as s:
        try:
            accounts.add_members(s, name, members, actor().name, create=False)
        except accounts.NoSuchGroup as exc:
            raise ApiError(404, "Not found", str(exc)) from None
        except accounts.AccountError as exc:
            raise ApiError(422, "Invalid input", str(exc)) from None
        return jsonify(_view(s, name))


def _usernames(data: dict[str, Any], required: bool) -> list[str]:
    users = data.get("users")
    if users is None and not required:
        return []
    if (
        not isinstance(users, list)
        or not users
        or len(users) > MAX_MEMBERS
        or not all(isinstance(u, str) and 0 < len(u) <= 150 for u in users)
    ):
        raise ApiError(
            422,
            "Invalid input",
            f"`users` lists 1-{MAX_MEMBERS} usernames.",
            errors={"users": "must list usernames"},
        )
    return list(dict.fromkeys(users))


def _view(s: Any, name: str) -> dict[str, Any]:
    return next(g for g in accounts.list_groups(s) if g["name"] == name)
