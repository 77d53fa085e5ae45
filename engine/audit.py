"""The audit trail: append-only rows in hash chains, one per instance or subject.

Appending locks the chain's head, so a chain is a queue: an instance's events go to its
own chain (the instance's concurrency control already serializes them), an event without
an instance to the chain of its subject (the caller names it: a person, an application),
and only events that concern everyone, such as deployments, to `system`. Two requests
about different subjects therefore never wait for each other here. The chain head is kept
in `audit_chains`, so that deleting the newest rows is detected as well as editing or
deleting older ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from . import statements as sql
from .clock import clock
from .models import AuditChain, AuditEvent, ProcessInstance

SYSTEM_CHAIN = "system"
MAX_CHAIN_CHARS = 36  # audit_chains.chain and audit_events.chain
GENESIS = "0" * 64
_PENDING = "audit_pending"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def details_digest(details: Any) -> str:
    """The hash of an event's details that its row keeps, and its chain hash covers."""
    return hashlib.sha256(_json(details).encode()).hexdigest()


def _digest(row: Any) -> str:
    return hashlib.sha256(_canonical(row, row.prev_hash, row.seq).encode()).hexdigest()


def _canonical(row: Any, prev_hash: str, seq: int) -> str:
    body = {
        "chain": row.chain,
        "seq": seq,
        "instance_id": row.instance_id,
        "event": row.event,
        "actor": row.actor,
        "element": row.element,
        "details": row.details,
        "created_at": _iso(row.created_at),
        "prev_hash": prev_hash,
    }
    if row.details_hash is not None:
        # The details enter the chain through their own hash, so that the retention job
        # can remove them and the chain still verifies.
        del body["details"]
        body["details_sha256"] = row.details_hash
    return _json(body)


# What the database appends to `hash_prefix` to complete the text: the head's hash, the seq.
_PREV_MARK = "\x00prev"
_HASH_TAIL = f'{json.dumps(_PREV_MARK)},"seq":0}}'


def hash_prefix(row: Any) -> str:
    """The canonical text of `row` up to its previous hash, which with `seq` are the last
    keys: a statement that holds the chain's head completes it with `<prev_hash>","seq":<n>}`
    and hashes it (see `statements.append_event_with`), to the same hash as `_digest`."""
    text = _canonical(row, _PREV_MARK, 0)
    if not text.endswith(_HASH_TAIL):  # the canonical form changed: keep them in step
        raise AssertionError("prev_hash and seq must be the last keys of an audit event")
    return text[: -len(_HASH_TAIL)] + '"'


def _iso(value: datetime) -> str:
    # Hash the same text whatever zone handling the backend applies on the way back.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def record(session: Session, event: str, **fields: Any) -> None:
    """Append one event (`new_event`'s arguments) when the transaction commits."""
    session.info.setdefault(_PENDING, []).append(new_event(event, **fields))


def new_event(
    event: str,
    *,
    instance_id: str | None = None,
    subject: str | None = None,
    actor: str | None = None,
    element: str | None = None,
    **details: Any,
) -> Any:
    """One event, as it waits to be written. Callers pass no secrets: names of fields,
    never their values.

    The chain is the instance's; without an instance, `subject`'s (short and stable,
    such as `user:42`); with neither, `system`, which every such event then waits on."""
    chain = instance_id or subject or SYSTEM_CHAIN
    if len(chain) > MAX_CHAIN_CHARS:
        raise ValueError(f"an audit chain name has at most {MAX_CHAIN_CHARS} characters")
    return SimpleNamespace(
        chain=chain,
        instance_id=instance_id,
        event=event,
        actor=actor,
        element=element,
        details=details,
        details_hash=details_digest(details),
        created_at=clock.now(),
    )


def mark(session: Session) -> int:
    """Where the pending events stand, to rewind to when a savepoint rolls back."""
    return len(session.info.get(_PENDING, []))


def rewind(session: Session, position: int) -> None:
    del session.info.get(_PENDING, [])[position:]


@event.listens_for(Session, "before_commit")
def _append_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint: the events wait for the real commit
        write_pending(session)


