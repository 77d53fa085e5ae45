"""Code verification throughput through the API, and the cost of one verification.

Prepares USERS customers, each with an active HOTP hardware token credential (each call
verifies the next counter's code, so every one is a valid, fresh code), then measures:

- verifications per second through `POST /api/v1/otp/verify`: the Flask test client in
  one thread, and a threaded werkzeug server on loopback driven by THREADS clients (each
  with its own customers, so they contend only where the system itself serializes);
- in the same process and run: a bare `pyotp.HOTP.verify`, Tokenflow's match alone (seed
  opened with AES-GCM, window search), and one whole verification as the API route
  runs it (the caller's key looked up, `verification.verify_quickly`, commit); on
  PostgreSQL also the raw transaction of the same shape written with plain psycopg
  (lock the token row, update its counter, insert one audit row, commit), timed in
  alternating batches with
  the whole verification so that both see the same load, and their ratio;
- with `--gunicorn`, on PostgreSQL: verifications per second over HTTP through gunicorn
  at 1, 2 and 4 workers (`--workers`), 2 clients per worker; with `--before DIR` the same
  against the code checked out in DIR (its own `.venv`), interleaved with this checkout's.

On SQLite always; on PostgreSQL too with `--pg URL` or TOKENFLOW_TEST_POSTGRES_URL (a
scratch database is created there and dropped afterwards).

    .venv/bin/python bench/verify.py [--count 2000] [--threads 8] [--pg URL]
        [--gunicorn] [--workers 1,2,4] [--before /work/main]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp
from sqlalchemy import make_url, select, text
from werkzeug.serving import make_server

from bench.cpu import Spent, spent
from bench.raw_transaction import RAW_SERIAL, RawTransaction
from bench.serving import gunicorn
from domain.accounts.models import User
from domain.credentials import verification
from domain.credentials.models import Credential
from domain.relying_apps.apps import app_for_key
from domain.relying_apps.apps import create_app as create_relying_app
from domain.tokens.models import HardwareToken
from domain.tokens.otp import find_login_match
from domain.tokens.pskc_import import TokenSeed, import_tokens
from domain.tokens.seed_crypto import open_sealed
from engine.clock import clock
from engine.db import make_db_engine, unit_of_work
from service_layer.config import Config
from service_layer.system import System
from tokenflow.schema import upgrade
from tokenflow.system import build_system
from web.app import create_app

USERS = 64
CPU_CALLS = 2000
APP = "bench-portal"
ROOT = Path(__file__).resolve().parent.parent


class Customers:
    """Each customer's secret and next HOTP counter: the code they would type next."""

    def __init__(self, secrets: dict[str, bytes]) -> None:
        self.otp = {u: pyotp.HOTP(base64.b32encode(s).decode()) for u, s in secrets.items()}
        self.counter = dict.fromkeys(secrets, 0)

    def next_code(self, username: str) -> str:
        code = self.otp[username].at(self.counter[username])
        self.counter[username] += 1
        return code


def prepare(system: System) -> tuple[str, Customers]:
    """USERS customers with active tokens and one application; returns its key."""
    secrets = {}
    now = clock.now()
    with unit_of_work(system.session_factory) as s:
        api_key = create_relying_app(s, APP, "hardware_token")[1]
        seeds = []
        for n in range(USERS):
            username = f"bench{n:03d}"
            secrets[username] = os.urandom(20)
            user = User(username=username, password_hash="-", roles="customer")  # noqa: S106
            s.add(user)
            s.flush()
            seeds.append(
                (user.id, TokenSeed(f"BENCH{n:05d}", "hotp", "SHA1", 6, None, 0, secrets[username]))
            )
        raw = TokenSeed(RAW_SERIAL, "hotp", "SHA1", 6, None, 0, os.urandom(20))
        import_tokens(s, [seed for _, seed in seeds] + [raw], system.services.seed_key, "bench")
        for owner, seed in seeds:
            token = s.scalars(
                select(HardwareToken).where(HardwareToken.serial == seed.serial)
            ).one()
            token.status, token.owner_id = "active", owner
            s.add(
                Credential(
                    order_number=f"SO-B{owner}",
                    instance_id=str(uuid.uuid4()),
                    owner_id=owner,
                    token_serial=seed.serial,
                    status="active",
                    purchased_at=now,
                    activated_at=now,
                    expires_at=now.replace(year=now.year + 1),
                )
            )
    return api_key, Customers(secrets)


