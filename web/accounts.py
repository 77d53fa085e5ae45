"""People and their credentials: argon2 password hashes, lockout, bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.actors import Actor
from engine.clock import clock
from handlers import audit_subjects
from tokenflow.config import ROLES

from .models import ApiToken, User

_hasher = PasswordHasher()
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
TOKEN_LIFETIME = timedelta(hours=12)
MIN_PASSWORD = 10
# Verifying against a dummy hash keeps unknown usernames as slow as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A refusal to show the person as it is."""


class LockedOut(AccountError):
    pass


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
    """The user, or AccountError; every failure counts, lockout after MAX_FAILED_LOGINS."""
    user = s.scalar(select(User).where(User.username == username).with_for_update())
    now = clock.now()
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise AccountError("Wrong username or password.")
    if user.locked_until is not None and user.locked_until > now:
        raise LockedOut(_locked_message(user.locked_until, now))
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            audit.record(
                s,
                "user.locked",
                subject=audit_subjects.person(user.id),
                actor=username,
                username=username,
            )
            raise LockedOut(_locked_message(user.locked_until, now))
        raise AccountError("Wrong username or password.")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return f"Too many failed logins. Try again in {minutes} minutes."


def issue_token(s: Session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    s.add(
        ApiToken(
            user_id=user.id, token_hash=_digest(token), expires_at=clock.now() + TOKEN_LIFETIME
        )
    )
    return token


def user_for_token(s: Session, token: str) -> User | None:
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.expires_at <= clock.now():
        return None
    user = s.get(User, row.user_id)
    return user if user is not None and user.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))
