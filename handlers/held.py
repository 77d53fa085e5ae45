"""What one verification reads and writes: the person, their credentials, their tokens.

A relying application's sign-ins are the one load that grows with every user, so this
is kept to the database's pace: one prebuilt statement reads the person, their
credentials and, locked, the tokens of those in force; on PostgreSQL one more writes the
token back together with the answer's audit event (hashed under the chain head's lock,
in the database), and the commit ends it: four round trips with BEGIN, where plain
psycopg's lock, update, insert and commit take five.

On PostgreSQL the read is two LATERAL joins, which PostgreSQL plans in about half the
time of the equivalent WITH query (each execution is planned: see `engine.db`); SQLite,
which has neither LATERAL nor row locks, reads the WITH form.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, true, update

from domain.accounts.models import User
from engine import audit
from engine import statements as sql
from engine.db import UTCDateTime
from handlers.proofing_models import Credential
from handlers.tokens.models import HardwareToken


@dataclass(frozen=True)
class Held:
    """What a person holds, as one verification sees it: their id (None when the username
    is unknown), their credentials' (status, expires_at), and the tokens of those in force
    (locked until the commit when the caller asked for them)."""

    owner_id: int | None
    credentials: list[tuple[str, datetime]]
    tokens: list[LockedToken]

    def reason(self, now: datetime) -> str | None:
        """Why none of the person's credentials is in force, or None when one is."""
        if any(status == "active" and expires > now for status, expires in self.credentials):
            return None
        if not self.credentials:
            return "no_credential"
        return "revoked" if all(s == "revoked" for s, _ in self.credentials) else "expired"


@dataclass(slots=True)
class LockedToken:
    """What a verification reads of a token, locked, and may change: a plain copy of the
    row (an ORM instance costs more to build than the rest of the read), written back
    with `save_tokens` or `save_token_with_event`."""

    id: int
    serial: str
    kind: str
    algorithm: str
    digits: int
    period: int | None
    counter: int
    sealed_secret: bytes
    status: str
    owner_id: int | None
    last_time_step: int | None
    drift_steps: int
    failures: int
    locked_at: datetime | None

    otp_params = HardwareToken.otp_params
    record_match = HardwareToken.record_match


_TOKEN_FIELDS = [f.name for f in fields(LockedToken)]
_USERS = User.__table__
_CREDENTIALS = Credential.__table__
_TOKENS = HardwareToken.__table__
_PERSON = (
    _USERS.c.id.label("person"),
    _CREDENTIALS.c.status.label("credential_status"),
    _CREDENTIALS.c.expires_at.label("credential_expires"),
)
_HELD = (
    select(*_PERSON)
    .select_from(_USERS.outerjoin(_CREDENTIALS, _CREDENTIALS.c.owner_id == _USERS.c.id))
    .where(_USERS.c.username == bindparam("b_username"))
)
# PostgreSQL: each credential, then its token when it is in force, locked as it is
# joined. The credentials come in their tokens' id order, so tokens are locked in id
# order as everywhere else, and concurrent requests never wait for each other in a circle.
_TOKEN_ID = (
    select(_TOKENS.c.id).where(_TOKENS.c.serial == _CREDENTIALS.c.token_serial).scalar_subquery()
)
_HOLDS = (
    select(_CREDENTIALS.c.status, _CREDENTIALS.c.expires_at, _CREDENTIALS.c.token_serial)
    .where(_CREDENTIALS.c.owner_id == _USERS.c.id)
    .order_by(_TOKEN_ID)
    .lateral("holds")
)
_LOCKED = (
    select(*(_TOKENS.c[name] for name in _TOKEN_FIELDS))
    .where(
        _TOKENS.c.serial == _HOLDS.c.token_serial,
        _HOLDS.c.status == "active",
        _HOLDS.c.expires_at > bindparam("b_now"),
    )
    .with_for_update()
    .lateral("locked")
)
_HELD_LOCKED_POSTGRESQL = (
    select(
        _USERS.c.id.label("person"),
        _HOLDS.c.status.label("credential_status"),
        _HOLDS.c.expires_at.label("credential_expires"),
        _LOCKED,
    )
    .select_from(_USERS.outerjoin(_HOLDS, true()).outerjoin(_LOCKED, true()))
    .where(_USERS.c.username == bindparam("b_username"))
)
# SQLite (no LATERAL, no row locks: a writer holds the whole database): a locking clause
# is allowed in a WITH query, so the same read is one statement there too.
_IN_FORCE_SERIALS = (
    select(_CREDENTIALS.c.token_serial)
    .join(_USERS, _USERS.c.id == _CREDENTIALS.c.owner_id)
    .where(
        _USERS.c.username == bindparam("b_username"),
        _CREDENTIALS.c.status == "active",
        _CREDENTIALS.c.expires_at > bindparam("b_now"),
    )
)
_IN_FORCE_TOKENS = (
    select(*(_TOKENS.c[name] for name in _TOKEN_FIELDS))
    .where(_TOKENS.c.serial.in_(_IN_FORCE_SERIALS.scalar_subquery()))
    .with_for_update()
    .cte("locked_tokens")
)
_HELD_LOCKED = {
    "postgresql": _HELD_LOCKED_POSTGRESQL,
    "sqlite": select(*_PERSON, _IN_FORCE_TOKENS)
    .select_from(
        _USERS.outerjoin(_CREDENTIALS, _CREDENTIALS.c.owner_id == _USERS.c.id).outerjoin(
            _IN_FORCE_TOKENS, _IN_FORCE_TOKENS.c.serial == _CREDENTIALS.c.token_serial
        )
    )
    .where(_USERS.c.username == bindparam("b_username")),
}
_SAVE_TOKEN = (
    update(_TOKENS)
    .where(_TOKENS.c.id == bindparam("b_id"))
    .values(
        counter=bindparam("counter"),
        last_time_step=bindparam("last_time_step"),
        drift_steps=bindparam("drift_steps"),
        failures=bindparam("failures"),
        status=bindparam("status"),
        locked_at=bindparam("locked_at"),
    )
)


