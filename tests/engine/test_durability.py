"""What must survive a restart, a race or a failure: timers, messages, concurrent
completions, the cached and the saved workflow, incidents and the audit chain. (The
worker's claims and batches of due jobs are in test_job_batches.py.)"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from engine import audit
from engine.actors import SYSTEM
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import Conflict
from engine.jobs import run_due_jobs
from engine.models import AuditEvent, Incident, ProcessInstance
from engine.persistence import load
from engine.queries import list_incidents, list_jobs
from engine.registry import Registry
from tests.builders import ADMIN, CUSTOMER, SUPPORT, engine_system, only_task, tasks_for
from tests.engine.builders import flaky_registry, walk_to_timer


def test_a_timer_fires_after_the_clock_passes_its_due_time(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    iid = walk_to_timer(system, "SO-10001")
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_hour"]
    clock.advance(timedelta(minutes=59))
    assert run_due_jobs(system.engine, "w1") == 0
    clock.advance(timedelta(minutes=2))
    assert run_due_jobs(system.engine, "w1") == 1
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_go"]


def test_a_timer_survives_a_restart_of_the_worker(config):
    first = engine_system(config, flaky_registry(), "linear.bpmn")
    iid = walk_to_timer(first, "SO-10001")
    first.close()
    clock.advance(timedelta(hours=2))
    restarted = engine_system(config, flaky_registry())  # a new process: empty caches
    assert run_due_jobs(restarted.engine, "w2") == 1
    assert restarted.engine.instance(iid, ADMIN)["active"] == ["wait_go"]


def test_a_message_correlates_to_the_right_one_of_two_waiting_instances(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    first, second = walk_to_timer(system, "SO-10001"), walk_to_timer(system, "SO-10002")
    clock.advance(timedelta(hours=2))
    run_due_jobs(system.engine, "w1")
    assert system.engine.correlate("go", "SO-10002", {"n": 2}, SYSTEM) == second
    assert system.engine.instance(second, ADMIN)["status"] == "completed"
    assert system.engine.instance(first, ADMIN)["active"] == ["wait_go"]
    with pytest.raises(Exception, match="waiting"):
        system.engine.correlate("go", "SO-10002", {}, SYSTEM)


def test_two_concurrent_completions_of_one_task_give_one_success_and_one_conflict(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def complete(name: str) -> None:
        barrier.wait()
        try:
            system.engine.complete_task(task["id"], {"name": name}, CUSTOMER)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=complete, args=(n,)) for n in ("SO-1", "SO-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert len(tasks_for(system, SUPPORT)) == 1


def test_a_stale_cached_workflow_is_never_used(config):
    one = engine_system(config, flaky_registry(), "linear.bpmn")
    two = engine_system(config, flaky_registry())  # a second web process on the same database
    view = one.engine.start("linear", CUSTOMER)
    task = only_task(one, CUSTOMER)
    two.engine.complete_task(task["id"], {"name": "SO-1"}, CUSTOMER)
    with pytest.raises(Conflict):
        one.engine.complete_task(task["id"], {"name": "SO-1"}, CUSTOMER)
    assert one.engine.instance(view["id"], ADMIN)["active"] == ["review"]
    # The first process's cached workflow is behind: it must reload, not reuse it.
    review = only_task(one, SUPPORT)
    got, _, _ = one.engine.complete_task(review["id"], {"ok": True}, SUPPORT)
    assert got["active"] == ["wait_hour"]
    assert got["variables"]["greeting"] == "hi"


def test_a_handler_failing_three_times_raises_an_incident_that_a_retry_resolves(config):
    flaky = {"failures_left": 3}
    system = engine_system(config, flaky_registry(flaky), "boundary.bpmn")
    view = system.engine.start("boundary", CUSTOMER)
    assert view["status"] == "running" and view["active"][0] == "charge"
    for _ in range(2):
        [job] = list_jobs_now(system)
        assert job["element"] == "charge"
        clock.advance(timedelta(minutes=10))
        run_due_jobs(system.engine, "w1")
    with unit_of_work(system.session_factory) as s:
        [incident] = list_incidents(s)
        assert list_jobs(s) == []
    assert "payment processor unreachable" in incident["error"]
    assert system.engine.instance(view["id"], ADMIN)["status"] == "incident"
    got = system.engine.retry_incident(incident["id"], ADMIN)
    assert got["status"] == "running"
    assert got["active"][0] == "fill"
    with unit_of_work(system.session_factory) as s:
        assert s.scalar(select(Incident.status)) == "resolved"


def list_jobs_now(system) -> list[dict]:
    with unit_of_work(system.session_factory) as s:
        return list_jobs(s)


def test_an_admin_can_run_a_pending_timer_now(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    iid = walk_to_timer(system, "SO-10001")
    [job] = list_jobs_now(system)
    assert system.engine.execute_job(job["id"], actor=ADMIN)
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_go"]


def test_boundary_timer_and_message_and_event_gateway(config):
    system = engine_system(config, flaky_registry(), "boundary.bpmn", "gateways.bpmn")
    view = system.engine.start("boundary", CUSTOMER)
    greeted = system.engine.instance(view["id"], ADMIN)
    assert "fill" in greeted["active"]
    clock.advance(timedelta(hours=25))
    run_due_jobs(system.engine, "w1")
    assert {"fill", "escalated"} <= set(system.engine.instance(view["id"], ADMIN)["active"])
    # message boundary on `fill` is interrupting: needs a business key to correlate
    gw = system.engine.start("gateways", CUSTOMER)
    system.engine.complete_task(
        only_task(system, CUSTOMER, instance_id=gw["id"])["id"], {"route": "events"}, CUSTOMER
    )
    clock.advance(timedelta(days=3))
    run_due_jobs(system.engine, "w1")
    assert system.engine.instance(gw["id"], ADMIN)["status"] == "completed"


def test_the_saved_workflow_equals_the_one_in_memory_after_every_step(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    engine = system.engine
    iid = walk_to_timer(system, "SO-10001")
    clock.advance(timedelta(hours=2))
    run_due_jobs(engine, "w1")
    from engine.persistence import _registry

    with unit_of_work(system.session_factory) as s:
        inst = s.get(ProcessInstance, iid)
        cached = engine.cache.take(iid, inst.version)
        fresh = load(s, inst, engine.specs.get(s, inst.bundle_id), engine.script_engine)
    assert cached is not None

    def dump(wf):
        return {str(t.id): _registry.convert(t) for t in wf.get_tasks()}

    assert dump(fresh.workflow) == dump(cached.workflow)


def test_audit_verify_finds_an_edited_a_deleted_and_a_truncated_event(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    iid = walk_to_timer(system, "SO-10001")
    with unit_of_work(system.session_factory) as s:
        assert audit.verify(s) == []
    with unit_of_work(system.session_factory) as s:
        s.execute(
            update(AuditEvent)
            .where(AuditEvent.chain == iid, AuditEvent.seq == 3)
            .values(actor="mallory")
        )
    with unit_of_work(system.session_factory) as s:
        breaks = audit.verify(s)
    assert [(b.seq, b.reason) for b in breaks] == [(3, "content was changed")]
    with unit_of_work(system.session_factory) as s:
        s.execute(text("DELETE FROM audit_events WHERE chain = :c AND seq = 2"), {"c": iid})
        last = s.scalar(
            select(AuditEvent.seq).where(AuditEvent.chain == iid).order_by(AuditEvent.seq.desc())
        )
        s.execute(
            text("DELETE FROM audit_events WHERE chain = :c AND seq = :q"), {"c": iid, "q": last}
        )
    with unit_of_work(system.session_factory) as s:
        reasons = {b.reason for b in audit.verify(s)}
    assert {"event missing", "newest events are missing or chain head changed"} <= reasons


def test_an_incident_on_a_task_the_process_moved_past_is_cancelled(config):
    reg = Registry()
    reg.handler("name_it")(lambda ctx: ctx.set_business_key("SO-30001"))

    @reg.handler()
    def flaky(ctx):
        raise ConnectionError("never works")

    system = engine_system(config, reg, "abandon.bpmn")
    view = system.engine.start("abandon", ADMIN)
    for _ in range(2):
        clock.advance(timedelta(minutes=10))
        run_due_jobs(system.engine, "w1")
    assert system.engine.instance(view["id"], ADMIN)["status"] == "incident"
    system.engine.correlate("give_up", "SO-30001", {}, SYSTEM)
    assert system.engine.instance(view["id"], ADMIN)["status"] == "completed"
    with unit_of_work(system.session_factory) as s:
        assert list_incidents(s) == []
        assert s.scalar(select(Incident.status)) == "cancelled"
        assert list_jobs(s) == []


def test_the_first_starts_of_a_new_version_all_succeed_when_they_race(config):
    system = engine_system(config, flaky_registry(), "linear.bpmn")
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            system.engine.start("linear", CUSTOMER)
            outcomes.append("ok")
        except Exception as exc:  # the assertion below shows which
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["ok"] * 6


def test_only_the_person_completing_a_task_is_shown_its_handlers_notices(config):
    flaky = {"failures_left": 1}
    seen: list[bool] = []
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        if flaky["failures_left"]:
            flaky["failures_left"] -= 1
            raise ConnectionError("greeting service unreachable")
        seen.append(ctx.shows_notices)
        ctx.notice(greeting="hi")
        return {}

    system = engine_system(config, reg, "linear.bpmn")
    for name in ("SO-14001", "SO-14002"):
        view = system.engine.start("linear", CUSTOMER)
        task = only_task(system, CUSTOMER, instance_id=view["id"])
        done = system.engine.complete_task(task["id"], {"name": name}, CUSTOMER)
        if name == "SO-14001":  # failed in the customer's step, ran later in a worker's
            assert done.notices == {}
            clock.advance(timedelta(minutes=10))
            assert run_due_jobs(system.engine, "w1") == 1
        else:
            assert done.notices == {"greeting": "hi"}
    assert seen == [False, True]
