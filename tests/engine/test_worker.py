from __future__ import annotations

import time
from datetime import timedelta

import pytest

from engine.clock import clock
from engine.db import unit_of_work
from engine.models import ProcessInstance
from engine.registry import Registry
from tests.builders import ADMIN, CUSTOMER, SUPPORT, engine_system, only_task
from tokenflow.worker import Worker


def registry(calls: list) -> Registry:
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        calls.append(ctx.idempotency_key)
        ctx.set_business_key("SO-20001")
        return {}

    return reg


def wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_apscheduler_worker_fires_a_due_timer(config):
    system = engine_system(config, registry([]), "linear.bpmn")
    view = system.engine.start("linear", CUSTOMER)
    system.engine.complete_task(only_task(system, CUSTOMER)["id"], {"name": "A"}, CUSTOMER)
    system.engine.complete_task(only_task(system, SUPPORT)["id"], {}, SUPPORT)
    worker = Worker(system, interval=0.1)
    ticks: list[int] = []
    tick = worker.tick
    worker.tick = lambda: (tick(), ticks.append(1))  # type: ignore[method-assign]
    worker.start()
    try:
        # Whole ticks, not a fixed sleep: the worker looked three times and found nothing due.
        assert wait_for(lambda: len(ticks) >= 3)
        assert system.engine.instance(view["id"], ADMIN)["active"] == ["wait_hour"]
        clock.advance(timedelta(hours=1, seconds=1))
        assert wait_for(lambda: system.engine.instance(view["id"], ADMIN)["active"] == ["wait_go"])
    finally:
        worker.stop()


def test_a_crash_in_the_middle_of_a_step_loses_and_repeats_nothing(config, monkeypatch):
    calls: list = []
    system = engine_system(config, registry(calls), "linear.bpmn")
    view = system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    with unit_of_work(system.session_factory) as s:
        version_before = s.get(ProcessInstance, view["id"]).version

    def crash(step):
        raise SystemExit("power cut")

    monkeypatch.setattr(system.engine.stepper, "finish", crash)
    with pytest.raises(SystemExit):
        system.engine.complete_task(task["id"], {"name": "A"}, CUSTOMER)
    monkeypatch.undo()
    with unit_of_work(system.session_factory) as s:
        inst = s.get(ProcessInstance, view["id"])
        assert inst.business_key is None and inst.version == version_before
    # Nothing committed: the task is still open and completes normally afterwards.
    got, _, _ = system.engine.complete_task(task["id"], {"name": "A"}, CUSTOMER)
    assert got["active"] == ["review"] and got["business_key"] == "SO-20001"
    assert len(calls) == 2 and calls[0] == calls[1]  # same idempotency key on the repeat
