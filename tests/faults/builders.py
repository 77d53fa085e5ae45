"""Builders of the fault tests: waiting on real processes, what the slowed handlers
logged (tests/faults/slow_handlers.py), and the `fault_charge` instances started and
approved over HTTP, one of them with its request left in flight."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from bench.stack import Stack


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def attempts(stack: Stack) -> Counter:
    """(topic, instance) -> how many times a handler started."""
    log = stack.instance_dir / "fault-attempts.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter(tuple(line.split()[1:]) for line in lines)


def started(stack: Stack, topic: str, instance_id: str | None = None) -> bool:
    return any(t == topic and instance_id in (None, i) for t, i in attempts(stack))


def start_instance(stack: Stack, token: str) -> tuple[str, str]:
    """A new instance and the id of its `approve` task."""
    http = stack.http()
    status, body = http.call(
        "POST", "/api/v1/process-instances", {"process": "fault_charge"}, token
    )
    assert status == 201, body
    status, tasks = http.call("GET", f"/api/v1/tasks?instance_id={body['id']}", token=token)
    assert status == 200 and len(tasks) == 1, tasks
    return body["id"], tasks[0]["id"]


def approve(stack: Stack, token: str, task_id: str) -> int:
    return stack.http().call(
        "POST", f"/api/v1/tasks/{task_id}/complete", {"data": {"agree": True}}, token
    )[0]


def approved_instances(stack: Stack, token: str, count: int) -> list[str]:
    """`count` new instances, each with its `approve` task completed."""
    ids = []
    for _ in range(count):
        instance_id, task_id = start_instance(stack, token)
        assert approve(stack, token, task_id) == 200
        ids.append(instance_id)
    return ids


class InFlight(NamedTuple):
    """A task completion under way: its thread, what it answered (a status or the
    ConnectionError), and the task's token, instance and id."""

    request: threading.Thread
    outcome: list
    token: str
    instance_id: str
    task_id: str


def request_in_flight(stack: Stack) -> InFlight:
    """Start an instance and complete its task in a thread; return once its card charge
    (slowed by FAULTS_HANDLER_SECONDS) has begun."""
    token = stack.login("alice")
    instance_id, task_id = start_instance(stack, token)
    outcome: list = []

    def complete() -> None:
        try:
            outcome.append(approve(stack, token, task_id))
        except ConnectionError as exc:
            outcome.append(exc)

    request = threading.Thread(target=complete)
    request.start()
    wait_until(lambda: started(stack, "slow_charge", instance_id), what="the charge to start")
    return InFlight(request, outcome, token, instance_id, task_id)