def held_by(connection: Connection, username: str, now: datetime, *, lock_tokens: bool) -> Held:
    """One statement, prebuilt: the person, their credentials and, with `lock_tokens`,
    the tokens of those in force, locked. The tokens are plain copies: a change is
    written with `save_tokens` or `save_token_with_event`."""
    statement = _HELD_LOCKED[connection.dialect.name] if lock_tokens else _HELD
    rows = connection.execute(statement, {"b_username": username, "b_now": now})
    owner_id, credentials, tokens = None, [], []
    for row in rows:
        owner_id = row.person
        if row.credential_status is not None:
            credentials.append((row.credential_status, row.credential_expires))
        if lock_tokens and row.serial is not None:
            tokens.append(LockedToken(*(getattr(row, name) for name in _TOKEN_FIELDS)))
    tokens.sort(key=lambda token: token.id)
    return Held(owner_id, credentials, tokens)


_TOKEN_STATE = ("counter", "last_time_step", "drift_steps", "failures", "status", "locked_at")
# A verification's one token write and its audit event, in one round trip (PostgreSQL).
_SAVE_TOKEN_AND_AUDIT = sql.append_event_with(
    "saved_token AS (UPDATE hardware_tokens SET counter = :t_counter,"
    " last_time_step = :t_last_time_step, drift_steps = :t_drift_steps,"
    " failures = :t_failures, status = :t_status, locked_at = :t_locked_at WHERE id = :t_id)",
    bindparam("t_locked_at", type_=UTCDateTime()),
)


def _state(token: LockedToken, prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}{name}": getattr(token, name) for name in _TOKEN_STATE}


def save_tokens(connection: Connection, tokens: list[LockedToken]) -> None:
    """Write what a verification changed on tokens read by `held_by`."""
    if tokens:
        connection.execute(_SAVE_TOKEN, [{"b_id": t.id, **_state(t)} for t in tokens])


def save_token_with_event(connection: Connection, token: LockedToken, item: Any) -> bool:
    """PostgreSQL: write `token` and append the audit event `item` (`audit.new_event`) in
    one statement. False when the event's chain has no head yet: the token was written
    all the same, so the caller rolls back and takes the ordinary way."""
    params = {"t_id": token.id, **_state(token, "t_")}
    return audit.append_with(connection, _SAVE_TOKEN_AND_AUDIT, params, item)
