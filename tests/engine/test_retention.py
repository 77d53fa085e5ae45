"""camunda:historyTimeToLive: a finished instance keeps its personal data until its time to
live has passed on the engine clock, then loses it, and its audit chain still verifies."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select, update

from engine import audit
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import Conflict, DefinitionInvalid, ProcessIncident
from engine.models import (
    AuditEvent,
    Incident,
    InstanceTask,
    ProcessDefinition,
    ProcessInstance,
    WorkItem,
)
from engine.parser import BPMN_NS
from engine.persistence import load
from engine.registry import Registry
from engine.retention import ATTRIBUTE, PURGED_ERROR, parse_days, purge_expired
from service_layer.config import Config, ConfigError
from tests.builders import ADMIN, BPMN_DIR, CUSTOMER, engine_system, only_task
from tokenflow.worker import Worker

PERSON = "Alice Example"
TTL = timedelta(days=30)
DIAGRAM = (BPMN_DIR / "retention.bpmn").read_text()


@pytest.fixture
def system(config):
    return engine_system(config, Registry(), "retention.bpmn")


def purge(system, default_days=180):
    return purge_expired(system.session_factory, default_days)


def finish(system, fail=False):
    """An instance whose customer gave their name; completed, or (`fail`) standing at an
    incident whose error quotes the name, then terminated by an admin."""
    started = system.engine.start("retention", CUSTOMER)
    task = only_task(system, CUSTOMER, instance_id=started["id"])
    if fail:
        with pytest.raises(ProcessIncident):
            system.engine.complete_task(task["id"], {"full_name": PERSON, "fail": True}, CUSTOMER)
        system.engine.set_status(started["id"], "terminate", ADMIN)
    else:
        system.engine.complete_task(task["id"], {"full_name": PERSON}, CUSTOMER)
    return started["id"]


def stored(system, iid):
    """Everything the engine's tables hold about the instance, as text."""
    with unit_of_work(system.session_factory) as s:
        rows = [s.get(ProcessInstance, iid).state]
        for model in (InstanceTask, WorkItem, Incident):
            rows += [vars(r) for r in s.scalars(select(model).where(model.instance_id == iid))]
        rows += [r.details for r in s.scalars(select(AuditEvent).where(AuditEvent.chain == iid))]
    return json.dumps(rows, default=str)


def breaks(system):
    with unit_of_work(system.session_factory) as s:
        return audit.verify(s)


def test_a_finished_instance_keeps_its_data_until_its_time_to_live_has_passed(system):
    iid = finish(system)
    clock.advance(TTL - timedelta(minutes=1))
    assert purge(system) == 0
    assert PERSON in stored(system, iid)
    assert system.engine.instance(iid, ADMIN)["variables"]["full_name"] == PERSON


def test_after_its_time_to_live_a_finished_instance_loses_its_personal_data(system):
    iid = finish(system)
    clock.advance(TTL)
    before = clock.now()
    assert purge(system) == 1
    assert PERSON not in stored(system, iid)
    view = system.engine.instance(iid, ADMIN)
    assert view["status"] == "completed" and view["variables"] == {}
    assert before.isoformat() <= view["purged_at"] <= clock.now().isoformat()
    assert purge(system) == 0  # once


def test_the_job_works_in_batches_until_nothing_is_left(system):
    first, second = finish(system), finish(system)
    clock.advance(TTL)
    assert purge_expired(system.session_factory, 180, batch=1) == 2
    assert all(system.engine.instance(i, ADMIN)["purged_at"] for i in (first, second))


def test_the_audit_chain_of_a_purged_instance_keeps_its_event_names_and_verifies(system):
    iid = finish(system)
    with unit_of_work(system.session_factory) as s:
        before = [e.event for e in s.scalars(select(AuditEvent).where(AuditEvent.chain == iid))]
    clock.advance(TTL)
    purge(system)
    with unit_of_work(system.session_factory) as s:
        after = list(s.scalars(select(AuditEvent).where(AuditEvent.chain == iid)))
    assert [e.event for e in after] == [*before, "instance.purged"]
    assert all(e.details is None for e in after[:-1])
    assert breaks(system) == []


def test_a_terminated_instance_is_purged_with_its_incident_s_error(system):
    iid = finish(system, fail=True)
    assert PERSON in stored(system, iid)  # the error quotes the value that failed
    clock.advance(TTL)
    assert purge(system) == 1
    assert PERSON not in stored(system, iid)
    with unit_of_work(system.session_factory) as s:
        [incident] = s.scalars(select(Incident).where(Incident.instance_id == iid))
        assert incident.error == PURGED_ERROR and incident.expression is None
    assert breaks(system) == []


def test_running_and_failing_instances_are_never_purged(system):
    running = system.engine.start("retention", CUSTOMER)["id"]
    failing = system.engine.start("retention", CUSTOMER)["id"]
    task = only_task(system, CUSTOMER, instance_id=failing)
    with pytest.raises(ProcessIncident):
        system.engine.complete_task(task["id"], {"full_name": PERSON, "fail": True}, CUSTOMER)
    clock.advance(timedelta(days=3650))
    assert purge(system) == 0
    assert PERSON in stored(system, failing)
    task = only_task(system, CUSTOMER, instance_id=running)
    system.engine.complete_task(task["id"], {"full_name": PERSON}, CUSTOMER)
    assert system.engine.instance(running, ADMIN)["status"] == "completed"


