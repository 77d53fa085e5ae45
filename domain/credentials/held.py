"""What one verification reads and writes: the person, their credentials, their tokens.

A relying application's sign-ins are the one load that grows with every user, so this
is kept to the database's pace: one prebuilt statement reads the person, their
credentials and, locked, the tokens of those in force; on PostgreSQL one more writes the
token back together with the answer's audit event (hashed under the chain head's lock,
in the database). There the API's common case (`verify_in_two_round_trips`) sends them
as two messages, BEGIN with the read and the write with COMMIT, prepared once per
connection and run with a generic plan (`Prepared`): two round trips, where plain
psycopg's lock, update, insert and commit take five.

On PostgreSQL the read is two LATERAL joins, which PostgreSQL plans in about half the
time of the equivalent WITH query; SQLite, which has neither LATERAL nor row locks,
reads the WITH form.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, cast

import psycopg
import psycopg.errors
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Dialect, Table, bindparam, exc, select, true, update
from sqlalchemy.engine import Compiled

from domain.accounts.models import User
from domain.credentials.models import Credential
from domain.tokens import otp
from domain.tokens.models import HardwareToken
from domain.tokens.otp import Match, OtpParams
from engine import audit, jsoncodec
from engine import statements as sql
from engine.db import UTCDateTime


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
    with `save_tokens` or `verify_in_two_round_trips`."""

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

    def otp_params(self) -> OtpParams:
        return otp.params_of(self)

    def record_match(self, match: Match) -> None:
        otp.record_match(self, match)


