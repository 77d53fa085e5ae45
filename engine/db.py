"""Database plumbing: declarative base, SQLAlchemy engine creation, unit of work.

SQLAlchemy's `Engine` is imported as `DbEngine` and held in names called `db`: in this
package "engine" means the process engine (`runtime.ProcessEngine`)."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event, exc
from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from . import jsoncodec
from .clock import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Row time stamps follow the engine's clock, like every other time the engine keeps."""
    return clock.now()


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: `column` holds one of `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


def make_db_engine(url: str, **kwargs: Any) -> DbEngine:
    """A SQLAlchemy engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    kwargs.setdefault("json_serializer", jsoncodec.dumps)
    kwargs.setdefault("json_deserializer", jsoncodec.loads)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 15, "check_same_thread": False})
        db = create_engine(url, **kwargs)

        @event.listens_for(db, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN; take control so
            # that a unit of work is one real transaction.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(db, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A unit of work takes the write lock at once (no upgrade deadlocks); a
            # connection marked read_only (health checks) reads beside the writer, as WAL allows.
            read_only = conn.get_execution_options().get("read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return db
    if url.startswith("postgresql"):
        # psycopg prepares a statement run five times, and PostgreSQL may then keep one
        # generic plan for it. A plan made while a table was small (a sequential scan)
        # stays until the next ANALYZE however much the table grows: the audit chain
        # lookup of a worker went from 0.1 to 7 ms a batch as 12,000 instances were added
        # in a minute. Planning each execution for the table as it is costs less.
        # (One exception, planned once under settings that keep it to index lookups:
        # an API verification's two statements, `domain.credentials.held.Prepared`.)
        args = kwargs.setdefault("connect_args", {})
        args["options"] = f"{args.get('options', '')} -c plan_cache_mode=force_custom_plan"
    db = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_in_doubt(db)
    return db


# A pooled connection idle this long is pinged before use.
PING_AFTER_IDLE_SECONDS = 5.0
_CHECKED_IN = "tokenflow_checked_in"


def _ping_when_in_doubt(db: DbEngine) -> None:
    """Hand out only live connections, without a round trip for the busy ones.

    `pool_pre_ping` sends a query on every checkout: a round trip more for each request,
    which is a fifth of a verification. A connection used a moment ago is alive unless
    the server has said otherwise, and a server that ends a session (a restart, an
    administrator's kill) writes to its socket first: so a connection is pinged only
    when its socket has something to read while it sat idle, or when it sat idle
    longer than `PING_AFTER_IDLE_SECONDS` (a firewall may have dropped it quietly). A
    failed ping makes the pool replace the connection before anyone uses it."""

    @event.listens_for(db, "connect")
    @event.listens_for(db, "checkin")
    def _note_idle_since(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(db, "checkout")
    def _ping_if_in_doubt(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get(_CHECKED_IN, 0.0)
        if idle < PING_AFTER_IDLE_SECONDS and not _has_news(dbapi_conn):
            return
        try:
            db.dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection was dead: {error}") from error


def _has_news(dbapi_conn: Any) -> bool:
    """Whether an idle connection's socket has something to read (or cannot be asked)."""
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return True


def make_session_factory(db: DbEngine) -> sessionmaker[Session]:
    return sessionmaker(db, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], bind: Any = None) -> Iterator[Session]:
    """One transaction: commits when the block ends cleanly, rolls back otherwise; on
    `bind` (a Connection outside a transaction) rather than a connection of the pool."""
    session = factory() if bind is None else factory(bind=bind)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.clear()
        session.close()
