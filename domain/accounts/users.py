"""People and their credentials: argon2 password hashes, password and role changes, and
the candidate groups admins put staff in (each role is a group too)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit_subjects
from engine import audit
from engine.actors import CUSTOMER, Actor
from engine.assignment import NAME
from engine.models import Group

from . import sessions
from .models import GroupMember, User
from .roles import ROLES

_hasher = PasswordHasher()
MIN_PASSWORD = 10
# Verifying against a dummy hash keeps unknown usernames as slow as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A refusal to show the person as it is."""


class NoSuchGroup(AccountError):
    """A group that was named but never created."""


MAX_GROUP_NAME = 100


def actor_of(user: User, groups: frozenset[str] = frozenset()) -> Actor:
    """The engine's actor for `user`, a member of `groups` (read with the session)."""
    return Actor(user.username, user.role_set, user_id=user.id, member_of=groups)


def create_user(
    s: Session,
    username: str,
    password: str,
    roles: list[str],
    email: str | None = None,
    actor: str | None = None,
    groups: list[str] | None = None,
) -> User:
    username = username.strip()
    if (
        not username
        or len(username) > 150
        or not username.replace(".", "")
        .replace("-", "")
        .replace("_", "")
        .replace("@", "")
        .isalnum()
    ):
        raise AccountError("A username is 1-150 letters, digits or . - _ @.")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(f"Roles must be among: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("That username is taken.")
    user = User(
        username=username,
        email=email,
        password_hash=_hasher.hash(password),
        roles=",".join(sorted(set(roles))),
    )
    s.add(user)
    s.flush()
    audit.record(
        s,
        "user.created",
        subject=audit_subjects.person(user.id),
        actor=actor or username,
        username=username,
        roles=sorted(set(roles)),
    )
    for group in groups or ():
        add_members(s, group, [username], actor or username)
    return user


def authenticate(s: Session, username: str, password: str) -> User:
    """The user, or AccountError; throttling failures is `domain.accounts.login_throttle`'s part."""
    user = s.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise AccountError("Wrong username or password.")
    if not _verify(user.password_hash, password):
        raise AccountError("Wrong username or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(
    s: Session, user_id: int, current: str, new: str, keep_session: int | None
) -> None:
    """Set a new password after checking the current one; every other session of the
    user ends (whoever else knew the old password is logged out)."""
    user = s.get(User, user_id, with_for_update=True)
    if user is None or not _verify(user.password_hash, current):
        raise AccountError("The current password is wrong.")
    if len(new) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")
    user.password_hash = _hasher.hash(new)
    ended = sessions.end_all(s, user.id, keep=keep_session)
    audit.record(
        s,
        "user.password_changed",
        subject=audit_subjects.person(user.id),
        actor=user.username,
        sessions_ended=ended,
    )


def set_roles(s: Session, username: str, roles: list[str], actor: str) -> User:
    """Give the user these roles; their sessions end, so no page or token keeps the old
    roles' reach."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(f"Roles must be among: {', '.join(ROLES)}.")
    user = s.scalar(select(User).where(User.username == username).with_for_update())
    if user is None:
        raise AccountError(f"No user is called {username!r}.")
    user.roles = ",".join(sorted(set(roles)))
    ended = sessions.end_all(s, user.id)
    audit.record(
        s,
        "user.roles_changed",
        subject=audit_subjects.person(user.id),
        actor=actor,
        username=username,
        roles=sorted(set(roles)),
        sessions_ended=ended,
    )
    return user


def find_user(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))


def email_of(s: Session, user_id: int) -> str | None:
    """The address a person's account holds, if any."""
    return s.scalar(select(User.email).where(User.id == user_id))


def create_group(s: Session, name: str, actor: str) -> Group:
    """A new candidate group; a role's name is refused, as each role is a group already."""
    name = name.strip()
    if len(name) > MAX_GROUP_NAME or not NAME.match(name):
        raise AccountError(
            f"A group name is 1-{MAX_GROUP_NAME} letters, digits or . - _ @ (no spaces or commas)."
        )
    if name in ROLES:
        raise AccountError(f"{name!r} is a role, and every role is a group already.")
    if s.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise AccountError(f"The group {name!r} exists already.")
    group = Group(name=name)
    s.add(group)
    s.flush()
    audit.record(s, "group.created", subject=audit_subjects.group(group.id), actor=actor, name=name)
    return group


def add_members(
    s: Session, group_name: str, usernames: list[str], actor: str, create: bool = True
) -> Group:
    """Put staff into a group (made first when new and `create`); members already in it
    stay as they are. Customers join no group: groups are who works on tasks."""
    group = s.scalar(select(Group).where(Group.name == group_name.strip()))
    if group is None:
        if not create:
            raise NoSuchGroup(f"No group is called {group_name!r}.")
        group = create_group(s, group_name, actor)
    users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(usernames)))}
    missing = sorted(set(usernames) - set(users))
    if missing:
        raise AccountError(f"No user is called {', '.join(map(repr, missing))}.")
    customers = sorted(n for n, u in users.items() if not (u.role_set - {CUSTOMER}))
    if customers:
        raise AccountError(f"Only staff join groups; {', '.join(customers)} is a customer.")
    present = set(s.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id)))
    for user in users.values():
        if user.id in present:
            continue
        s.add(GroupMember(group_id=group.id, user_id=user.id))
        audit.record(
            s,
            "user.group_joined",
            subject=audit_subjects.person(user.id),
            actor=actor,
            username=user.username,
            group=group.name,
        )
    s.flush()
    return group


def list_groups(s: Session) -> list[dict[str, object]]:
    """The groups admins made, each with its members' usernames, by name."""
    rows = s.execute(
        select(Group.name, User.username)
        .outerjoin(GroupMember, GroupMember.group_id == Group.id)
        .outerjoin(User, User.id == GroupMember.user_id)
        .order_by(Group.name, User.username)
    )
    groups: dict[str, list[str]] = {}
    for name, username in rows:
        members = groups.setdefault(name, [])
        if username is not None:
            members.append(username)
    return [{"name": name, "members": members} for name, members in groups.items()]
