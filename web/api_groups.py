"""API routes of candidate groups: admins list and create them and put staff in them."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from service_layer import groups

from .api_support import actor, authenticated, body, bp, field, system
from .problems import ApiError

MAX_MEMBERS = 100


@bp.get("/groups")
@authenticated("admin")
def list_groups() -> Any:
    """The candidate groups admins created, with their members (roles are groups too)."""
    return jsonify(groups.list_groups(system()))


@bp.post("/groups")
@authenticated("admin")
def create_group() -> Any:
    """Create a candidate group, optionally with its first members."""
    data = body()
    name = field(data, "name", str)
    members = _usernames(data, required=False)
    try:
        group = groups.create_group(system(), actor().name, name, members)
    except groups.AccountError as exc:
        raise ApiError(422, "Invalid input", str(exc)) from None
    return jsonify(group), 201


@bp.post("/groups/<name>/members")
@authenticated("admin")
def add_group_members(name: str) -> Any:
    """Put staff into a group; those already in it stay."""
    members = _usernames(body(), required=True)
    try:
        group = groups.add_members(system(), actor().name, name, members)
    except groups.NoSuchGroup as exc:
        raise ApiError(404, "Not found", str(exc)) from None
    except groups.AccountError as exc:
        raise ApiError(422, "Invalid input", str(exc)) from None
    return jsonify(group)


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
