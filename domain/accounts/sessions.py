"""Server-side sessions: one row per login, for the browser's cookie and the API's tokens.

The client holds a random secret (in the signed cookie, or as a bearer token); the
database holds its SHA-256. Every request resolves the secret with one indexed read, and
writes `last_seen_at` at most once a minute. A session ends when its row goes: at
logout, "log out everywhere", a password or role change, or when it sat idle or lived
longer than the configured lifetimes (`TOKENFLOW_SESSION_IDLE`, `TOKENFLOW_SESSION_MAX`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from engine.models import Group

from .models import GroupMember, LoginSession, User

BROWSER = "browser"
API = "api"
# last_seen_at moves in steps of this: idle expiry is that much coarser, and a busy
# session costs one write a minute instead of one per request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    max: timedelta


@dataclass(frozen=True)
class Resolved:
    session_id: int
    user: User
    # The groups the user is in besides the roles, read in the same query.
    groups: frozenset[str] = frozenset()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(
    s: Session, user: User, kind: str, device: str, now: datetime, lifetimes: Lifetimes
) -> str:
    """A new session for `user`; returns its secret, which is not stored anywhere."""
    s.execute(delete(LoginSession).where(LoginSession.user_id == user.id, _expired(now, lifetimes)))
    secret = secrets.token_urlsafe(32)
    s.add(
        LoginSession(
            user_id=user.id,
            kind=kind,
            secret_hash=digest(secret),
            device=device[:80],
            created_at=now,
            last_seen_at=now,
        )
    )
    s.flush()
    return secret


def resolve(
    s: Session, secret: str, kind: str, now: datetime, lifetimes: Lifetimes
) -> Resolved | None:
    """The live session of this secret and its (active) user, or None."""
    groups = (
        select(func.aggregate_strings(Group.name, ","))
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == User.id)
        .scalar_subquery()
    )
    found = s.execute(
        select(LoginSession, User, groups)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.secret_hash == digest(secret), LoginSession.kind == kind)
    ).first()
    if found is None:
        return None
    row, user, group_names = found
    if not user.active:
        return None
    if now - row.last_seen_at > lifetimes.idle or now - row.created_at > lifetimes.max:
        s.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return Resolved(row.id, user, frozenset(filter(None, (group_names or "").split(","))))


def active(s: Session, user_id: int, now: datetime, lifetimes: Lifetimes) -> list[LoginSession]:
    """The user's live sessions, most recently seen first."""
    return list(
        s.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user_id, ~_expired(now, lifetimes))
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end(s: Session, user_id: int, session_id: int) -> bool:
    """End one of the user's sessions; False when there was none of that id."""
    gone = s.execute(
        delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user_id)
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def end_all(s: Session, user_id: int, keep: int | None = None) -> int:
    """End every session of the user but `keep`; returns how many ended."""
    query = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    return int(s.execute(query).rowcount)  # type: ignore[attr-defined]


def _expired(now: datetime, lifetimes: Lifetimes) -> ColumnElement[bool]:
    return or_(
        LoginSession.last_seen_at < now - lifetimes.idle,
        LoginSession.created_at < now - lifetimes.max,
    )


_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(Chrome|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
_PROGRAM = re.compile(r"[A-Za-z][\w.-]{0,39}")


def device_of(user_agent: str) -> str:
    """What a person recognises from a User-Agent ("Firefox on Linux"); the header
    itself is not kept."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return str(browser or system)
    program = _PROGRAM.match(user_agent.strip())  # curl/8.5, python-requests/2.32
    return program.group(0) if program else "Unknown device"
