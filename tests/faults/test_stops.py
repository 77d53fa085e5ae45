"""Clean stops with real processes, on SQLite so that they always run: `tokenflow run`,
`tokenflow web` and `tokenflow worker` stop on SIGTERM (a service manager) and on SIGINT
(Ctrl-C, which a terminal sends to the whole process group), finish the request or the
job in hand, and exit 0 well within the graceful timeout."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from sqlalchemy import text

from bench.stack import Stack
from engine.db import make_db_engine
from tests.faults.builders import (
    approved_instances,
    request_in_flight,
    started,
    wait_until,
)

pytestmark = pytest.mark.faults
SIGNALS = pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
STOPPED_WITHIN = 15.0  # seconds: the slow step in hand takes 2-3 of them


def stop_with(stack: Stack, process: subprocess.Popen, sig: int) -> tuple[int, float]:
    """Signal the process group as a terminal or a service manager does; the exit code
    and how long the stop took."""
    began = time.monotonic()
    stack.signal(process, sig)
    try:
        code = process.wait(STOPPED_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOPPED_WITHIN} s after {signal.Signals(sig).name}")
    return code, time.monotonic() - began


def instance_status(stack: Stack, instance_id: str) -> str:
    db = make_db_engine(stack.database_url)
    try:
        with db.connect() as conn:
            return str(
                conn.execute(
                    text("SELECT status FROM process_instances WHERE id = :id"), {"id": instance_id}
                ).scalar()
            )
    finally:
        db.dispose()


@SIGNALS
def test_tokenflow_run_stops_on_a_signal_after_answering_the_request_in_hand(sqlite_stack, sig):
    run = sqlite_stack.start_run(FAULTS_HANDLER_SECONDS="2")
    flight = request_in_flight(sqlite_stack)
    assert stop_with(sqlite_stack, run, sig)[0] == 0
    flight.request.join(10)
    assert flight.outcome == [200]


@SIGNALS
def test_tokenflow_web_stops_on_a_signal_after_answering_the_request_in_hand(sqlite_stack, sig):
    web = sqlite_stack.start_web(FAULTS_HANDLER_SECONDS="2")
    flight = request_in_flight(sqlite_stack)
    assert stop_with(sqlite_stack, web, sig)[0] == 0
    flight.request.join(10)
    assert flight.outcome == [200]


@SIGNALS
def test_tokenflow_worker_stops_on_a_signal_after_finishing_the_job_in_hand(sqlite_stack, sig):
    sqlite_stack.start_web()
    worker = sqlite_stack.start_worker(FAULTS_HANDLER_SECONDS="3")
    [instance_id] = approved_instances(sqlite_stack, sqlite_stack.login("alice"), 1)
    wait_until(lambda: started(sqlite_stack, "slow_receipt"), what="the receipt to start")
    code, took = stop_with(sqlite_stack, worker, sig)
    assert code == 0 and took < 10
    assert instance_status(sqlite_stack, instance_id) == "completed"
