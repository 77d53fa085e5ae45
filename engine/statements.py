"""The statements every step runs, built once.

Building a SQLAlchemy statement and deriving its cache key costs more than SQLite takes
to run it (about 130 us against 20 us for a prebuilt one, measured by bench/engine.py's
profile). So the step's hot path uses these module-level statements, with bind
parameters, executed on the session's connection; column types (JSON, UTC datetimes)
still apply. Rare paths build their statements where they are used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import JSON, Table, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .db import UTCDateTime
from .models import AuditChain, AuditEvent, InstanceTask, Job, ProcessInstance, WorkItem

_tasks = cast(Table, InstanceTask.__table__)
_items = cast(Table, WorkItem.__table__)
_instances = cast(Table, ProcessInstance.__table__)
_jobs = cast(Table, Job.__table__)
_chains = cast(Table, AuditChain.__table__)

# instance tasks
INSERT_TASKS = insert(_tasks)
UPDATE_TASK = (
    update(_tasks)
    .where(_tasks.c.instance_id == bindparam("b_instance"), _tasks.c.id == bindparam("b_id"))
    .values(payload=bindparam("payload"))
)
DELETE_TASK = delete(_tasks).where(
    _tasks.c.instance_id == bindparam("b_instance"), _tasks.c.id == bindparam("b_id")
)
LOAD_TASKS = (
    select(_tasks.c.instance_id, _tasks.c.id, _tasks.c.workflow_id, _tasks.c.seq, _tasks.c.payload)
    .where(_tasks.c.instance_id.in_(bindparam("b_instances", expanding=True)))
    .order_by(_tasks.c.instance_id, _tasks.c.seq)
)

# instances
# In one order, so that two batches never wait for each other in a circle.
LOCK_INSTANCES = (
    select(ProcessInstance)
    .where(ProcessInstance.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(ProcessInstance.id)
    .with_for_update()
)
WRITE_INSTANCE = (
    update(_instances)
    .where(_instances.c.id == bindparam("b_id"), _instances.c.version == bindparam("b_version"))
    .values(
        version=bindparam("new_version"),
        status=bindparam("status"),
        business_key=bindparam("business_key"),
        ended_at=bindparam("ended_at"),
        serializer_version=bindparam("serializer_version"),
        state=bindparam("state"),
        updated_at=bindparam("updated_at"),
    )
)

# work items
GET_ITEM = select(_items).where(_items.c.id == bindparam("b_id"))
INSERT_ITEMS = insert(_items)
COMPLETE_ITEM = (
    update(_items)
    .where(_items.c.id == bindparam("b_id"), _items.c.status == "ready")
    .values(
        status="completed",
        completed_by=bindparam("completed_by"),
        completed_at=bindparam("completed_at"),
    )
)
CLOSE_ITEM = (
    update(_items)
    .where(_items.c.id == bindparam("b_id"))
    .values(status=bindparam("status"), completed_at=bindparam("completed_at"))
)

# jobs
GET_JOB_FOR_UPDATE = select(_jobs).where(_jobs.c.id == bindparam("b_id")).with_for_update()
CLAIMED_JOBS = (
    select(_jobs)
    .where(
        _jobs.c.id.in_(bindparam("b_ids", expanding=True)),
        _jobs.c.locked_by == bindparam("b_worker"),
    )
    .order_by(_jobs.c.instance_id, _jobs.c.due_at, _jobs.c.id)
    .with_for_update()
)
UNCLAIM_JOBS = (
    update(_jobs)
    .where(_jobs.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(locked_by=None, locked_until=None)
)
INSERT_JOB = insert(_jobs)
DELETE_JOB = delete(_jobs).where(
    _jobs.c.instance_id == bindparam("b_instance"),
    _jobs.c.kind == bindparam("b_kind"),
    _jobs.c.task_id == bindparam("b_task"),
)
MOVE_TIMER = (
    update(_jobs)
    .where(
        _jobs.c.instance_id == bindparam("b_instance"),
        _jobs.c.task_id == bindparam("b_task"),
        _jobs.c.kind == "timer",
    )
    .values(due_at=bindparam("due_at"), locked_by=None, locked_until=None)
)
RECHECK_TIMER = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("b_id"), _jobs.c.kind == "timer")
    .values(locked_by=None, locked_until=bindparam("locked_until"))
)

# audit chains
CHAIN_HEADS = (
    select(_chains.c.chain, _chains.c.length, _chains.c.head_hash)
    .where(_chains.c.chain.in_(bindparam("b_chains", expanding=True)))
    .order_by(_chains.c.chain)
    .with_for_update()
)
# A chain's first head, unless a concurrent transaction has just added it.
_NEW_CHAINS = {
    "postgresql": postgresql_insert(_chains).on_conflict_do_nothing(index_elements=["chain"]),
    "sqlite": sqlite_insert(_chains).on_conflict_do_nothing(index_elements=["chain"]),
}
MOVE_CHAIN = (
    update(_chains)
    .where(_chains.c.chain == bindparam("b_chain"))
    .values(length=bindparam("length"), head_hash=bindparam("head_hash"))
)
INSERT_EVENTS = insert(cast(Table, AuditEvent.__table__))
# One event and its chain's new head (the event's own seq and hash) in one statement:
# a round trip less for the commonest append, one event in one chain. SQLite has no
# data-modifying WITH.
_APPEND_ONE_EVENT_POSTGRESQL = text(
    "WITH moved_head AS (UPDATE audit_chains SET length = :seq, head_hash = :hash"
    " WHERE chain = :chain)"
    " INSERT INTO audit_events"
    " (chain, seq, instance_id, event, actor, element, details, details_hash, created_at,"
    " prev_hash, hash)"
    " VALUES (:chain, :seq, :instance_id, :event, :actor, :element, :details, :details_hash,"
    " :created_at, :prev_hash, :hash)"
).bindparams(bindparam("details", type_=JSON), bindparam("created_at", type_=UTCDateTime()))


def append_event_with(writes: str, *binds: Any) -> Any:
    """A PostgreSQL statement running `writes` (data-modifying WITH items, `name AS
    (UPDATE ...)`, with `binds` typing their parameters) and appending one audit event,
    for `audit.append_values`: the chain's head is locked and moved, and the event hashed
    from it, in the database (`:prefix` is `audit.hash_prefix`). One round trip for what
    would take three. `writes` come after `head` (the chain's head, locked), so they can
    join it to run only when the chain has a head: then, when it has none yet (its first
    event), the statement writes nothing at all, and inserts no event."""
    return text(
        f"WITH head AS (SELECT length, head_hash FROM audit_chains WHERE chain = :chain"  # noqa: S608  `writes` is the caller's constant SQL
        f" FOR UPDATE), {writes},"
        " moved AS (UPDATE audit_chains AS c SET length = head.length + 1,"
        ' head_hash = encode(sha256(convert_to(:prefix || head.head_hash || \'","seq":\''
        " || (head.length + 1) || '}', 'UTF8')), 'hex')"
        " FROM head WHERE c.chain = :chain"
        " RETURNING head.head_hash AS prev_hash, c.length AS seq, c.head_hash AS hash)"
        " INSERT INTO audit_events"
        " (chain, seq, instance_id, event, actor, element, details, details_hash, created_at,"
        " prev_hash, hash)"
        " SELECT :chain, seq, :instance_id, :event, :actor, :element, CAST(:details AS JSON),"
        " :details_hash, :created_at, prev_hash, hash FROM moved"
    ).bindparams(
        bindparam("details", type_=JSON),
        bindparam("created_at", type_=UTCDateTime()),
        *binds,
    )


def append_events(
    session: Session, rows: list[dict[str, Any]], moved_heads: list[dict[str, Any]]
) -> None:
    """Insert audit `rows` and move their chains' heads (`MOVE_CHAIN` parameters)."""
    if len(rows) == 1 and session.get_bind().dialect.name == "postgresql":
        run(session, _APPEND_ONE_EVENT_POSTGRESQL, rows[0])
        return
    run(session, MOVE_CHAIN, moved_heads)
    run(session, INSERT_EVENTS, rows)


def new_chains(session: Session) -> Any:
    """The insert of new chain heads that ignores heads already there, for this backend."""
    return _NEW_CHAINS[session.get_bind().dialect.name]


def run(session: Session, statement: Any, params: Any = None) -> Any:
    """Execute a prebuilt Core statement in the session's transaction."""
    return session.connection().execute(statement, params)


def write(session: Session, statement: Any, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
    """Execute a write whose result only a single step reads. Inside `deferred()` it waits
    and runs with every other write of the same statement at once (one executemany),
    and the result is None."""
    buffer = session.info.get(_DEFERRED)
    if buffer is None:
        return run(session, statement, params)
    rows = params if isinstance(params, list) else [params]
    buffer.setdefault(id(statement), (statement, []))[1].extend(rows)
    return None


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Collect the block's `write`s and run them when it ends cleanly: statement by
    statement in the order each was first used, each with all of its rows. For a batch
    of steps of different instances (each row written by one step only), so the order
    among steps does not matter."""
    buffer: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    session.info[_DEFERRED] = buffer
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    for statement, rows in buffer.values():
        run(session, statement, rows)


_DEFERRED = "tokenflow_deferred_writes"
