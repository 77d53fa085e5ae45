"""Real Tokenflow processes for the fault tests and the benchmarks: a database of their
own, `tokenflow web` (gunicorn) and `tokenflow worker` as subprocesses, and a small
JSON client. Everything listens on and talks to loopback only.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parent.parent
TOKENFLOW = str(Path(sys.executable).with_name("tokenflow"))
PG_BIN = Path("/usr/lib/postgresql")
PASSWORD = "fault and load tests"  # noqa: S105  test accounts on a throwaway database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin(tool: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl) of the newest installed version."""
    versions = sorted(PG_BIN.glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise FileNotFoundError("no PostgreSQL server programs under /usr/lib/postgresql")
    return str(versions[-1] / tool)


class PrivatePostgres:
    """A throwaway PostgreSQL server in a folder of its own under /tmp, so that restarting
    it in a test disturbs no one else's database. Run as the `postgres` user when we are
    root (the server refuses root), which is why the folder is not pytest's (mode 0700)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="tokenflow-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])}: {done.stderr.strip() or done.stdout}")

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "server.log")
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", *args)

    def start(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run(pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._ctl("start")
        return self

    def restart(self) -> None:
        """What `pg_ctlcluster ... restart` does: fast shutdown (every session is cut
        off, open transactions roll back), then start again."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def create_database(server_url: str, prefix: str = "tokenflow") -> str:
    """A new, migrated database on the server of `server_url`; returns its URL."""
    from engine.db import make_db_engine
    from tokenflow.schema import upgrade

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_db_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    from engine.db import make_db_engine

    parsed = make_url(url)
    admin_url = parsed.set(database="postgres").render_as_string(hide_password=False)
    admin = make_db_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def create_users(url: str, users: dict[str, list[str]]) -> None:
    from domain.accounts.users import create_user
    from engine.db import make_db_engine, make_session_factory, unit_of_work

    db = make_db_engine(url)
    with unit_of_work(make_session_factory(db)) as s:
        for name, roles in users.items():
            create_user(s, name, PASSWORD, roles)
    db.dispose()


@dataclass
class Stack:
    """Web and worker processes sharing one database and one instance folder (so the
    sandboxes' records of charges and emails are one set, as with a real processor)."""

    database_url: str
    instance_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TOKENFLOW_DATABASE_URL": self.database_url,
            "TOKENFLOW_INSTANCE_DIR": str(self.instance_dir),
            "TOKENFLOW_SECRET_KEY": secrets.token_hex(32),
            "TOKENFLOW_SEED_KEY": secrets.token_hex(32),
            "TOKENFLOW_HOST": "127.0.0.1",
            "TOKENFLOW_PORT": str(self.port),
            "TOKENFLOW_WORKER_INTERVAL": "0.2",
            # Under the instance folder: a killed web leaves nothing behind in /tmp.
            "TOKENFLOW_METRICS_DIR": str(self.instance_dir / "metrics"),
            **self.extra_env,
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [TOKENFLOW, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"tokenflow {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.instance_dir / f"{name}.log", "ab")  # noqa: SIM115  the child keeps it
        process = subprocess.Popen(
            [TOKENFLOW, *args],
            env={**self.env, **env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches gunicorn's workers
        )
        log.close()
        self.processes.append(process)
        return process

    def start_web(self, workers: int = 1, **env: str) -> subprocess.Popen:
        process = self._spawn("web", ["web", "--workers", str(workers)], env)
        self.wait_ready()
        return process

    def start_run(self, **env: str) -> subprocess.Popen:
        """`tokenflow run`: web and worker in one process (its log is the web's)."""
        process = self._spawn("web", ["run"], env)
        self.wait_ready()
        return process

    def start_worker(self, **env: str) -> subprocess.Popen:
        return self._spawn("worker", ["worker"], env)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.http().call("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        log = (self.instance_dir / "web.log").read_text(errors="replace")[-2000:]
        raise TimeoutError(f"tokenflow web did not get ready on port {self.port}:\n{log}")

    @staticmethod
    def signal(process: subprocess.Popen, sig: int, group: bool = True) -> None:
        """`group`: the whole process group (gunicorn's master and its workers)."""
        if process.poll() is None:
            if group:
                os.killpg(process.pid, sig)
            else:
                os.kill(process.pid, sig)

    def stop(self, process: subprocess.Popen, timeout: float = 30.0) -> int:
        self.signal(process, signal.SIGTERM, group=False)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(process, signal.SIGKILL)
            return process.wait()

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.stop(process, timeout=10)

    def http(self, timeout: float = 60.0) -> Http:
        return Http(self.port, timeout)

    def login(self, username: str) -> str:
        status, body = self.http().call(
            "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
        )
        assert status == 200, body
        return str(body["token"])


class Http:
    """One keep-alive connection to `tokenflow web` on loopback; JSON in and out."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port = port
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None if body is None else json.dumps(body)
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self._conn.request(method, path, payload, headers)
            response = self._conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()  # the server went away mid-request: the next call reconnects
            raise ConnectionError(f"{method} {path}: connection lost") from None
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        kind = response.getheader("Content-Type", "")
        return response.status, json.loads(raw) if "json" in kind and raw else raw

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@contextmanager
def stack(database_url: str, instance_dir: Path, **extra_env: str) -> Iterator[Stack]:
    running = Stack(database_url, instance_dir, extra_env)
    try:
        yield running
    finally:
        running.close()
