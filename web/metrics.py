"""`GET /metrics` in Prometheus text format (version 0.0.4).

From the database, at each scrape (cheap aggregate queries on indexed columns):
instances by status, jobs pending, due and overdue by kind, the age of the oldest due
job, open incidents, and SLA breaches (`license_key_sla_breach` work items, by state).
From the web processes: request latency per route (histogram), requests per route and
status, and relying applications' OTP verify results (valid, reason).

Several gunicorn workers each count their own requests; each writes its counts to the
shared `TOKENFLOW_METRICS_DIR` (at most once a second) and a scrape, answered by any
one worker, adds up every worker's file. Without that folder (`tokenflow run`), the
one process's own counts are shown.

Access: with `TOKENFLOW_METRICS_TOKEN` set, a scraper sends `Authorization: Bearer
<token>`; without it, only loopback clients (127.0.0.0/8, ::1) are answered.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request

from service_layer.reads import metrics as metrics_reads
from service_layer.system import System

from .problems import problem

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
VERIFY_ROUTE = "/api/v1/otp/verify"
FLUSH_EVERY = 1.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Key = tuple[str, ...]
# A sample's labels, as (name, value) pairs: `(("route", "/healthz"), ("method", "GET"))`.
Labels = tuple[tuple[str, str], ...]


class RequestStats:
    """This process's request counts, and the sum over every process sharing a folder."""

    def __init__(self, directory: Path | None, name: str | None = None) -> None:
        self.directory = directory
        self.name = name or str(os.getpid())
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._flusher: threading.Thread | None = None
        self.latency: dict[Key, list[float]] = {}  # (route, method) -> bucket counts, sum
        self.requests: dict[Key, int] = defaultdict(int)  # (route, method, status)
        self.verify: dict[Key, int] = defaultdict(int)  # (valid, reason)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self._flush_in_background()
        with self._lock:
            row = self.latency.setdefault((route, method), [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += 1  # +Inf, i.e. the count
            row[-1] += seconds
            self.requests[(route, method, str(status))] += 1
        self._dirty.set()

    def observe_verify(self, valid: Any, reason: Any) -> None:
        with self._lock:
            self.verify[(str(bool(valid)).lower(), str(reason or ""))] += 1
        self._dirty.set()

    def _snapshot(self) -> dict[str, list[Any]]:
        with self._lock:
            return {
                "latency": [[list(k), v] for k, v in self.latency.items()],
                "requests": [[list(k), v] for k, v in self.requests.items()],
                "verify": [[list(k), v] for k, v in self.verify.items()],
            }

    def _flush(self) -> None:
        """Write this process's counts where the others' scrapes find them."""
        if self.directory is None:
            return
        self._dirty.clear()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.name}.json"
        # The background flusher and a scrape may write at once: one temporary file each.
        temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(self._snapshot()))
        os.replace(temporary, path)

    def _flush_in_background(self) -> None:
        # Started on first use, so after gunicorn forked: a thread does not survive a fork.
        if self.directory is None or self._flusher is not None:
            return
        self._flusher = threading.Thread(target=self._flush_loop, daemon=True, name="metrics")
        self._flusher.start()

    def _flush_loop(self) -> None:
        while self._dirty.wait():
            with contextlib.suppress(OSError):  # the folder went away: shutting down
                self._flush()
            time.sleep(FLUSH_EVERY)

    def totals(self) -> dict[str, dict[Key, Any]]:
        """Every process's counts added up (this one's as of now)."""
        snapshots = [self._snapshot()]
        if self.directory is not None:
            self._flush()
            snapshots = []
            for path in self.directory.glob("*.json"):
                try:
                    snapshots.append(json.loads(path.read_text()))
                except (OSError, ValueError):  # a file being replaced: next scrape has it
                    continue
        latency: dict[Key, list[float]] = {}
        requests: dict[Key, int] = defaultdict(int)
        verify: dict[Key, int] = defaultdict(int)
        for snap in snapshots:
            for key, row in snap["latency"]:
                total = latency.setdefault(tuple(key), [0.0] * len(row))
                for i, value in enumerate(row):
                    total[i] += value
            for key, count in snap["requests"]:
                requests[tuple(key)] += count
            for key, count in snap["verify"]:
                verify[tuple(key)] += count
        return {"latency": latency, "requests": requests, "verify": verify}


