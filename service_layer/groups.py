"""Use cases of candidate groups (admins only, which the front ends check): list them
with their members, create one with its first members, put staff into one. Each opens
its one transaction; a refusal (AccountError, NoSuchGroup) rolls it back whole."""

from __future__ import annotations

from domain.accounts import users as accounts
from engine.db import unit_of_work

from .system import System

AccountError = accounts.AccountError
NoSuchGroup = accounts.NoSuchGroup
Group = dict[str, object]  # {"name": ..., "members": [usernames]}


def list_groups(system: System) -> list[Group]:
    """The groups admins made, each with its members' usernames, by name."""
    with unit_of_work(system.session_factory) as s:
        return accounts.list_groups(s)


def create_group(system: System, actor: str, name: str, members: list[str]) -> Group:
    """A new group with `members` in it (none: empty), as listed afterwards."""
    with unit_of_work(system.session_factory) as s:
        accounts.create_group(s, name, actor)
        if members:
            accounts.add_members(s, name, members, actor, create=False)
        return _listed(accounts.list_groups(s), name)


def add_members(system: System, actor: str, name: str, members: list[str]) -> Group:
    """Put staff into an existing group (NoSuchGroup when there is none); those already
    in it stay. The group as listed afterwards."""
    with unit_of_work(system.session_factory) as s:
        accounts.add_members(s, name, members, actor, create=False)
        return _listed(accounts.list_groups(s), name)


def _listed(groups: list[Group], name: str) -> Group:
    # The domain strips the name it is given, so the group is listed under that.
    return next(g for g in groups if g["name"] == name.strip())