def rate(count: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def via_test_client(
    system: System, config: Config, key: str, people: Customers, count: int
) -> float:
    client = create_app(system).test_client()
    names = sorted(people.counter)
    headers = {"Authorization": f"Bearer {key}"}

    def run() -> None:
        for i in range(count):
            user = names[i % len(names)]
            body = {"username": user, "code": people.next_code(user)}
            answer = client.post("/api/v1/otp/verify", json=body, headers=headers)
            assert answer.json["valid"], answer.json

    return rate(count, run)


def via_http(
    system: System, config: Config, key: str, people: Customers, count: int, threads: int
) -> float:
    server = make_server("127.0.0.1", 0, create_app(system), threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        return drive(server.port, key, people, count, threads)
    finally:
        server.shutdown()


def drive(port: int, key: str, people: Customers, count: int, threads: int) -> float:
    """Verifications per second: `threads` clients, each with its own customers, one
    connection per request (as an application behind a load balancer would open)."""
    names = sorted(people.counter)
    share = [names[t::threads] for t in range(threads)]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    errors: list[str] = []

    def client(mine: list[str]) -> None:
        for i in range(count // threads):
            user = mine[i % len(mine)]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = json.dumps({"username": user, "code": people.next_code(user)})
            conn.request("POST", "/api/v1/otp/verify", body, headers)
            answer = json.loads(conn.getresponse().read())
            conn.close()
            if not answer.get("valid"):
                errors.append(str(answer))

    def run() -> None:
        workers = [threading.Thread(target=client, args=(m,)) for m in share]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    result = rate(count // threads * threads, run)
    assert not errors, errors[:3]
    return result


def per_call(count: int, call: Callable[[int], object]) -> float:
    """Median seconds per call over `count` calls, in batches of 50."""
    batches = []
    for start in range(0, count, 50):
        began = time.perf_counter()
        for i in range(start, start + 50):
            call(i)
        batches.append((time.perf_counter() - began) / 50)
    return statistics.median(batches)


def in_process(
    system: System,
    key: str,
    people: Customers,
    count: int,
    raw_url: str | None,
    cpu: dict[str, Spent],
) -> dict[str, float]:
    """Seconds per call: bare pyotp verify, Tokenflow's match without the database, the
    whole verification as the route runs it and, given a PostgreSQL URL, the raw
    transaction, both also in CPU (into `cpu`, see bench/cpu.py)."""
    user = sorted(people.counter)[0]
    with unit_of_work(system.session_factory) as s:
        token = s.scalars(select(HardwareToken).where(HardwareToken.serial == "BENCH00000")).one()
        s.expunge(token)
    hotp = people.otp[user]
    codes = [hotp.at(n) for n in range(count)]
    times = {"bare": per_call(count, lambda n: hotp.verify(codes[n], n))}
    params = token.otp_params()
    seed_key = system.services.seed_key

    def match(n: int) -> object:
        secret = open_sealed(seed_key, token.sealed_secret, token.serial)
        found = find_login_match(replace(params, counter=n), secret, codes[n], clock.now(), 10)
        assert found is not None
        return found

    times["match"] = per_call(count, match)

    def whole(_: int) -> None:
        # What POST /api/v1/otp/verify runs between parsing and answering.
        with system.db.connect() as conn:
            app = app_for_key(conn, key)
            assert app is not None
            outcome = verification.verify_quickly(
                conn,
                system.session_factory,
                system.services,
                app,
                user,
                people.next_code(user),
                clock.now(),
            )
        assert outcome.valid, outcome

    if raw_url is None:
        times["whole"] = per_call(count, whole)
        return times
    with RawTransaction(raw_url) as raw:
        times["whole"], times["raw"] = alternating(count, whole, raw.once)
        # The server's share is counted in clock ticks (10 ms): enough calls to resolve it.
        many = max(count, CPU_CALLS)
        cpu["whole"], cpu["raw"] = spent(raw_url, many, whole), spent(raw_url, many, raw.once)
    return times


def alternating(
    count: int, first: Callable[[int], object], second: Callable[[int], object]
) -> tuple[float, float]:
    """Median seconds per call of each, timed in alternating batches of 50, so that a
    machine busy with something else weighs on both alike."""
    batches: tuple[list[float], list[float]] = ([], [])
    for start in range(0, count, 50):
        for call, times in ((first, batches[0]), (second, batches[1])):
            began = time.perf_counter()
            for i in range(start, start + 50):
                call(i)
            times.append((time.perf_counter() - began) / 50)
    return statistics.median(batches[0]), statistics.median(batches[1])


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    name = f"tokenflow_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_db_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench(label: str, database_url: str, workdir: Path, args: argparse.Namespace) -> None:
    upgrade(database_url)
    env = {"TOKENFLOW_INSTANCE_DIR": str(workdir), "TOKENFLOW_DATABASE_URL": database_url}
    config = Config.from_env(env)
    system = build_system(config)
    postgres = label == "postgresql"
    try:
        key, people = prepare(system)
        one = via_test_client(system, config, key, people, args.count)
        many = via_http(system, config, key, people, args.count, args.threads)
        calls = max(200, args.count // 4) // 50 * 50  # whole batches of 50
        cpu: dict[str, Spent] = {}
        raw_url = database_url if postgres else None
        times = in_process(system, key, people, calls, raw_url, cpu)
    finally:
        system.close()
    print(f"{label:<10} API, Flask test client, 1 thread:      {one:8.0f} verifications/s")
    print(
        f"{label:<10} API, HTTP on loopback, {args.threads:>2} threads:     "
        f"{many:8.0f} verifications/s"
    )
    bare, matched, whole = times["bare"], times["match"], times["whole"]
    print(
        f"{label:<10} one verification in process: bare pyotp {bare * 1e6:6.1f} us, "
        f"Tokenflow match {matched * 1e6:6.1f} us ({matched / bare:.1f}x), "
        f"whole verify {whole * 1e3:6.2f} ms ({whole / bare:.0f}x pyotp)"
    )
    if "raw" in times:
        print(
            f"{label:<10} raw transaction (plain psycopg: lock, update, insert, commit) "
            f"{times['raw'] * 1e3:6.2f} ms; whole verification / raw = "
            f"{whole / times['raw']:.2f}x (target <= 2x)"
        )
        print(f"{label:<10} CPU per call, this process + PostgreSQL: {_cpu(cpu)}")
    if postgres and args.gunicorn:
        through_gunicorn(env, key, people, args)


def _cpu(cpu: dict[str, Spent]) -> str:
    whole, raw = cpu["whole"], cpu["raw"]
    if whole.server is None or raw.server is None:
        return f"whole {whole.client * 1e3:.2f} ms, raw {raw.client * 1e3:.2f} ms (server: unread)"
    return (
        f"whole {whole.client * 1e3:.2f} + {whole.server * 1e3:.2f} ms, "
        f"raw {raw.client * 1e3:.2f} + {raw.server * 1e3:.2f} ms; "
        f"whole / raw = {(whole.client + whole.server) / (raw.client + raw.server):.2f}x"
    )


def through_gunicorn(
    env: dict[str, str], key: str, people: Customers, args: argparse.Namespace
) -> None:
    """Verifications per second through gunicorn, this checkout's code and, with
    `--before`, another checkout's, alternating at each worker count."""
    codes = [("after", ROOT)] + ([("before", Path(args.before))] if args.before else [])
    for workers in (int(n) for n in args.workers.split(",")):
        for name, code_dir in reversed(codes):
            with gunicorn(code_dir, env, workers) as port:
                drive(port, key, people, 20 * workers, 2 * workers)  # warm every worker
                result = drive(port, key, people, args.count, 2 * workers)
            print(
                f"postgresql gunicorn {workers} worker(s), {2 * workers} clients, {name:<6} "
                f"({code_dir}): {result:8.0f} verifications/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default=os.environ.get("TOKENFLOW_TEST_POSTGRES_URL"))
    parser.add_argument("--gunicorn", action="store_true", help="HTTP through gunicorn (PG)")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--before", help="another checkout to compare, e.g. /work/main")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            bench("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), args)
        if args.pg:
            with scratch_postgres(args.pg) as url:
                bench("postgresql", url, Path(tmp), args)


if __name__ == "__main__":
    main()