def test_a_diagram_without_a_time_to_live_takes_the_configured_default(config):
    xml = DIAGRAM.replace(' camunda:historyTimeToLive="P30D"', "")
    system = engine_system(config, Registry())
    system.engine.deploy([("retention.bpmn", xml.encode())], ADMIN)
    iid = finish(system)
    clock.advance(timedelta(days=11))
    assert purge(system, default_days=None) == 0  # "never"
    assert purge(system, default_days=12) == 0
    assert purge(system, default_days=10) == 1
    assert system.engine.instance(iid, ADMIN)["purged_at"] is not None


@pytest.mark.parametrize(("written", "days"), [("30", 30), ("P30D", 30), (" p0d ", 0)])
def test_a_time_to_live_in_days_is_kept_with_the_version(config, written, days):
    xml = DIAGRAM.replace('"P30D"', f'"{written}"')
    system = engine_system(config, Registry())
    system.engine.deploy([("retention.bpmn", xml.encode())], ADMIN)
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(ProcessDefinition.history_ttl_days)).one() == days


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("${ttl}", "is an expression; a retention period is a literal number of days"),
        ("P1M", "is no number of days"),
        ("PT24H", "is no number of days"),
        ("-5", "is no number of days"),
        ("\u0663\u0660", "is no number of days"),  # digits, but not ASCII ones
        ("99999", "is more than 36500 days"),
    ],
)
def test_a_time_to_live_that_is_no_literal_number_of_days_is_refused(config, written, reason):
    xml = DIAGRAM.replace('"P30D"', f'"{written}"')
    system = engine_system(config, Registry())
    with pytest.raises(DefinitionInvalid) as caught:
        system.engine.deploy([("retention.bpmn", xml.encode())], ADMIN)
    [problem] = caught.value.problems
    assert problem.element == "retention" and reason in problem.message


def test_details_removed_from_an_instance_that_was_not_purged_break_the_chain(system):
    iid = finish(system)
    with unit_of_work(system.session_factory) as s:
        s.execute(update(AuditEvent).where(AuditEvent.chain == iid).values(details=None))
    assert {b.reason for b in breaks(system)} == {"content was changed"}


def test_details_edited_in_place_break_the_chain(system):
    iid = finish(system)
    with unit_of_work(system.session_factory) as s:
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.chain == iid, AuditEvent.event == "instance.started"
            )
        ).one()
        event.details = {**event.details, "variables": ["nothing"]}
    assert [b.seq for b in breaks(system)] == [event.seq]


def test_every_process_in_processes_names_its_retention_period():
    processes = Path(__file__).resolve().parents[2] / "processes"
    found = {}
    for path in sorted(processes.glob("*.bpmn")):
        for proc in etree.parse(str(path)).getroot().iter(f"{{{BPMN_NS}}}process"):
            found[proc.get("id")] = parse_days(proc.get(ATTRIBUTE) or "unset")
    assert found and all(days >= 730 for days in found.values()), found
    assert found["hardware_token"] >= max(found["purchase"], found["identity_proofing"])


def test_a_purged_instance_cannot_be_loaded_and_says_why(system):
    iid = finish(system)
    clock.advance(TTL)
    purge(system)
    engine = system.engine
    with unit_of_work(system.session_factory) as s:
        inst = s.get(ProcessInstance, iid)
        with pytest.raises(Conflict, match="removed after its retention period"):
            load(s, inst, engine.specs.get(s, inst.bundle_id), engine.script_engine)
    assert engine.element_states(iid, ADMIN) == {"completed": [], "active": []}


def test_the_worker_s_daily_job_purges_by_the_configured_default(config):
    system = engine_system(replace(config, history_ttl_days=10), Registry())
    xml = DIAGRAM.replace(' camunda:historyTimeToLive="P30D"', "")
    system.engine.deploy([("retention.bpmn", xml.encode())], ADMIN)
    iid = finish(system)
    clock.advance(timedelta(days=10))
    Worker(system).purge()
    assert system.engine.instance(iid, ADMIN)["purged_at"] is not None


@pytest.mark.parametrize(
    ("written", "days"), [(None, 180), ("", 180), ("90", 90), ("P3650D", 3650), ("never", None)]
)
def test_the_default_time_to_live_is_set_in_days_or_never(tmp_path, written, days):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path)}
    if written is not None:
        env["TOKENFLOW_HISTORY_TIME_TO_LIVE"] = written
    assert Config.from_env(env).history_ttl_days == days


def test_a_default_time_to_live_that_is_no_number_of_days_names_its_variable(tmp_path):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path), "TOKENFLOW_HISTORY_TIME_TO_LIVE": "P6M"}
    with pytest.raises(ConfigError, match=r"TOKENFLOW_HISTORY_TIME_TO_LIVE: .* is no number"):
        Config.from_env(env)
