"""Timers at scale: 100,000 pending 24-hour SLA timers on PostgreSQL.

1. Seeds the timers: a few hundred instances of `bench/sla_timers.bpmn` (a customer step
   with a non-interrupting PT24H timer that opens `license_key_sla_breach`) are started
   through the engine; the rest are cloned from one of them inside PostgreSQL (INSERT ...
   SELECT, every task UUID renumbered per clone, since work items are keyed by task id).
   Clones carry no audit history: their chains begin when their timer fires.
2. Starts a `tokenflow worker` and reads its RSS while 100,000 timers are pending: a
   worker claims due jobs only, so its memory does not grow with the pending ones.
3. Restarts the worker (SIGTERM, start) and counts the timers: none may be lost.
4. Makes a backlog of timers due (their due time, in the jobs table and in the
   workflow, moved into the past) and times how fast one worker drains it, then how
   fast all the workers drain another.
5. Then lets timers fall due at a steady 500 per second per worker (the target rate;
   `--steady-rate`) and measures each one's lateness (fired at minus due at, from the
   audit trail): p50/p99/max.
6. Profiles firing a few hundred timers in process and prints where the time goes.

    .venv/bin/python bench/timers.py [--timers 100000] [--backlog 6000] [--workers 2]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench.stack import Stack, create_database, drop_database
from engine.actors import SYSTEM, Actor
from engine.db import make_db_engine
from engine.jobs import run_due_jobs
from service_layer.config import Config
from tokenflow.system import build_system

DIAGRAM = Path(__file__).with_name("sla_timers.bpmn")
TIMER = "license_key_email_sla"
UUID_HEAD = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-)[0-9a-f]{12}"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def seed(url: str, instance_dir: Path, total: int, started: int) -> None:
    config = Config.from_env(
        {"TOKENFLOW_DATABASE_URL": url, "TOKENFLOW_INSTANCE_DIR": str(instance_dir)}
    )
    system = build_system(config)
    system.engine.deploy([(DIAGRAM.name, DIAGRAM.read_bytes())], SYSTEM)
    customer = Actor("bench", frozenset({"customer"}), user_id=1)
    began = time.perf_counter()
    ids = [system.engine.start("bench_sla", customer)["id"] for _ in range(started)]
    took = time.perf_counter() - began
    print(f"started {started} instances through the engine: {started / took:.0f}/s")
    system.close()
    began = time.perf_counter()
    clone(url, ids[0], total - started)
    print(f"cloned {total - started} more in PostgreSQL: {time.perf_counter() - began:.1f} s")


def clone(url: str, template: str, count: int) -> None:
    """`count` copies of instance `template`, each with new instance and task ids."""
    db = make_db_engine(url)

    def renumber(col: str) -> str:
        return f"regexp_replace({col}, '{UUID_HEAD}', '\\1' || c.suffix, 'g')"

    with db.begin() as conn:
        conn.execute(
            text(
                "CREATE TEMP TABLE bench_clones AS SELECT n, gen_random_uuid()::text AS id,"
                " lpad(to_hex(n), 12, '0') AS suffix FROM generate_series(1, :count) n"
            ),
            {"count": count},
        )
        conn.execute(
            text(
                "INSERT INTO process_instances (id, process_key, definition_id,"  # noqa: S608  constant SQL
                " definition_version, bundle_id, status, business_key, owner_id, version,"
                " serializer_version, state, created_at, updated_at)"
                " SELECT c.id, t.process_key, t.definition_id, t.definition_version,"
                " t.bundle_id, t.status, t.business_key, t.owner_id, t.version,"
                f" t.serializer_version, {renumber('t.state::text')}::json,"
                " t.created_at, t.updated_at"
                " FROM bench_clones c CROSS JOIN process_instances t WHERE t.id = :template"
            ),
            {"template": template},
        )
        conn.execute(
            text(
                "INSERT INTO instance_tasks (instance_id, id, workflow_id, seq, payload)"  # noqa: S608  constant SQL
                f" SELECT c.id, {renumber('t.id')}, t.workflow_id, t.seq,"
                f" {renumber('t.payload::text')}::json"
                " FROM bench_clones c CROSS JOIN instance_tasks t WHERE t.instance_id = :template"
            ),
            {"template": template},
        )
        conn.execute(
            text(
                "INSERT INTO work_items (id, instance_id, name, title, lane, owner_id,"  # noqa: S608  constant SQL
                " business_key, assignee, status, created_at)"
                f" SELECT {renumber('t.id')}, c.id, t.name, t.title, t.lane,"
                " t.owner_id, t.business_key, t.assignee, t.status, t.created_at"
                " FROM bench_clones c CROSS JOIN work_items t WHERE t.instance_id = :template"
            ),
            {"template": template},
        )
        conn.execute(
            text(
                "INSERT INTO jobs (instance_id, kind, task_id, element, due_at, attempts,"  # noqa: S608  constant SQL
                " created_at)"
                f" SELECT c.id, t.kind, {renumber('t.task_id')}, t.element,"
                " t.due_at, 0, t.created_at"
                " FROM bench_clones c CROSS JOIN jobs t WHERE t.instance_id = :template"
            ),
            {"template": template},
        )
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    db.dispose()


def make_due(conn, limit: int, first: datetime, spread: timedelta) -> None:
    """Move the due time of `limit` pending timers to `first` .. `first + spread`, in the
    jobs table and inside each workflow (where SpiffWorkflow reads it)."""
    conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS bench_due (instance_id text, task_id text,"
            " due timestamptz)"
        )
    )
    conn.execute(text("TRUNCATE bench_due"))
    conn.execute(
        text(
            "INSERT INTO bench_due SELECT instance_id, task_id,"
            " :first + (row_number() OVER (ORDER BY id) - 1) * :step"
            " FROM (SELECT id, instance_id, task_id FROM jobs WHERE kind = 'timer'"
            " AND due_at > :first + :spread ORDER BY id LIMIT :limit) j"
        ),
        {"first": first, "spread": spread, "step": spread / max(limit, 1), "limit": limit},
    )
    conn.execute(
        text(
            "UPDATE instance_tasks t SET payload = jsonb_set(t.payload::jsonb,"
            " '{internal_data,event_value}',"
            " to_jsonb(to_char(d.due AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00'))"
            ")::json FROM bench_due d WHERE t.instance_id = d.instance_id AND t.id = d.task_id"
        )
    )
    conn.execute(
        text(
            "UPDATE jobs j SET due_at = d.due FROM bench_due d"
            " WHERE j.instance_id = d.instance_id AND j.task_id = d.task_id"
        )
    )
    conn.execute(text("CREATE TABLE IF NOT EXISTS bench_watch AS SELECT * FROM bench_due LIMIT 0"))
    conn.execute(text("TRUNCATE bench_watch"))
    conn.execute(text("INSERT INTO bench_watch SELECT * FROM bench_due"))


def count(conn, sql: str) -> int:
    return int(conn.execute(text(sql)).scalar() or 0)


def drain(db, watched: int, timeout: float) -> float:
    """Seconds until every watched timer has fired (its job is gone)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        with db.connect() as conn:
            left = count(
                conn,
                "SELECT count(*) FROM jobs j JOIN bench_watch w"
                " ON j.instance_id = w.instance_id AND j.task_id = w.task_id",
            )
        if left == 0:
            return time.monotonic() - began
        time.sleep(0.2)
    raise TimeoutError(f"{left} of {watched} timers still pending after {timeout:.0f} s")


