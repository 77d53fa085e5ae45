"""People and their credentials: argon2 password hashes, password and role changes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.actors import Actor
from handlers import audit_subjects
from tokenflow.config import ROLES

from . import sessions
from .models import User

_hasher = PasswordHasher()
MIN_PASSWORD = 10
# Verifying against a dummy hash keeps unknown usernames as slow as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A refusal to show the person as it is."""


def actor_of(user: User) -> Actor:
    return Actor(user.username, user.role_set, user_id=user.id)


def create_user(
    s: Session,
    username: str,
    password: str,
    roles: list[str],
    email: str | None = None,
    actor: str | None = None,
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
    return user


def authenticate(s: Session, username: str, password: str) -> User:
    """The user, or AccountError; throttling failures is `web.login_throttle`'s part."""
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
