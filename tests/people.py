"""The people tests act as: the fixed actors of the engine and journey tests (an Actor
with a known user id) get a users row of that id and username, since every owner column
of the domain's tables is a foreign key to users; and the pages' tests log in as the same
people, with one password."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from domain import audit_subjects
from domain.accounts.models import User
from domain.accounts.users import create_user
from engine import audit
from engine.actors import Actor
from engine.db import unit_of_work
from service_layer.system import System

PASSWORD = "correct horse battery"


@cache
def _password_hash() -> str:
    # The same cheap parameters as the suite's `_cheap_password_hashing`: a login as one
    # of these people checks the password without rehashing it.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def add_people(system: System, *actors: Actor) -> None:
    """A users row for each actor, with the actor's id, username and roles, the password
    PASSWORD and no email address (mail to them goes to the sandbox's address for the
    owner), each created as `create_user` records it in the audit trail; an actor whose id
    or username is already taken is left out."""
    with unit_of_work(system.session_factory) as s:
        ids = set(s.scalars(select(User.id)))
        names = set(s.scalars(select(User.username)))
        added = False
        for actor in actors:
            if actor.user_id is None or actor.user_id in ids or actor.name in names:
                continue
            roles = sorted(actor.roles)
            s.add(
                User(
                    id=actor.user_id,
                    username=actor.name,
                    password_hash=_password_hash(),
                    roles=",".join(roles),
                )
            )
            audit.record(
                s,
                "user.created",
                subject=audit_subjects.person(actor.user_id),
                actor=actor.name,
                username=actor.name,
                roles=roles,
            )
            ids.add(actor.user_id)
            names.add(actor.name)
            added = True
        if added:
            s.flush()
            _move_id_sequence_on(s)


def _move_id_sequence_on(s: Session) -> None:
    """PostgreSQL's serial goes on after the ids given by hand, as SQLite's rowid does."""
    if s.get_bind().dialect.name == "postgresql":
        top = s.scalar(select(func.max(User.id)))
        s.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), :top)"), {"top": top})


def person(
    s: Session,
    username: str,
    roles: list[str],
    email: str | None = None,
    groups: list[str] | None = None,
) -> User:
    """The user called `username`: the fixed actor's row when there is one (its roles the
    same; given `email`, if any), otherwise a new user with the password PASSWORD."""
    found = s.scalar(select(User).where(User.username == username))
    if found is None:
        return create_user(s, username, PASSWORD, roles, email=email, groups=groups)
    assert found.role_set == frozenset(roles), (username, found.roles, roles)
    assert not groups, "a fixed actor joins no group here"
    if email is not None:
        found.email = email
    return found