_TOKEN_FIELDS = [f.name for f in fields(LockedToken)]
_USERS = cast(Table, User.__table__)
_CREDENTIALS = cast(Table, Credential.__table__)
_TOKENS = cast(Table, HardwareToken.__table__)
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
    written with `save_tokens` (or, on PostgreSQL, read and written by
    `verify_in_two_round_trips`)."""
    statement = _HELD_LOCKED[connection.dialect.name] if lock_tokens else _HELD
    return _held(connection.execute(statement, {"b_username": username, "b_now": now}))


def _held(rows: Iterable[Sequence[Any]]) -> Held:
    """A `Held` from rows of `_PERSON`'s three columns, then the token's when locked."""
    owner_id, credentials, tokens = None, [], []
    for row in rows:
        owner_id = row[0]
        if row[1] is not None:
            credentials.append((row[1], row[2]))
        if len(row) > 3 and row[3] is not None:
            tokens.append(LockedToken(*row[3:]))
    tokens.sort(key=lambda token: token.id)
    return Held(owner_id, credentials, tokens)


_TOKEN_STATE = ("counter", "last_time_step", "drift_steps", "failures", "status", "locked_at")
# A verification's one token write and its audit event, in one statement (PostgreSQL);
# the token is written only when the event's chain has a head, so that when it has none
# the statement writes nothing.
_SAVE_TOKEN_AND_AUDIT = sql.append_event_with(
    "saved_token AS (UPDATE hardware_tokens SET counter = :t_counter,"
    " last_time_step = :t_last_time_step, drift_steps = :t_drift_steps,"
    " failures = :t_failures, status = :t_status, locked_at = :t_locked_at"
    " FROM head WHERE id = :t_id)",
    bindparam("t_locked_at", type_=UTCDateTime()),
)


def _state(token: LockedToken, prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}{name}": getattr(token, name) for name in _TOKEN_STATE}


def save_tokens(connection: Connection, tokens: list[LockedToken]) -> None:
    """Write what a verification changed on tokens read by `held_by`."""
    if tokens:
        connection.execute(_SAVE_TOKEN, [{"b_id": t.id, **_state(t)} for t in tokens])


# What `verify_in_two_round_trips` decides from what a person holds: the token to write
# back and the audit event (`audit.new_event`) to append, or None to write nothing.
Decision = Callable[[Held], "tuple[LockedToken, Any] | None"]


def verify_in_two_round_trips(
    connection: Connection, username: str, now: datetime, decide: Decision
) -> bool:
    """PostgreSQL: `held_by`'s locked read and, when `decide` asks for it, the token's
    write with its audit event (`_SAVE_TOKEN_AND_AUDIT`) and the commit, in two round
    trips: `BEGIN; <the read>`, then `<the write>; COMMIT`, each one message of the
    simple query protocol on the connection's own psycopg connection, where plain
    psycopg's lock, update, insert and commit take five (see `Prepared` for what each
    message holds). Through SQLAlchemy the same two statements took four round trips and
    cost this process more than the database's work on them.

    True when the write was committed. False when `decide` declined, or when the event's
    chain has no head yet (its first event): then nothing was written, the transaction
    is over, and the caller takes the ordinary way. A database error is raised as
    SQLAlchemy raises it (`sqlalchemy.exc.DBAPIError`'s kinds), the transaction rolled
    back or, when the connection broke, the connection invalidated."""
    if connection.in_transaction():  # the caller read on it (its key, not remembered)
        connection.commit()
    prepared = prepared_for(connection.dialect)
    pg = cast(psycopg.Connection[Any], connection.connection.driver_connection)
    cursor = psycopg.ClientCursor(pg)
    statement, params = prepared.read, {**prepared.read_defaults, "b_username": username}
    params["b_now"] = now
    pg.autocommit = True  # the BEGIN is ours, in the same message as the read
    try:
        rows = prepared.read_on(pg, cursor, params)
        decided = decide(_held(rows))
        if decided is None:
            return False
        statement, params = prepared.write, _write_params(*decided)
        cursor.execute(statement, params)
        return cursor.rowcount == 1
    except psycopg.Error as error:
        raise exc.DBAPIError.instance(
            statement, params, error, psycopg.Error, dialect=connection.dialect
        ) from error
    finally:
        _end(connection, pg)


def _write_params(token: LockedToken, item: Any) -> dict[str, Any]:
    values = audit.append_values(item)
    values["details"] = jsoncodec.dumps(values["details"])
    return {"t_id": token.id, **_state(token, "t_"), **values}


def _end(connection: Connection, pg: psycopg.Connection[Any]) -> None:
    """Leave `pg` as the pool lent it, idle (what is still open rolled back) and out of
    autocommit; or have the pool replace it when that cannot be done."""
    try:
        if pg.info.transaction_status != TransactionStatus.IDLE:
            pg.rollback()
        pg.autocommit = False
    except psycopg.Error:
        connection.invalidate()


class Prepared:
    """The read and the write as statements prepared in the server, by name, once per
    connection, and executed with a generic plan.

    Every statement is otherwise planned at each execution (`engine.db` sets
    `plan_cache_mode = force_custom_plan`, since a generic plan made while a table was
    small kept its sequential scans as the table grew), and planning these two cost
    PostgreSQL more than all the rest of a verification: with them planned once, its
    CPU per verification fell by about half (0.94-1.14 ms to 0.49-0.54 in the README's
    runs of bench/verify.py, where the raw transaction's was 0.34-0.38). The
    reason for planning each time does not hold here: both statements find every row by
    a unique key or an index, and the generic plan is made with sequential scans, hash
    and merge joins turned off for the transaction (`SET LOCAL`), so that however small
    the tables were when it was made, it is the plan of index lookups a custom plan
    chooses for them at any size (tests/lifecycle/test_verify_round_trips.py shows it on
    empty tables). The settings end with the transaction.

    psycopg deallocates every prepared statement of a connection at a ROLLBACK when it
    prepared some of its own (`DEALLOCATE ALL`); a read that finds its statement gone
    prepares both again and runs once more."""

    READ_NAME = "tokenflow_verify_read"
    WRITE_NAME = "tokenflow_verify_write"
    PLANNING = (
        "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off;"
        " SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
    )

    def __init__(self, read: Compiled, write: Compiled) -> None:
        read_text, read_names = _numbered(read.string)
        write_text, write_names = _numbered(write.string)
        self.definitions = {self.READ_NAME: read_text, self.WRITE_NAME: write_text}
        self.read_defaults = dict(read.params)  # the literal 'active' is one
        self.read = f"BEGIN; {self.PLANNING}; {_execute(self.READ_NAME, read_names)}"
        self.write = f"{_execute(self.WRITE_NAME, write_names)}; COMMIT"
        self._holders: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()

    def read_on(
        self, pg: psycopg.Connection[Any], cursor: psycopg.ClientCursor[Any], params: Any
    ) -> list[Any]:
        """Run the read's message (BEGIN, the settings, the read) and return its rows."""
        if pg not in self._holders:
            self.prepare_on(pg)
        try:
            cursor.execute(self.read, params)
        except psycopg.errors.InvalidSqlStatementName:  # deallocated meanwhile
            pg.rollback()
            self.prepare_on(pg)
            cursor.execute(self.read, params)
        while cursor.nextset():  # to the last result: the read's rows
            pass
        return cursor.fetchall()

    def prepare_on(self, pg: psycopg.Connection[Any]) -> None:
        """Prepare on `pg` (in autocommit) whichever of the two statements it lacks."""
        held = pg.execute(
            "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)",
            [list(self.definitions)],
        ).fetchall()
        for name, text in self.definitions.items():
            if (name,) not in held:
                pg.execute(f"PREPARE {name} AS {text}".encode())
        self._holders.add(pg)


_NAMED = re.compile(r"%\((\w+)\)s")


def _numbered(text: str) -> tuple[str, list[str]]:
    """`text` with psycopg's named parameters as PostgreSQL's numbered ones, for PREPARE,
    and the names in their numbers' order."""
    names: list[str] = []

    def number(found: re.Match[str]) -> str:
        if found[1] not in names:
            names.append(found[1])
        return f"${names.index(found[1]) + 1}"

    return _NAMED.sub(number, text).replace("%%", "%"), names


def _execute(name: str, parameters: list[str]) -> str:
    return f"EXECUTE {name}({', '.join(f'%({p})s' for p in parameters)})"


@cache
def prepared_for(dialect: Dialect) -> Prepared:
    """The read and the write, compiled once for `dialect` (psycopg's named parameters)."""
    return Prepared(
        _HELD_LOCKED_POSTGRESQL.compile(dialect=dialect),
        _SAVE_TOKEN_AND_AUDIT.compile(dialect=dialect),
    )