def register(app: Flask, system: System) -> None:
    stats = RequestStats(system.config.metrics_dir)
    token = system.config.metrics_token
    app.extensions["tokenflow.metrics"] = stats

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is None:
            return response
        route = request.url_rule.rule if request.url_rule else "unmatched"
        stats.observe(route, request.method, response.status_code, time.perf_counter() - started)
        if route == VERIFY_ROUTE and response.status_code == 200 and response.is_json:
            body = response.get_json(silent=True)
            if isinstance(body, dict):
                stats.observe_verify(body.get("valid"), body.get("reason"))
        return response

    @app.get("/metrics")
    def metrics() -> Any:
        """Prometheus metrics (text format)."""
        if not _allowed(token):
            return problem(403, "Forbidden", "Metrics need the metrics token (or loopback).")
        lines: list[str] = []
        try:
            lines += database_metrics(metrics_reads.database_counts(system))
            lines += _gauge("tokenflow_database_up", "1 when the database answered", [((), 1)])
        except Exception:
            lines += _gauge("tokenflow_database_up", "1 when the database answered", [((), 0)])
        lines += request_metrics(stats.totals())
        return Response("\n".join(lines) + "\n", mimetype=None, content_type=CONTENT_TYPE)


def _allowed(token: str | None) -> bool:
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def database_metrics(counts: metrics_reads.DatabaseCounts) -> list[str]:
    lines: list[str] = []
    lines += _gauge(
        "tokenflow_instances",
        "process instances by status",
        [((("status", st),), n) for st, n in counts.instances],
    )
    kinds = [(("kind", job.kind),) for job in counts.jobs]
    lines += _gauge(
        "tokenflow_jobs_pending",
        "timers and retries waiting",
        [(k, job.pending) for k, job in zip(kinds, counts.jobs, strict=True)],
    )
    lines += _gauge(
        "tokenflow_jobs_due",
        "jobs whose due time has come",
        [(k, job.due) for k, job in zip(kinds, counts.jobs, strict=True)],
    )
    overdue_after = int(metrics_reads.OVERDUE_AFTER.total_seconds())
    lines += _gauge(
        "tokenflow_jobs_overdue",
        f"jobs due more than {overdue_after} s ago and not run yet",
        [(k, job.overdue) for k, job in zip(kinds, counts.jobs, strict=True)],
    )
    lines += _gauge(
        "tokenflow_jobs_oldest_due_seconds",
        "how long the oldest due job has waited (0: none due)",
        [(k, job.oldest_due_seconds) for k, job in zip(kinds, counts.jobs, strict=True)],
    )
    lines += _gauge(
        "tokenflow_incidents_open", "incidents waiting for an admin", [((), counts.open_incidents)]
    )
    lines += _gauge(
        "tokenflow_sla_breaches",
        "license key email SLA breaches (24 h): open = waiting for support",
        [
            ((("state", "open"),), counts.sla_breaches_open),
            ((("state", "handled"),), counts.sla_breaches_handled),
        ],
    )
    return lines


def request_metrics(totals: dict[str, dict[Key, Any]]) -> list[str]:
    lines = [
        "# HELP tokenflow_http_request_duration_seconds request latency per route",
        "# TYPE tokenflow_http_request_duration_seconds histogram",
    ]
    name = "tokenflow_http_request_duration_seconds"
    for (route, method), row in sorted(totals["latency"].items()):
        labels = (("route", route), ("method", method))
        for bound, count in zip(BUCKETS, row, strict=False):
            lines.append(f"{name}_bucket{_labels((*labels, ('le', _num(bound))))} {_num(count)}")
        lines.append(f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {_num(row[-2])}")
        lines.append(f"{name}_sum{_labels(labels)} {_num(row[-1])}")
        lines.append(f"{name}_count{_labels(labels)} {_num(row[-2])}")
    lines += _typed(
        "tokenflow_http_requests_total",
        "counter",
        "requests by route, method and status",
        [
            ((("route", r), ("method", m), ("status", st)), n)
            for (r, m, st), n in sorted(totals["requests"].items())
        ],
    )
    lines += _typed(
        "tokenflow_otp_verify_total",
        "counter",
        "relying applications' OTP verify answers",
        [((("valid", v), ("reason", r)), n) for (v, r), n in sorted(totals["verify"].items())],
    )
    return lines


def _gauge(name: str, help_text: str, samples: Iterable[tuple[Labels, Any]]) -> list[str]:
    return _typed(name, "gauge", help_text, samples)


def _typed(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[Labels, Any]]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {_num(value)}" for labels, value in samples]
    return lines


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: Any) -> str:
    number = float(value or 0)
    return str(int(number)) if number.is_integer() else repr(number)
