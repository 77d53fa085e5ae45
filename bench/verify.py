"""Code verification throughput through the API, and the cost of one verification.

Prepares USERS customers, each with an active HOTP hardware token credential (each call
verifies the next counter's code, so every one is a valid, fresh code), then measures:

- verifications per second through `POST /api/v1/otp/verify`: the Flask test client in
  one thread, and a threaded werkzeug server on loopback driven by THREADS clients (each
  with its own customers, so they contend only where the system itself serializes);
- in the same process and run: a bare `pyotp.HOTP.verify`, Tokenflow's match alone (seed
  opened with AES-GCM, window search), and one whole `verification.verify` (transaction,
  token row lock, replay guard update, audit row); and their ratios.

On SQLite always; on PostgreSQL too with `--pg URL` or TOKENFLOW_TEST_POSTGRES_URL (a
scratch database is created there and dropped afterwards).

    .venv/bin/python bench/verify.py [--count 2000] [--threads 8] [--pg URL]
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

from engine.clock import clock
from engine.db import make_engine, unit_of_work
from handlers import verification
from handlers.proofing_models import Credential
from handlers.relying_apps import create_app as create_relying_app
from handlers.relying_apps import find_app
from handlers.tokens.models import HardwareToken
from handlers.tokens.otp import find_login_match
from handlers.tokens.pskc_import import TokenSeed, import_tokens
from handlers.tokens.seed_crypto import open_sealed
from tokenflow.config import Config
from tokenflow.migrate import upgrade
from tokenflow.system import System, build_system
from web.app import create_app
from web.models import User

USERS = 64
APP = "bench-portal"


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
        import_tokens(s, [seed for _, seed in seeds], system.services.seed_key, "bench")
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
    client = create_app(config, system).test_client()
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
    server = make_server("127.0.0.1", 0, create_app(config, system), threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    names = sorted(people.counter)
    share = [names[t::threads] for t in range(threads)]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    errors: list[str] = []

    def client(mine: list[str]) -> None:
        for i in range(count // threads):
            user = mine[i % len(mine)]
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
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

    try:
        result = rate(count // threads * threads, run)
    finally:
        server.shutdown()
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


def in_process(system: System, people: Customers, count: int) -> tuple[float, float, float]:
    """(bare pyotp verify, Tokenflow match without the database, whole verify) seconds."""
    user = sorted(people.counter)[0]
    with unit_of_work(system.session_factory) as s:
        token = s.scalars(
            select(HardwareToken)
            .where(HardwareToken.owner_id.is_not(None))
            .where(HardwareToken.serial == "BENCH00000")
        ).one()
        s.expunge(token)
        app = find_app(s, APP)
        assert app is not None
        s.expunge(app)
    hotp = people.otp[user]
    codes = [hotp.at(n) for n in range(count)]
    bare = per_call(count, lambda n: hotp.verify(codes[n], n))
    params = token.otp_params()
    seed_key = system.services.seed_key

    def match(n: int) -> object:
        secret = open_sealed(seed_key, token.sealed_secret, token.serial)
        found = find_login_match(replace(params, counter=n), secret, codes[n], clock.now(), 10)
        assert found is not None
        return found

    matched = per_call(count, match)
    first = people.counter[user]

    def whole(n: int) -> None:
        with unit_of_work(system.session_factory) as s:
            outcome = verification.verify(
                s, system.services, app, user, hotp.at(first + n), clock.now()
            )
        assert outcome.valid, outcome

    return bare, matched, per_call(count, whole)


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    name = f"tokenflow_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench(label: str, database_url: str, workdir: Path, count: int, threads: int) -> None:
    upgrade(database_url)
    config = Config.from_env(
        {"TOKENFLOW_INSTANCE_DIR": str(workdir), "TOKENFLOW_DATABASE_URL": database_url}
    )
    system = build_system(config)
    try:
        key, people = prepare(system)
        one = via_test_client(system, config, key, people, count)
        many = via_http(system, config, key, people, count, threads)
        bare, matched, whole = in_process(system, people, max(200, count // 4))
    finally:
        system.close()
    print(f"{label:<10} API, Flask test client, 1 thread:      {one:8.0f} verifications/s")
    print(
        f"{label:<10} API, HTTP on loopback, {threads:>2} threads:     {many:8.0f} verifications/s"
    )
    print(
        f"{label:<10} one verification in process: bare pyotp {bare * 1e6:6.1f} us, "
        f"Tokenflow match {matched * 1e6:6.1f} us ({matched / bare:.1f}x), "
        f"whole verify {whole * 1e3:6.2f} ms ({whole / bare:.0f}x pyotp)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default=os.environ.get("TOKENFLOW_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), args.count, args.threads)
        if args.pg:
            with scratch_postgres(args.pg) as url:
                bench("postgresql", url, Path(tmp), args.count, args.threads)


if __name__ == "__main__":
    main()
