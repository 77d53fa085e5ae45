"""No test reads the machine's clock for business time: a suite that passes on Friday
evening must pass on Monday morning. Tests take time from the engine's clock, which
conftest pins to TEST_NOW; durations are measured with time.monotonic or perf_counter."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import clock
from engine.db import utcnow
from tests.conftest import TEST_NOW

TESTS = Path(__file__).resolve().parent

# (module, attribute) calls that read the wall clock as a date or an instant.
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) for each call in `source` that reads the machine's date or time."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if (name, node.func.attr) in WALL_CLOCK_CALLS:
                found.append((node.lineno, f"{name}.{node.func.attr}()"))
    return found


def test_the_guard_finds_each_way_of_reading_the_wall_clock():
    source = (
        "import time, datetime as dt\n"
        "from datetime import date, datetime\n"
        "a = datetime.now(UTC)\nb = date.today()\nc = time.time()\nd = dt.datetime.now()\n"
        "e = time.monotonic()\nf = clock.now()\n"
    )
    assert [call for _, call in wall_clock_reads(source)] == [
        "datetime.now()",
        "date.today()",
        "time.time()",
        "datetime.now()",
    ]


def test_no_test_module_reads_the_wall_clock():
    offenders = [
        f"{path.relative_to(TESTS)}:{line}: {call}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        for line, call in wall_clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "use engine.clock.clock.now() (business time) or time.monotonic():\n" + (
        "\n".join(offenders)
    )


def test_business_time_starts_at_the_pinned_instant_whatever_the_machine_date():
    assert abs(clock.now() - TEST_NOW) < timedelta(minutes=1)
    assert abs(utcnow() - TEST_NOW) < timedelta(minutes=1), "row time stamps follow the clock"


@pytest.mark.parametrize("moment", ["2026-12-07T02:00:00+00:00", "2027-03-05T18:00:00+00:00"])
def test_the_clock_can_be_set_to_any_instant_and_runs_on_from_it(moment):
    pinned = datetime.fromisoformat(moment)
    clock.set(pinned)
    first = clock.now()
    assert timedelta(0) <= first - pinned < timedelta(seconds=5)
    assert clock.now() >= first
    clock.advance(timedelta(days=1))
    assert clock.now() - pinned >= timedelta(days=1)


def test_the_clock_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 12, 7, 2, 0))
    assert clock.now().tzinfo is UTC or clock.now().utcoffset() == timedelta(0)


def test_spiffworkflow_stamps_task_state_changes_with_the_engine_clock():
    from SpiffWorkflow import task as spiff_task

    clock.set(datetime(2030, 1, 4, 12, 0, tzinfo=UTC))
    assert abs(spiff_task.time.time() - clock.now().timestamp()) < 5
