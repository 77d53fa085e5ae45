"""Load: concurrent customers walk the whole `hardware_token` journey through the HTTP API
against real processes on PostgreSQL, first 2 web (gunicorn workers) + 2 `tokenflow
worker`s, then 1 + 1, in one run; prints journeys per second, p50/p99 latency per route,
errors, and the scaling ratio.

Each journey: start, choose_product, checkout (card), enter_license_key (read from the
outbox), confirm_profile, [proofing by video: book a slot; an agent thread runs the
interview and hands over the activation code], activate_token, token_delivered (support
sends the carrier's message), register_token (two consecutive TOTP codes),
register_phone (skip). Bounded in count and time, loopback only.

    .venv/bin/python bench/load.py [--customers 8] [--journeys 40] [--proofing 0.25]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import queue
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp

from bench.stack import ROOT, Http, Stack, create_database, create_users, drop_database
from tests.journey.builders_proofing import INTERVIEW_PASSED, PROFILE
from tests.journey.builders_purchase import CHECKOUT, LICENSE_KEY

# The same customer and interview the journey tests use.
CARD = CHECKOUT
INTERVIEW = INTERVIEW_PASSED
ID = re.compile(r"/[0-9a-f-]{36}|/\d+(?=/|$)")


def seed_of(serial: str) -> bytes:
    return hashlib.sha256(f"bench seed {serial}".encode()).digest()[:20]


def pskc(serials: list[str]) -> bytes:
    keys = "".join(
        f"<KeyPackage><DeviceInfo><Manufacturer>Bench</Manufacturer><SerialNo>{s}</SerialNo>"
        f'</DeviceInfo><Key Id="{s}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">'
        '<AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/>'
        f"</AlgorithmParameters><Data><Secret><PlainValue>"
        f"{base64.b64encode(seed_of(s)).decode()}</PlainValue></Secret>"
        "<TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data></Key></KeyPackage>"
        for s in serials
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><KeyContainer Version="1.0" '
        f'xmlns="urn:ietf:params:xml:ns:keyprov:pskc">{keys}</KeyContainer>'
    ).encode()


class JourneyFailed(Exception):
    pass


@dataclass
class Recorder:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Answers the journey expects and handles, like a slot someone else took meanwhile.
    refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(
        self,
        http: Http,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        label: str | None = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> Any:
        route = label or f"{method} {ID.sub('/{id}', path.split('?')[0])}"
        began = time.perf_counter()
        try:
            status, answer = http.call(method, path, body, token)
        except ConnectionError:
            status, answer = 0, None
        took = time.perf_counter() - began
        with self.lock:
            self.latency[route].append(took)
            if status not in (200, 201):
                tally = self.refusals if status in expect else self.errors
                tally[f"{route} -> {status}"] += 1
        if status not in expect:
            raise JourneyFailed(f"{route}: {status} {str(answer)[:200]}")
        return answer


@dataclass
class Run:
    stack: Stack
    recorder: Recorder
    tokens: dict[str, str]
    agent_queue: queue.Queue = field(default_factory=queue.Queue)
    serials: queue.Queue = field(default_factory=queue.Queue)

    def task(self, http: Http, token: str, instance_id: str, name: str) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            tasks = self.recorder.call(
                http, "GET", f"/api/v1/tasks?instance_id={instance_id}&name={name}", token=token
            )
            if tasks:
                return str(tasks[0]["id"])
            time.sleep(0.05)
        raise JourneyFailed(f"{name} never became ready")

    def complete(self, http: Http, token: str, instance_id: str, name: str, data: dict) -> Any:
        task_id = self.task(http, token, instance_id, name)
        return self.recorder.call(
            http,
            "POST",
            f"/api/v1/tasks/{task_id}/complete",
            {"data": data},
            token,
            label=f"POST /api/v1/tasks/{{id}}/complete [{name}]",
        )

    def license_key(self, order_number: str) -> str:
        outbox = self.stack.instance_dir / "outbox"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for path in outbox.glob("*-email-*.eml"):
                message = message_from_bytes(path.read_bytes(), policy=policy.default)
                if f"license key for order {order_number}" in str(message["Subject"]):
                    body = message.get_body(("plain",))
                    found = LICENSE_KEY.search(body.get_content() if body else "")
                    if found:
                        return found.group(0)
            time.sleep(0.05)
        raise JourneyFailed(f"no license key email for {order_number}")

    def journey(self, http: Http, customer: str, proofing: bool) -> None:
        token = self.tokens[customer]
        call = self.recorder.call
        start = ("POST", "/api/v1/process-instances", {"process": "hardware_token"}, token)
        # A 409 (a lost race) is counted as an error, and the customer tries again once.
        started = call(http, *start, expect=(201, 409))
        if "id" not in started:
            started = call(http, *start)
        iid = started["id"]
        product = "token_with_proofing" if proofing else "token_without_proofing"
        self.complete(http, token, iid, "choose_product", {"product": product})
        self.complete(http, token, iid, "checkout", CARD)
        order = call(http, "GET", f"/api/v1/process-instances/{iid}", token=token)["business_key"]
        self.complete(
            http, token, iid, "enter_license_key", {"license_key": self.license_key(order)}
        )
        self.complete(http, token, iid, "confirm_profile", PROFILE)
        activation: dict[str, Any] = {}
        if proofing:
            self.complete(http, token, iid, "choose_proofing_method", {"method": "video"})
            self.book_slot(http, token, iid)
            handed: Future = Future()
            self.agent_queue.put((iid, handed))
            activation = {"activation_code": handed.result(timeout=120)}
        self.complete(http, token, iid, "activate_token", activation)
        call(
            http,
            "POST",
            "/api/v1/messages",
            {
                "name": "token_delivered",
                "correlation_key": order,
                "data": {"carrier_status": "delivered"},
            },
            self.tokens["support"],
        )
        serial = call(http, "GET", f"/api/v1/process-instances/{iid}", token=token)["variables"][
            "token_serial"
        ]
        totp = pyotp.TOTP(base64.b32encode(seed_of(serial)).decode())
        step = int(time.time()) // 30
        codes = {
            "serial_number": serial,
            "code1": totp.generate_otp(step),
            "code2": totp.generate_otp(step + 1),
        }
        self.complete(http, token, iid, "register_token", codes)
        self.complete(http, token, iid, "register_phone", {"skip": True})
        status = call(http, "GET", f"/api/v1/process-instances/{iid}", token=token)["status"]
        if status != "completed":
            raise JourneyFailed(f"instance {iid} ended {status}")

    def book_slot(self, http: Http, token: str, iid: str) -> None:
        """Like a person: pick one of the offered slots; if someone took it meanwhile,
        the form comes back with fresh ones."""
        for _ in range(10):
            task_id = self.task(http, token, iid, "schedule_video_proofing")
            tasks = self.recorder.call(http, "GET", f"/api/v1/tasks?instance_id={iid}", token=token)
            options = next(t for t in tasks if t["id"] == task_id)["fields"][0]["options"]
            slot = random.choice(options)["id"]
            answer = self.recorder.call(
                http,
                "POST",
                f"/api/v1/tasks/{task_id}/complete",
                {"data": {"slot": slot}},
                token,
                label="POST /api/v1/tasks/{id}/complete [schedule_video_proofing]",
                expect=(200, 409, 422),
            )
            if "instance" in answer:
                return
        raise JourneyFailed("no slot could be booked")

    def agent(self, stop: threading.Event) -> None:
        """The proofing agent: when a customer has booked, run the reminder now (the
        admin's "run now"), take the interview and hand over the activation code."""
        http, admin, agent = self.stack.http(), self.tokens["admin"], self.tokens["agent"]
        while not stop.is_set():
            try:
                iid, handed = self.agent_queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                jobs = self.recorder.call(
                    http, "GET", f"/api/v1/jobs?instance_id={iid}", token=admin
                )
                for job in jobs:
                    # The reminder timer waits in the event-based gateway `appointment_wait`.
                    if job["element"] in ("appointment_wait", "appointment_reminder_due"):
                        self.recorder.call(
                            http, "POST", f"/api/v1/jobs/{job['id']}/execute", token=admin
                        )
                task_id = self.task(http, agent, iid, "video_proofing_interview")
                self.recorder.call(http, "POST", f"/api/v1/tasks/{task_id}/claim", token=agent)
                done = self.recorder.call(
                    http,
                    "POST",
                    f"/api/v1/tasks/{task_id}/complete",
                    {"data": INTERVIEW},
                    agent,
                    label="POST /api/v1/tasks/{id}/complete [video_proofing_interview]",
                )
                handed.set_result(done["notice"]["activation_code"])
            except Exception as exc:  # the customer's journey fails with it
                handed.set_exception(exc)


def run_phase(server_url: str, web: int, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    url = create_database(server_url, "bench_load")
    customers = [f"c{n:03d}" for n in range(args.customers)]
    create_users(
        url,
        {
            **{c: ["customer"] for c in customers},
            "agent": ["proofing_agent"],
            "support": ["support"],
            "admin": ["admin"],
        },
    )
    with tempfile.TemporaryDirectory(prefix="tokenflow-load-") as tmp:
        stack = Stack(url, Path(tmp) / "instance")
        try:
            stack.cli("deploy", str(ROOT / "processes"))
            seeds = Path(tmp) / "seeds.pskc"
            seeds.write_bytes(pskc([f"BN{n:06d}" for n in range(args.journeys + 5)]))
            stack.cli("tokens", "import", str(seeds), "--batch", "bench")
            stack.start_web(workers=web)
            for _ in range(workers):
                stack.start_worker()
            recorder = Recorder()
            tokens = {name: stack.login(name) for name in [*customers, "agent", "support", "admin"]}
            run = Run(stack, recorder, tokens)
            result = drive(run, customers, args)
        finally:
            stack.close()
    drop_database(url)
    return {
        **result,
        "latency": recorder.latency,
        "errors": dict(recorder.errors),
        "refusals": dict(recorder.refusals),
    }


def drive(run: Run, customers: list[str], args: argparse.Namespace) -> dict[str, Any]:
    remaining = list(range(args.journeys))
    proofing_every = round(1 / args.proofing) if args.proofing > 0 else 0
    lock, done, failed = threading.Lock(), [], []
    deadline = time.monotonic() + args.time_limit
    stop = threading.Event()
    agent = threading.Thread(target=run.agent, args=(stop,), daemon=True)
    agent.start()

    def customer(name: str) -> None:
        http = run.stack.http()
        while time.monotonic() < deadline:
            with lock:
                if not remaining:
                    return
                n = remaining.pop()
            began = time.perf_counter()
            try:
                run.journey(http, name, proofing=bool(proofing_every) and n % proofing_every == 0)
                with lock:
                    done.append(time.perf_counter() - began)
            except Exception as exc:
                with lock:
                    failed.append(f"{type(exc).__name__}: {exc}"[:200])

    began = time.perf_counter()
    threads = [threading.Thread(target=customer, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    stop.set()
    agent.join(5)
    return {"journeys": len(done), "failed": failed, "wall": wall, "journey_seconds": done}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def report(title: str, result: dict[str, Any]) -> float:
    rate = result["journeys"] / result["wall"] if result["wall"] else 0.0
    print(f"\n== {title} ==")
    print(
        f"journeys completed: {result['journeys']} in {result['wall']:.1f} s"
        f" = {rate:.2f} journeys/s; failed journeys: {len(result['failed'])}"
    )
    if result["journey_seconds"]:
        print(
            f"journey duration: p50 {statistics.median(result['journey_seconds']):.2f} s, "
            f"p99 {pct(result['journey_seconds'], 0.99):.2f} s"
        )
    print(f"{'route':<72} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for route, values in sorted(result["latency"].items()):
        print(
            f"{route:<72} {len(values):>5}"
            f" {pct(values, 0.5) * 1000:>8.0f} {pct(values, 0.99) * 1000:>8.0f}"
        )
    for name in ("errors", "refusals"):
        tally = result[name]
        label = "errors" if name == "errors" else "expected refusals (handled by the journey)"
        print(
            f"{label}: {sum(tally.values())}"
            + "".join(f"\n  {k}: {n}" for k, n in sorted(tally.items()))
        )
    for failure in result["failed"][:5]:
        print(f"  failed: {failure}")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=8, help="concurrent customers")
    parser.add_argument("--journeys", type=int, default=40, help="journeys per configuration")
    parser.add_argument("--proofing", type=float, default=0.25, help="share with video proofing")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds per configuration")
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (a database of its own is created and dropped)",
    )
    args = parser.parse_args()
    print(
        f"{args.customers} concurrent customers, {args.journeys} journeys per configuration, "
        f"{args.proofing:.0%} with video proofing; PostgreSQL at {args.postgres.split('@')[-1]}"
    )
    big = report("2 web (gunicorn workers) + 2 workers", run_phase(args.postgres, 2, 2, args))
    small = report("1 web (gunicorn worker) + 1 worker", run_phase(args.postgres, 1, 1, args))
    print(f"\nscaling ratio (2+2 / 1+1 journeys/s): {big / small:.2f}" if small else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
