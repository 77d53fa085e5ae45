"""The audit trail: append-only rows in per-instance hash chains.

Each instance has its own chain (plus one `system` chain for deployments and other
events without an instance), so appends serialize only where the instance's own
concurrency control already does. The chain head is kept in `audit_chains`, so that
deleting the newest rows is detected as well as editing or deleting older ones.
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
from .models import AuditChain, AuditEvent

SYSTEM_CHAIN = "system"
GENESIS = "0" * 64
_PENDING = "audit_pending"


def _digest(row: Any) -> str:
    body = {
        "chain": row.chain,
        "seq": row.seq,
        "instance_id": row.instance_id,
        "event": row.event,
        "actor": row.actor,
        "element": row.element,
        "details": row.details,
        "created_at": _iso(row.created_at),
        "prev_hash": row.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(value: datetime) -> str:
    # Hash the same text whatever zone handling the backend applies on the way back.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def record(
    session: Session,
    event: str,
    *,
    instance_id: str | None = None,
    actor: str | None = None,
    element: str | None = None,
    **details: Any,
) -> None:
    """Append one event when the transaction commits. Callers pass no secrets: names of
    fields, never their values."""
    session.info.setdefault(_PENDING, []).append(
        SimpleNamespace(
            chain=instance_id or SYSTEM_CHAIN,
            instance_id=instance_id,
            event=event,
            actor=actor,
            element=element,
            details=details,
            created_at=clock.now(),
        )
    )


def mark(session: Session) -> int:
    """Where the pending events stand, to rewind to when a savepoint rolls back."""
    return len(session.info.get(_PENDING, []))


def rewind(session: Session, position: int) -> None:
    del session.info.get(_PENDING, [])[position:]


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    """Write the transaction's events: one locked read of their chains' heads, one insert."""
    if session.in_nested_transaction():
        return  # a savepoint: the events wait for the real commit
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_chain: dict[str, list[Any]] = {}
    for item in pending:
        by_chain.setdefault(item.chain, []).append(item)
    heads = {h.chain: h for h in sql.run(session, sql.CHAIN_HEADS, {"b_chains": list(by_chain)})}
    rows, new_heads, moved_heads = [], [], []
    for chain_id, items in by_chain.items():
        head = heads.get(chain_id)
        length, prev = (head.length, head.head_hash) if head else (0, GENESIS)
        for item in items:
            length += 1
            item.seq, item.prev_hash = length, prev
            item.hash = prev = _digest(item)
            rows.append(vars(item))
        if head is None:
            new_heads.append({"chain": chain_id, "length": length, "head_hash": prev})
        else:
            moved_heads.append({"b_chain": chain_id, "length": length, "head_hash": prev})
    if new_heads:
        sql.run(session, sql.INSERT_CHAIN, new_heads)
    if moved_heads:
        sql.run(session, sql.MOVE_CHAIN, moved_heads)
    sql.run(session, sql.INSERT_EVENTS, rows)


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
    seen: set[str] = set()
    for chain_id, rows in _chains(session):
        seen.add(chain_id)
        breaks.extend(_verify_chain(chain_id, rows, heads.get(chain_id)))
    for chain_id in heads.keys() - seen:
        breaks.append(Break(chain_id, None, "all events of this chain are missing"))
    return breaks


def _verify_chain(chain_id: str, rows: list[AuditEvent], head: AuditChain | None) -> list[Break]:
    breaks = []
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            breaks.append(Break(chain_id, expected_seq, "event missing"))
        if row.prev_hash != prev:
            breaks.append(Break(chain_id, row.seq, "previous hash does not match"))
        if _digest(row) != row.hash:
            breaks.append(Break(chain_id, row.seq, "content was changed"))
        prev = row.hash
    if head is None:
        breaks.append(Break(chain_id, None, "chain head missing"))
    elif head.length != len(rows) or head.head_hash != prev:
        breaks.append(Break(chain_id, None, "newest events are missing or chain head changed"))
    return breaks


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
