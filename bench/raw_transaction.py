"""The raw transaction bench/verify.py compares one verification with: the same shape
written with plain psycopg, no ORM, no pool."""

from __future__ import annotations

import json

import psycopg
from sqlalchemy import make_url

from engine.clock import clock

# The raw transaction's token: one no customer verifies with.
RAW_SERIAL = "BENCHRAW"


class RawTransaction:
    """A verification's transaction at its plainest: psycopg, no ORM, no pool: lock the
    token row, update its counter, insert one audit row, commit."""

    def __init__(self, url: str) -> None:
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.seq = 0

    def __enter__(self) -> RawTransaction:
        self.conn = psycopg.connect(self.conninfo)
        self.token_id = self.conn.execute(
            "SELECT id FROM hardware_tokens WHERE serial = %s", (RAW_SERIAL,)
        ).fetchone()[0]
        self.conn.commit()
        return self

    def __exit__(self, *_: object) -> None:
        self.conn.close()

    def once(self, _: int) -> None:
        self.seq += 1
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT counter FROM hardware_tokens WHERE id = %s FOR UPDATE", (self.token_id,)
            )
            counter = cur.fetchone()[0]
            cur.execute(
                "UPDATE hardware_tokens SET counter = %s WHERE id = %s",
                (counter + 1, self.token_id),
            )
            cur.execute(
                "INSERT INTO audit_events (chain, seq, event, actor, details, created_at,"
                " prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    "bench:raw",
                    self.seq,
                    "otp.verified",
                    "app:bench",
                    json.dumps({"username": "bench", "valid": True}),
                    clock.now(),
                    "0" * 64,
                    "0" * 64,
                ),
            )
        self.conn.commit()
