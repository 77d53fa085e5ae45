"""Crashes with real processes: a worker killed mid service task, a web process killed
mid request, PostgreSQL restarted under traffic, and graceful SIGTERMs. Afterwards every
instance finishes, and the sandboxes show no card charged twice and no email sent twice;
the audit trail shows no job (timer or service task) committed twice."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import text

from bench.stack import Stack
from tests.faults.builders import (
    approve,
    approved_instances,
    attempts,
    request_in_flight,
    start_instance,
    started,
    wait_until,
)
from tests.faults.conftest import RUN

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(not RUN, reason="fault tests run with PostgreSQL (CI or a test URL)"),
]
SLOW = "30"  # seconds a slowed handler takes: far longer than any test waits for it


def approve_until_done(stack: Stack, token: str, task_id: str, deadline: float) -> None:
    """What a client does when a request fails for want of a server or a database:
    try again; a 409 means an earlier try went through."""
    while time.monotonic() < deadline:
        try:
            status = approve(stack, token, task_id)
        except ConnectionError:
            status = None
        if status in (200, 409):
            return
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} could not be completed")


def statuses(db, ids: list[str]) -> dict[str, str]:
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status FROM process_instances WHERE id = ANY(:ids)"), {"ids": ids}
        )
        return dict(rows.all())


def all_completed(db, ids: list[str]) -> Callable[[], bool]:
    return lambda: set(statuses(db, ids).values()) == {"completed"}


def assert_exactly_once(stack: Stack, db, ids: list[str]) -> None:
    """One charge and one email per instance in the sandboxes; each timer fired and
    each service task completed once in the audit trail; no job left behind."""
    charges = Counter(
        json.loads(p.read_text())["request"]["order_number"]
        for p in (stack.instance_dir / "sandbox" / "payment" / "charges").glob("*.json")
    )
    emails = Counter(
        next(line for line in p.read_text().splitlines() if line.startswith("Subject:")).split()[-1]
        for p in (stack.instance_dir / "outbox").glob("*-email-*.eml")
    )
    assert all(charges[i] == 1 for i in ids), charges
    assert all(emails[i] == 1 for i in ids), emails
    with db.connect() as conn:
        events = Counter(
            conn.execute(
                text(
                    "SELECT instance_id, event, coalesce(element, '') FROM audit_events"
                    " WHERE instance_id = ANY(:ids)"
                    " AND event IN ('timer.fired', 'service.completed', 'instance.completed')"
                ),
                {"ids": ids},
            ).all()
        )
        jobs = conn.execute(
            text("SELECT count(*) FROM jobs WHERE instance_id = ANY(:ids)"), {"ids": ids}
        ).scalar()
    for i in ids:
        assert events[(i, "timer.fired", "cool_off")] == 1, events
        assert events[(i, "service.completed", "charge")] == 1, events
        assert events[(i, "service.completed", "receipt")] == 1, events
        assert events[(i, "instance.completed", "")] == 1, events
    assert jobs == 0
    assert "audit trail intact" in stack.cli("audit", "verify")


def test_a_worker_killed_inside_a_service_task_leaves_it_to_another_that_repeats_no_effect(
    stack, db
):
    stack.start_web()
    doomed = stack.start_worker(FAULTS_HANDLER_SECONDS=SLOW)
    token = stack.login("alice")
    ids = approved_instances(stack, token, 3)
    # The worker fires a timer and is inside `receipt`, the email already sent, when it dies.
    wait_until(lambda: started(stack, "slow_receipt"), what="the receipt to start")
    [(_, interrupted)] = [k for k in attempts(stack) if k[0] == "slow_receipt"]
    stack.signal(doomed, signal.SIGKILL)
    assert doomed.wait() == -signal.SIGKILL
    stack.start_worker()
    wait_until(all_completed(db, ids), what="every instance to complete")
    assert attempts(stack)[("slow_receipt", interrupted)] == 2  # it really ran again
    assert_exactly_once(stack, db, ids)


def test_a_web_process_killed_mid_request_commits_nothing_and_the_retry_charges_once(stack, db):
    doomed = stack.start_web(FAULTS_HANDLER_SECONDS=SLOW)
    stack.start_worker()
    flight = request_in_flight(stack)
    token, instance_id, task_id = flight.token, flight.instance_id, flight.task_id
    stack.signal(doomed, signal.SIGKILL)  # master and workers: the whole web node dies
    flight.request.join(30)
    assert isinstance(flight.outcome[0], ConnectionError)
    assert statuses(db, [instance_id]) == {instance_id: "running"}  # nothing committed
    stack.start_web()
    assert approve(stack, token, task_id) == 200  # the task was still open
    wait_until(all_completed(db, [instance_id]), what="the instance to complete")
    assert attempts(stack)[("slow_charge", instance_id)] == 2
    assert_exactly_once(stack, db, [instance_id])


def test_a_postgresql_restart_under_traffic_loses_no_timer_and_repeats_no_effect(
    stack, db, pg_server
):
    stack.start_web(workers=2, FAULTS_HANDLER_SECONDS="0.3")
    stack.start_worker(FAULTS_HANDLER_SECONDS="0.3")
    stack.start_worker(FAULTS_HANDLER_SECONDS="0.3")
    token = stack.login("alice")
    pairs = [start_instance(stack, token) for _ in range(8)]
    deadline = time.monotonic() + 90
    clients = [
        threading.Thread(target=approve_until_done, args=(stack, token, task_id, deadline))
        for _, task_id in pairs
    ]
    for client in clients:
        client.start()
    # Restart while charges run in web requests and receipts in the workers.
    wait_until(lambda: started(stack, "slow_receipt"), what="a receipt to start")
    pg_server.restart()
    for client in clients:
        client.join()
    ids = [instance_id for instance_id, _ in pairs]
    wait_until(all_completed(db, ids), timeout=90, what="every instance to complete")
    assert_exactly_once(stack, db, ids)


def test_sigterm_lets_a_worker_finish_the_job_in_hand_and_hand_back_the_rest(stack, db):
    stack.start_web()
    worker = stack.start_worker(FAULTS_HANDLER_SECONDS="3")
    token = stack.login("alice")
    ids = approved_instances(stack, token, 3)
    wait_until(lambda: started(stack, "slow_receipt"), what="the receipt to start")
    began = time.monotonic()
    assert stack.stop(worker) == 0
    assert time.monotonic() - began < 10
    finished = [i for i, st in statuses(db, ids).items() if st == "completed"]
    assert len(finished) == 1  # the job in hand, finished and committed
    with db.connect() as conn:
        held = conn.execute(
            text("SELECT count(*) FROM jobs WHERE locked_by IS NOT NULL AND instance_id = ANY(:i)"),
            {"i": ids},
        ).scalar()
    assert held == 0  # the rest handed back, not left to a lease
    stack.start_worker()
    wait_until(all_completed(db, ids), what="every instance to complete")
    assert all(n == 1 for (topic, _), n in attempts(stack).items() if topic == "slow_receipt")
    assert_exactly_once(stack, db, ids)


def test_sigterm_lets_gunicorn_finish_the_request_in_hand(stack, db):
    web = stack.start_web(FAULTS_HANDLER_SECONDS="2")
    stack.start_worker()
    token = stack.login("alice")
    instance_id, task_id = start_instance(stack, token)
    outcome: list = []
    request = threading.Thread(target=lambda: outcome.append(approve(stack, token, task_id)))
    request.start()
    wait_until(lambda: started(stack, "slow_charge", instance_id), what="the charge to start")
    assert stack.stop(web) == 0
    request.join(30)
    assert outcome == [200]
    wait_until(all_completed(db, [instance_id]), what="the instance to complete")
    assert_exactly_once(stack, db, [instance_id])
