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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import clock
from .models import AuditChain, AuditEvent

SYSTEM_CHAIN = "system"
GENESIS = "0" * 64


def _digest(row: AuditEvent) -> str:
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
) -> AuditEvent:
    """Append one event. Callers pass no secrets: names of fields, never their values."""
    chain_id = instance_id or SYSTEM_CHAIN
    # One locked read of the chain head per transaction; later appends reuse it.
    heads = session.info.setdefault("audit_heads", {})
    chain = heads.get(chain_id)
    if chain is None:
        chain = session.execute(
            select(AuditChain).where(AuditChain.chain == chain_id).with_for_update()
        ).scalar_one_or_none()
        if chain is None:
            chain = AuditChain(chain=chain_id, length=0, head_hash=GENESIS)
            session.add(chain)
        heads[chain_id] = chain
    row = AuditEvent(
        chain=chain_id,
        seq=chain.length + 1,
        instance_id=instance_id,
        event=event,
        actor=actor,
        element=element,
        details=details,
        created_at=clock.now(),
        prev_hash=chain.head_hash,
    )
    row.hash = _digest(row)
    chain.length = row.seq
    chain.head_hash = row.hash
    session.add(row)
    return row


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
