"""Statistics per element match a fixture of instances whose every step is known."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import clock
from engine.db import unit_of_work
from engine.jobs import run_due_jobs
from engine.registry import Registry
from engine.statistics import element_statistics
from tests.builders import ADMIN, BPMN_DIR, CUSTOMER, engine_system, tasks_for

BOUNDARY = (BPMN_DIR / "boundary.bpmn").read_text()
HOUR = 3600.0


def about(*seconds: float):
    """Simulated durations, give or take the real time the test itself takes."""
    if len(seconds) == 1:
        return pytest.approx(seconds[0], abs=5)
    return tuple(pytest.approx(s, abs=5) for s in seconds)


def registry() -> Registry:
    reg = Registry()
    reg.handler("charge")(lambda ctx: {})
    return reg


def complete(system, instance_id: str, name: str) -> None:
    [task] = tasks_for(system, ADMIN, instance_id=instance_id, name=name) or tasks_for(
        system, CUSTOMER, instance_id=instance_id, name=name
    )
    system.engine.complete_task(task["id"], {}, CUSTOMER if task["lane"] == "customer" else ADMIN)


@pytest.fixture
def known(config):
    """Three instances of `boundary`, started together at t0:
    A fills in after 1 h and answers 1 h later (done); B fills in after 5 h (now at
    wait_answer); C never fills in, so the 24-hour reminder fires (now at escalated and
    still at fill)."""
    system = engine_system(config, registry(), "boundary.bpmn")
    t0 = clock.now()
    a, b, c = (system.engine.start("boundary", CUSTOMER)["id"] for _ in range(3))
    clock.advance(timedelta(hours=1))
    complete(system, a, "fill")
    clock.advance(timedelta(hours=1))
    complete(system, a, "wait_answer")
    clock.advance(timedelta(hours=3))
    complete(system, b, "fill")
    clock.advance(timedelta(hours=19, seconds=1))
    run_due_jobs(system.engine, "test")
    return system, t0, (a, b, c)


def stats(system, start, end):
    with unit_of_work(system.session_factory) as s:
        return element_statistics(s, BOUNDARY, start, end)


def test_statistics_match_the_known_instances(known):
    system, t0, _ = known
    found = stats(system, t0 - timedelta(days=1), t0 + timedelta(days=2))

    fill = found["fill"]
    assert (fill.now, fill.passed) == (1, 2)
    assert (fill.median_seconds, fill.p90_seconds) == about(3 * HOUR, 5 * HOUR)
    answer = found["wait_answer"]
    assert (answer.now, answer.passed, answer.median_seconds) == (1, 1, about(1 * HOUR))
    assert (found["escalated"].now, found["escalated"].passed) == (1, 0)
    assert (found["charge"].passed, found["charge"].median_seconds) == (3, about(0))
    reminder = found["reminder"]
    assert (reminder.breaches, reminder.median_seconds) == (1, None)
    assert found["declined"].breaches is None  # an error boundary is no SLA
    assert found["start"].passed == 3
    assert (found["end_ok"].passed, found["end_escalated"].passed) == (1, 0)


def test_only_what_left_an_element_within_the_range_counts(known):
    system, t0, _ = known
    found = stats(system, t0, t0 + timedelta(hours=1, minutes=30))
    assert (found["fill"].passed, found["fill"].median_seconds) == (1, about(HOUR))
    assert found["wait_answer"].passed == 0
    assert found["reminder"].breaches == 0
    assert found["fill"].now == 1  # "now" is now, whatever the range


def test_percentiles_use_the_nearest_rank(config):
    system = engine_system(config, registry(), "boundary.bpmn")
    t0 = clock.now()
    ids = [system.engine.start("boundary", CUSTOMER)["id"] for _ in range(10)]
    for iid in ids:  # the n-th fills in after n minutes
        clock.advance(timedelta(minutes=1))
        complete(system, iid, "fill")
    fill = stats(system, t0, t0 + timedelta(hours=1))["fill"]
    assert (fill.passed, fill.median_seconds, fill.p90_seconds) == (10, *about(330, 540))