def lateness(db) -> list[float]:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM a.created_at - w.due) FROM bench_watch w"
                " JOIN audit_events a ON a.instance_id = w.instance_id"
                " AND a.event = 'timer.fired'"
            )
        ).scalars()
        return sorted(float(r) for r in rows)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def profile(url: str, instance_dir: Path, jobs: int) -> None:
    db = make_db_engine(url)
    with db.begin() as conn:
        make_due(conn, jobs, datetime.now(UTC) - timedelta(seconds=5), timedelta(0))
    db.dispose()
    system = build_system(
        Config.from_env(
            {"TOKENFLOW_DATABASE_URL": url, "TOKENFLOW_INSTANCE_DIR": str(instance_dir)}
        )
    )
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    ran = run_due_jobs(system.engine, "profiler")
    profiler.disable()
    took = time.perf_counter() - began
    print(f"\nprofile: {ran} timers fired in one process in {took:.1f} s = {ran / took:.0f}/s")
    stats = pstats.Stats(profiler)
    print(f"where the time goes (of {took:.1f} s):")
    for area, seconds in breakdown(stats.stats).items():  # type: ignore[attr-defined]
        print(f"  {area:<52} {seconds:6.2f} s  {seconds / took:4.0%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"engine/", 14)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("engine functions by cumulative time:")
    print("\n".join(line[:140] for line in lines[start:]))
    system.close()


def breakdown(raw: dict) -> dict[str, float]:
    """Own (not cumulative) time by area; waiting for PostgreSQL is psycopg's `wait`."""
    areas = {
        "waiting for PostgreSQL (round trips, commits)": ("psycopg/connection.py", "wait"),
        "SpiffWorkflow (restore, engine steps, serialize)": ("SpiffWorkflow", None),
        "SQLAlchemy (ORM, statement building)": ("sqlalchemy", None),
        "psycopg (adapting parameters and rows)": ("psycopg/", None),
        "json (encode/decode)": ("json", None),
        "Tokenflow engine/ itself": ("/engine/", None),
    }
    totals = dict.fromkeys(areas, 0.0)
    for (filename, _line, function), (_cc, _nc, own, cumulative, _callers) in raw.items():
        for area, (path_part, name) in areas.items():
            if function.endswith("_gen"):  # psycopg's generators run inside its wait
                break
            if path_part in filename and (name is None or function == name):
                # The wait's own time excludes the poll it blocks in: count it whole.
                totals[area] += cumulative if name else own
                break
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--started", type=int, default=300, help="started through the engine")
    parser.add_argument("--backlog", type=int, default=6000, help="timers made due at once")
    parser.add_argument("--steady", type=float, default=20.0, help="seconds of steady due timers")
    parser.add_argument(
        "--steady-rate", type=float, default=500.0, help="timers due per second per worker"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    url = create_database(args.postgres, "bench_timers")
    db = make_db_engine(url)
    try:
        with tempfile.TemporaryDirectory(prefix="tokenflow-timers-") as tmp:
            run(args, url, db, Path(tmp))
    finally:
        db.dispose()
        drop_database(url)
    return 0


def run(args: argparse.Namespace, url: str, db, tmp: Path) -> None:
    seed(url, tmp / "instance", args.timers, args.started)
    stack = Stack(url, tmp / "instance")
    try:
        with db.connect() as conn:
            pending = count(conn, "SELECT count(*) FROM jobs WHERE kind = 'timer'")
        print(f"pending 24-hour timers: {pending}")

        worker = stack.start_worker()
        time.sleep(3)
        before = rss_mb(worker.pid)
        time.sleep(10)  # ~50 ticks, each asking for due jobs among 100,000 pending
        idle = rss_mb(worker.pid)
        print(f"worker RSS: {before:.0f} MB at start, {idle:.0f} MB after 10 s of ticks")

        stack.stop(worker)
        with db.connect() as conn:
            after_stop = count(conn, "SELECT count(*) FROM jobs WHERE kind = 'timer'")
        workers = [stack.start_worker()]
        time.sleep(3)
        with db.connect() as conn:
            after_restart = count(conn, "SELECT count(*) FROM jobs WHERE kind = 'timer'")
        print(
            f"restart: {pending} pending before, {after_stop} after stop, "
            f"{after_restart} after start (lost: {pending - after_restart})"
        )

        # One worker alone, then all of them: the rate per worker, and how it scales
        # when the workers share this machine's cores with each other and PostgreSQL.
        rate = 0.0
        for n in sorted({1, args.workers}):
            workers += [stack.start_worker() for _ in range(n - len(workers))]
            time.sleep(3)
            with db.begin() as conn:
                make_due(conn, args.backlog, datetime.now(UTC) - timedelta(seconds=1), timedelta(0))
            took = drain(db, args.backlog, timeout=1800)
            rate = args.backlog / took
            print(
                f"backlog of {args.backlog} due timers drained by {n} worker(s) in "
                f"{took:.1f} s: {rate:.0f}/s, {rate / n:.0f}/s per worker"
            )
        print("worker RSS after draining: " + ", ".join(f"{rss_mb(w.pid):.0f} MB" for w in workers))

        steady_rate = args.steady_rate * len(workers)
        steady = int(steady_rate * args.steady)
        with db.begin() as conn:
            make_due(
                conn,
                steady,
                datetime.now(UTC) + timedelta(seconds=5),  # after this UPDATE commits
                timedelta(seconds=args.steady),
            )
        drain(db, steady, timeout=args.steady + 600)
        late = lateness(db)
        print(
            f"steady: {steady} timers due over {args.steady:.0f} s ({steady_rate:.0f}/s, "
            f"{steady_rate / len(workers):.0f}/s per worker): "
            f"lateness p50 {pct(late, 0.5):.2f} s, p99 {pct(late, 0.99):.2f} s, "
            f"max {late[-1] if late else float('nan'):.2f} s"
        )
        for w in workers:
            stack.stop(w)
        with db.connect() as conn:
            left = count(conn, "SELECT count(*) FROM jobs WHERE kind = 'timer'")
            breaches = count(
                conn,
                "SELECT count(*) FROM work_items WHERE name = 'license_key_sla_breach'",
            )
        print(
            f"timers still pending: {left}; SLA breach tasks opened: {breaches} "
            f"(= {pending} - {left}: {breaches == pending - left})"
        )
    finally:
        stack.close()
    profile(url, tmp / "instance", 300)


if __name__ == "__main__":
    sys.exit(main())
