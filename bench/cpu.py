"""CPU time per call, in this process and in the PostgreSQL backends serving it.

On a machine busy with other work, wall time per call measures the machine's queue more
than the code: a round trip waits for a core twice. CPU time does not grow with the
load, so it compares two ways of doing one thing fairly however busy the machine is; on
a quiet machine their wall times are close to their CPU times. The server's share is
read from /proc for the backends connected to the database, so it needs a local server
whose processes this user may read; otherwise it is None.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy import make_url

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Spent:
    """Seconds of CPU per call: here, and in PostgreSQL (None when not readable)."""

    client: float
    server: float | None


def spent(url: str, count: int, call: Callable[[int], object]) -> Spent:
    """CPU per call of `call(0..count-1)` against the database at `url`."""
    server_before, client_before = _backends(url), time.process_time()
    for i in range(count):
        call(i)
    client, server_after = time.process_time() - client_before, _backends(url)
    server = None
    if server_before is not None and server_after is not None:
        server = (server_after - server_before) / count
    return Spent(client / count, server)


def _backends(url: str) -> float | None:
    """CPU seconds used so far by the backends connected to `url`'s database."""
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    if parsed.host not in (None, "", "localhost", "127.0.0.1", "::1"):
        return None
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    total = 0
    for (pid,) in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS
