"""The worker's side of timers: due jobs are claimed under a lease, so two workers never
run one, and run in batches (one per instance, on one or more threads) where a faulty job
fails alone and a stop hands back what is not started. (The rest of what must survive a
crash or a race is in test_durability.py.)"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from engine import audit
from engine.clock import clock
from engine.db import make_db_engine, unit_of_work
from engine.jobs import claim_due, run_due_jobs
from engine.models import AuditEvent, Job, ProcessInstance
from engine.queries import list_jobs
from tests.builders import ADMIN, CUSTOMER, engine_system
from tests.engine.builders import flaky_registry, walk_to_timer


def test_two_workers_never_claim_the_same_job(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    for n in range(4):
        walk_to_timer(system, f"SO-1000{n}")
    clock.advance(timedelta(hours=2))
    lease = timedelta(seconds=60)
    a = claim_due(system.session_factory, "a", lease, 3)
    b = claim_due(system.session_factory, "b", lease, 3)
    assert len(a) == 3 and len(b) == 1 and not set(a) & set(b)
    # A worker that died: its claims come back once the lease ends.
    clock.advance(timedelta(seconds=61))
    c = claim_due(system.session_factory, "c", lease, 10)
    assert sorted(c) == sorted(a + b)
    assert sum(system.engine.execute_job(j, worker="c") for j in c) == 4
    assert system.engine.execute_job(a[0], worker="a") is False if _exists(system, a[0]) else True


def _exists(system, job_id: int) -> bool:
    with unit_of_work(system.session_factory) as s:
        return s.get(Job, job_id) is not None


def assert_each_timer_fired_once(system, ids: list[str]) -> None:
    assert {system.engine.instance(i, ADMIN)["active"][0] for i in ids} == {"wait_go"}
    with unit_of_work(system.session_factory) as s:
        assert list_jobs(s) == []
        fired = s.scalars(select(AuditEvent.instance_id).where(AuditEvent.event == "timer.fired"))
        assert sorted(fired) == sorted(ids)
        assert audit.verify(s) == []


def test_due_timers_of_many_instances_fire_in_one_batch(config, monkeypatch):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    ids = [walk_to_timer(system, f"SO-1100{n}") for n in range(5)]
    system.engine.cache.clear()  # as in a worker: the workflows come from the database
    clock.advance(timedelta(hours=2))
    batches = []
    real = system.engine.execute_jobs

    def spy(job_ids, worker, stop=None):
        batches.append(len(job_ids))
        return real(job_ids, worker, stop)

    def no_single(*_a, **_k):
        raise AssertionError("a job ran on its own")

    monkeypatch.setattr(system.engine, "execute_jobs", spy)
    monkeypatch.setattr(system.engine, "execute_job", no_single)
    assert run_due_jobs(system.engine, "w1") == 5
    assert batches == [5]
    assert_each_timer_fired_once(system, ids)


def test_a_batch_leaves_no_instance_for_the_orm_to_flush(config):
    """A step writes its instance row with one statement and the object stays clean: the
    session's flushes (one per step) find nothing of the instance to compare."""
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    ids = [walk_to_timer(system, f"SO-1150{n}") for n in range(3)]
    system.engine.cache.clear()
    clock.advance(timedelta(hours=2))
    flushed = []

    def seen(session, _context, _instances):
        flushed.extend(o for o in session.dirty if isinstance(o, ProcessInstance))

    event.listen(Session, "before_flush", seen)
    try:
        assert run_due_jobs(system.engine, "w1") == 3
    finally:
        event.remove(Session, "before_flush", seen)
    assert flushed == []
    assert_each_timer_fired_once(system, ids)


def test_a_faulty_job_fails_alone_and_the_rest_of_its_batch_runs(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    ids = [walk_to_timer(system, f"SO-1200{n}") for n in range(3)]
    broken = ids[1]
    with unit_of_work(system.session_factory) as s:  # a workflow this build cannot read
        s.execute(
            text("UPDATE process_instances SET serializer_version = 'old' WHERE id = :id"),
            {"id": broken},
        )
    system.engine.cache.clear()
    clock.advance(timedelta(hours=2))
    assert run_due_jobs(system.engine, "w1") == 2
    for iid in ids:
        expected = "wait_hour" if iid == broken else "wait_go"
        assert system.engine.instance(iid, ADMIN)["active"] == [expected]
    with unit_of_work(system.session_factory) as s:
        [job] = s.execute(select(Job.instance_id, Job.locked_by)).all()
    assert job == (broken, "w1")  # still claimed: retried when the lease ends, not lost


def test_two_due_timers_of_one_instance_both_fire(config):
    system = engine_system(config, flaky_registry(), "two_timers.bpmn")
    view = system.engine.start("two_timers", CUSTOMER)
    with unit_of_work(system.session_factory) as s:
        assert len(list_jobs(s)) == 2
    clock.advance(timedelta(hours=3))
    # One job per instance in a batch; its step fires every due timer of the instance, so
    # the other job, handed back, is gone by the time it would be claimed again.
    assert run_due_jobs(system.engine, "w1") == 1
    assert system.engine.instance(view["id"], ADMIN)["status"] == "completed"
    with unit_of_work(system.session_factory) as s:
        assert list_jobs(s) == []
        fired = s.scalars(select(AuditEvent.element).where(AuditEvent.event == "timer.fired"))
        assert sorted(fired) == ["after_one_hour", "after_two_hours"]


def test_batches_run_on_two_threads_fire_every_timer_once(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    ids = [walk_to_timer(system, f"SO-1300{n}") for n in range(8)]
    system.engine.cache.clear()
    clock.advance(timedelta(hours=2))
    assert run_due_jobs(system.engine, "w1", batch=2, threads=2) == 8
    assert_each_timer_fired_once(system, ids)


def test_a_stop_during_a_batch_finishes_the_job_in_hand_and_hands_back_the_rest(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    ids = [walk_to_timer(system, f"SO-1400{n}") for n in range(3)]
    clock.advance(timedelta(hours=2))
    stop = threading.Event()
    real_advance = system.engine.stepper.advance

    def advance_then_stop(step):  # SIGTERM arrives while the first job runs
        real_advance(step)
        stop.set()

    system.engine.stepper.advance = advance_then_stop
    claimed = claim_due(system.session_factory, "w1", timedelta(seconds=60), 10)
    assert system.engine.execute_jobs(claimed, "w1", stop) == 1
    system.engine.stepper.advance = real_advance
    actives = [system.engine.instance(i, ADMIN)["active"][0] for i in ids]
    assert sorted(actives) == ["wait_go", "wait_hour", "wait_hour"]
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(Job.locked_by)).all() == [None, None]  # handed back
    assert run_due_jobs(system.engine, "w2") == 2


def test_postgresql_plans_every_statement_for_the_tables_as_they_are(database_url):
    """A generic plan made while a table was small would stay a sequential scan as the
    table grows (prepared statements keep theirs until the next ANALYZE)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no plan cache to configure")
    db = make_db_engine(database_url)
    try:
        with db.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
    finally:
        db.dispose()


@pytest.mark.parametrize("batch", [1, 25])
def test_a_timer_claimed_before_the_workflow_finds_it_due_waits_and_fires_later(config, batch):
    """The jobs table may call a timer due a moment before SpiffWorkflow does: its step
    then fires nothing, and the job comes back soon instead of waiting out its lease."""
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    ids = [walk_to_timer(system, f"SO-1300{n}") for n in range(2)]
    with unit_of_work(system.session_factory) as s:
        s.execute(update(Job).values(due_at=clock.now()))
    assert run_due_jobs(system.engine, "w1", batch=batch) == 2
    with unit_of_work(system.session_factory) as s:
        jobs = s.execute(select(Job.locked_by, Job.locked_until)).all()
        assert [by for by, _ in jobs] == [None, None]
        assert all(until <= clock.now() + timedelta(seconds=1) for _, until in jobs)
    assert {system.engine.instance(i, ADMIN)["active"][0] for i in ids} == {"wait_hour"}
    clock.advance(timedelta(hours=2))
    assert run_due_jobs(system.engine, "w1", batch=batch) == 2
    assert_each_timer_fired_once(system, ids)
