"""Running `tokenflow web`'s gunicorn from a checkout, for benchmarks over HTTP."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def gunicorn(code_dir: Path, env: dict[str, str], workers: int) -> Iterator[int]:
    """`tokenflow web`'s gunicorn, run from `code_dir` with its own virtualenv."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(code_dir / ".venv" / "bin" / "gunicorn"),
            "--config",
            "python:tokenflow.gunicorn_conf",
            "--workers",
            str(workers),
            "web.wsgi:app",
        ],
        cwd=code_dir,
        env={**os.environ, **env, "TOKENFLOW_HOST": "127.0.0.1", "TOKENFLOW_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(60)


def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start serving in 30 s")
