"""How `tokenflow web` runs gunicorn (`gunicorn -c python:tokenflow.gunicorn_conf web.wsgi:app`).

- Bind: `TOKENFLOW_HOST:TOKENFLOW_PORT`; workers: `--workers` or `WEB_CONCURRENCY`.
- Graceful: on SIGTERM a worker finishes the request in hand (up to `graceful_timeout`)
  and its transaction commits or rolls back whole; the engine never leaves half a step.
- Heartbeat files in /dev/shm (a RAM disk), not /tmp: a worker blocked on a slow disk
  must not look dead to the master.
- No access log of gunicorn's own: the app logs every request as JSON with its request
  id, route and duration (web/observability.py); gunicorn's messages use the same format.
- Each worker opens its own database connections (no `preload_app`): a connection pool
  must never cross a fork.
- Request metrics of all workers are summed at `/metrics` through a folder they share
  (`TOKENFLOW_METRICS_DIR`, made fresh when the master starts unless set).
- SIGINT (Ctrl-C) stops as gently as SIGTERM: gunicorn's own SIGINT is a quick shutdown
  that drops the requests in hand, in the master and in each worker.
- Files are private (umask 077; `tokenflow/files.py`); the master warns at start-up about
  any path of the instance folder that other users can read.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from service_layer.config import Config
from tokenflow import files, gc_tuning, logging_setup

# Generating the instance's secret files here, once, keeps workers from racing to do it.
_config = Config.from_env()

bind = f"{_config.host}:{_config.port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 60
graceful_timeout = 20
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# Hostile input: bounded request lines and headers (bodies: the app's MAX_CONTENT_LENGTH).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
umask = files.PRIVATE_UMASK
accesslog = None
errorlog = "-"
logconfig_dict = logging_setup.dict_config(os.environ.get("TOKENFLOW_LOG_FORMAT", "json"))


def on_starting(server: Any) -> None:
    """A fresh metrics folder per master, inherited by every worker it forks."""
    directory = os.environ.get("TOKENFLOW_METRICS_DIR")
    if directory:
        for stale in Path(directory).glob("*.json"):
            stale.unlink(missing_ok=True)
    else:
        directory = tempfile.mkdtemp(prefix="tokenflow-metrics-")
        os.environ["TOKENFLOW_METRICS_DIR"] = directory
        _made.append(directory)
    server.log.info("request metrics are summed through %s", directory)
    files.warn_if_open(_config)


def when_ready(server: Any) -> None:
    """The master handles SIGINT as SIGTERM: its workers finish the requests in hand."""
    server.handle_int = server.handle_term


def post_worker_init(worker: Any) -> None:
    """The app is loaded in this worker: what it holds now lives as long as the worker.
    Ctrl-C reaches the workers too (the terminal signals the whole process group): they
    finish the request in hand, as on the SIGTERM the master sends them."""
    signal.signal(signal.SIGINT, worker.handle_exit)
    gc_tuning.tune()


def on_exit(server: Any) -> None:
    for directory in _made:
        shutil.rmtree(directory, ignore_errors=True)


_made: list[str] = []