def write_pending(session: Session) -> None:
    """Write the transaction's events now rather than at its commit: one locked read of
    their chains' heads, then the events and the heads' new values (one statement for
    a single event on PostgreSQL, such as a verification's). The heads stay locked until
    the transaction ends."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_chain: dict[str, list[Any]] = {}
    for item in pending:
        by_chain.setdefault(item.chain, []).append(item)
    heads = _lock_heads(session, list(by_chain))
    rows, moved_heads = [], []
    for chain_id, items in by_chain.items():
        length, prev = heads[chain_id]
        for item in items:
            length += 1
            item.seq, item.prev_hash = length, prev
            item.hash = prev = _digest(item)
            rows.append(vars(item))
        moved_heads.append({"b_chain": chain_id, "length": length, "head_hash": prev})
    sql.append_events(session, rows, moved_heads)


def append_values(item: Any) -> dict[str, Any]:
    """The parameters that append `item` (from `new_event`) with a statement from
    `statements.append_event_with`, its details still a dict (see `append_event_with`)."""
    return {
        "chain": item.chain,
        "instance_id": item.instance_id,
        "event": item.event,
        "actor": item.actor,
        "element": item.element,
        "details": item.details,
        "details_hash": item.details_hash,
        "created_at": item.created_at,
        "prefix": hash_prefix(item),
    }


def _lock_heads(session: Session, chains: list[str]) -> dict[str, tuple[int, str]]:
    """Each chain's (length, head hash), its head row locked until the commit.

    A chain seen for the first time gets an empty head first. Two transactions may both
    find it missing (two first sign-ins of one person): inserting it while ignoring a
    conflict makes the second wait for the first and then lock the row it committed,
    instead of failing on the duplicate key."""
    heads = {
        h.chain: (h.length, h.head_hash)
        for h in sql.run(session, sql.CHAIN_HEADS, {"b_chains": chains})
    }
    missing = [chain for chain in chains if chain not in heads]
    if missing:
        empty = [{"chain": chain, "length": 0, "head_hash": GENESIS} for chain in missing]
        sql.run(session, sql.new_chains(session), empty)
        found = sql.run(session, sql.CHAIN_HEADS, {"b_chains": missing})
        heads.update((h.chain, (h.length, h.head_hash)) for h in found)
    return heads


@dataclass(frozen=True)
class Break:
    chain: str
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.chain}#{self.seq}" if self.seq is not None else self.chain
        return f"{where}: {self.reason}"


def verify(session: Session) -> list[Break]:
    """Recompute every chain; each edit, deletion or truncation is one `Break`."""
    breaks: list[Break] = []
    heads = {c.chain: c for c in session.scalars(select(AuditChain))}
    purged = set(
        session.scalars(select(ProcessInstance.id).where(ProcessInstance.purged_at.is_not(None)))
    )
    seen: set[str] = set()
    for chain_id, rows in _chains(session):
        seen.add(chain_id)
        breaks.extend(_verify_chain(chain_id, rows, heads.get(chain_id), chain_id in purged))
    for chain_id in heads.keys() - seen:
        breaks.append(Break(chain_id, None, "all events of this chain are missing"))
    return breaks


def _verify_chain(
    chain_id: str, rows: list[AuditEvent], head: AuditChain | None, purged: bool
) -> list[Break]:
    breaks = []
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            breaks.append(Break(chain_id, expected_seq, "event missing"))
        if row.prev_hash != prev:
            breaks.append(Break(chain_id, row.seq, "previous hash does not match"))
        if _digest(row) != row.hash or not _details_hold(row, purged):
            breaks.append(Break(chain_id, row.seq, "content was changed"))
        prev = row.hash
    if head is None:
        breaks.append(Break(chain_id, None, "chain head missing"))
    elif head.length != len(rows) or head.head_hash != prev:
        breaks.append(Break(chain_id, None, "newest events are missing or chain head changed"))
    return breaks


def _details_hold(row: AuditEvent, purged: bool) -> bool:
    """The details are those the chain hashed, or were removed by the retention job: only
    from an instance's chain once the instance is marked purged."""
    if row.details is None:
        return purged and row.details_hash is not None
    return row.details_hash is None or details_digest(row.details) == row.details_hash


def _chains(session: Session) -> Iterator[tuple[str, list[AuditEvent]]]:
    current: str | None = None
    rows: list[AuditEvent] = []
    stream = session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.chain, AuditEvent.seq)
        .execution_options(yield_per=1000)
    )
    for row in stream:
        if row.chain != current:
            if current is not None:
                yield current, rows
            current, rows = row.chain, []
        rows.append(row)
    if current is not None:
        yield current, rows
