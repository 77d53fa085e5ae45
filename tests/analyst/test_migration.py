"""Migrating running instances between definition versions: plan -> validate -> execute."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import instance_migration
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import InvalidInput
from engine.jobs import run_due_jobs
from engine.models import AuditEvent, Job
from engine.registry import Registry
from tests.analyst.builders import SLA_TIMER, analyst_system, diagram, timer_jobs
from tests.builders import ADMIN, BPMN_DIR, CUSTOMER, SUPPORT, engine_system, tasks_for
from tests.journey.builders_purchase import buy

LINEAR = (BPMN_DIR / "linear.bpmn").read_text()
NEW_STEP = """<bpmn:sequenceFlow id="f5" sourceRef="wait_hour" targetRef="double_check" />
    <bpmn:userTask id="double_check" name="Double-check" />
    <bpmn:sequenceFlow id="f5b" sourceRef="double_check" targetRef="wait_go" />"""


def registry() -> Registry:
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        ctx.set_business_key(f"SO-{ctx.data['name']}")
        return {"greeting": f"Hello {ctx.data['name']}"}

    return reg


def version_2(*replacements: tuple[str, str]) -> bytes:
    text = LINEAR
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


WITH_NEW_STEP = (
    ('<bpmn:sequenceFlow id="f5" sourceRef="wait_hour" targetRef="wait_go" />', NEW_STEP),
    (
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>double_check</bpmn:flowNodeRef>",
    ),
    ('"PT1H"', '"PT2H"'),
)
RENAMED_REVIEW = (
    ('id="review" name="Review"', 'id="check_greeting" name="Check the greeting"'),
    (
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>check_greeting</bpmn:flowNodeRef>",
    ),
    ('targetRef="review"', 'targetRef="check_greeting"'),
    ('sourceRef="review"', 'sourceRef="check_greeting"'),
)
WITHOUT_REVIEW = (
    (re.search(r'<bpmn:userTask id="review".*?</bpmn:userTask>', LINEAR, re.S).group(0), ""),
    ('<bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="wait_hour" />', ""),
    ('sourceRef="greet" targetRef="review"', 'sourceRef="greet" targetRef="wait_hour"'),
    ("<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", ""),
)


@pytest.fixture
def system(config):
    return engine_system(config, registry(), "linear.bpmn")


def started(system, name: str, review: bool = True) -> str:
    """An instance past ask_name and greet: at review, or past it at the one-hour timer."""
    view = system.engine.start("linear", CUSTOMER)
    [ask] = tasks_for(system, CUSTOMER, instance_id=view["id"])
    system.engine.complete_task(ask["id"], {"name": name}, CUSTOMER)
    if review:
        [item] = tasks_for(system, SUPPORT, instance_id=view["id"])
        system.engine.complete_task(item["id"], {"ok": True, "staff_note": "fine"}, SUPPORT)
    return view["id"]


def deploy(system, xml: bytes) -> int:
    [done] = system.engine.deploy([("linear.bpmn", xml)], ADMIN)
    return done.version


def jobs_of(system, instance_id: str) -> list[tuple[str, str, object]]:
    with unit_of_work(system.session_factory) as s:
        return [
            (j.task_id, j.element, j.due_at)
            for j in s.scalars(select(Job).where(Job.instance_id == instance_id))
        ]


def plan(mapping: dict | None = None) -> instance_migration.Plan:
    return instance_migration.Plan("linear", 1, 2, mapping or {})


def test_a_waiting_instance_keeps_its_data_and_timer_and_goes_on_in_the_new_version(system):
    iid = started(system, "Ann")
    before = system.engine.instance(iid, ADMIN)
    timers = jobs_of(system, iid)
    assert before["active"] == ["wait_hour"] and len(timers) == 1
    deploy(system, version_2(*WITH_NEW_STEP))

    [checked] = instance_migration.validate(system.engine, plan(), instance_migration.Selection())
    assert (checked.instance_id, checked.ok) == (iid, True)
    [outcome] = instance_migration.execute(
        system.engine, plan(), instance_migration.Selection(), ADMIN
    )
    assert outcome.migrated

    after = system.engine.instance(iid, ADMIN)
    assert after["definition_version"] == 2
    assert after["variables"] == before["variables"]
    assert after["variables"]["greeting"] == "Hello Ann"
    assert jobs_of(system, iid) == timers  # same timer, same due time (PT1H, not PT2H)

    clock.advance(timedelta(hours=1, seconds=1))
    run_due_jobs(system.engine, "test")
    [new_step] = tasks_for(system, SUPPORT, instance_id=iid)
    assert new_step["name"] == "double_check"
    system.engine.complete_task(new_step["id"], {}, SUPPORT)
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_go"]


def test_migration_is_audited(system):
    iid = started(system, "Ann")
    deploy(system, version_2(*WITH_NEW_STEP))
    instance_migration.execute(system.engine, plan(), instance_migration.Selection(), ADMIN)
    with unit_of_work(system.session_factory) as s:
        [event] = s.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == iid, AuditEvent.event == "instance.migrated"
            )
        )
        assert (event.actor, event.details["from_version"], event.details["to_version"]) == (
            ADMIN.name,
            1,
            2,
        )


def test_a_mapping_moves_an_open_task_to_the_renamed_element(system):
    iid = started(system, "Ann", review=False)
    deploy(system, version_2(*RENAMED_REVIEW))
    mapping = {"review": "check_greeting"}

    [outcome] = instance_migration.execute(
        system.engine, plan(mapping), instance_migration.Selection(), ADMIN
    )
    assert outcome.migrated and outcome.active == ["check_greeting"]

    [item] = tasks_for(system, SUPPORT, instance_id=iid)
    assert (item["name"], item["title"], item["lane"]) == (
        "check_greeting",
        "Check the greeting",
        "support",
    )
    system.engine.complete_task(item["id"], {"ok": True}, SUPPORT)
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_hour"]


def test_an_instance_at_an_element_without_counterpart_is_reported_and_left_as_it_is(system):
    iid = started(system, "Ann", review=False)
    deploy(system, version_2(*WITHOUT_REVIEW))

    [checked] = instance_migration.validate(system.engine, plan(), instance_migration.Selection())
    assert not checked.ok
    assert "'review'" in checked.problems[0] and "version 2 does not have" in checked.problems[0]
    [outcome] = instance_migration.execute(
        system.engine, plan(), instance_migration.Selection(), ADMIN
    )
    assert not outcome.migrated

    assert system.engine.instance(iid, ADMIN)["definition_version"] == 1
    [item] = tasks_for(system, SUPPORT, instance_id=iid)
    system.engine.complete_task(item["id"], {"ok": True}, SUPPORT)
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_hour"]


def test_passed_elements_that_the_new_version_dropped_leave_the_history(system):
    iid = started(system, "Ann")  # review is behind it
    deploy(system, version_2(*WITHOUT_REVIEW))
    [outcome] = instance_migration.execute(
        system.engine, plan(), instance_migration.Selection(), ADMIN
    )
    assert outcome.migrated
    clock.advance(timedelta(hours=1, seconds=1))
    run_due_jobs(system.engine, "test")
    assert system.engine.instance(iid, ADMIN)["active"] == ["wait_go"]


def test_an_element_of_another_kind_is_no_counterpart(system):
    started(system, "Ann", review=False)
    deploy(
        system,
        version_2(
            (
                '<bpmn:userTask id="review" name="Review">',
                '<bpmn:manualTask id="review" name="Review">',
            ),
            (
                '</bpmn:userTask>\n    <bpmn:sequenceFlow id="f4"',
                '</bpmn:manualTask>\n    <bpmn:sequenceFlow id="f4"',
            ),
        ),
    )
    [checked] = instance_migration.validate(system.engine, plan(), instance_migration.Selection())
    assert "UserTask" in checked.problems[0] and "ManualTask" in checked.problems[0]


def test_a_batch_is_narrowed_by_instance_or_order_number(system):
    ann, bea, cem = (started(system, name) for name in ("Ann", "Bea", "Cem"))
    deploy(system, version_2(*WITH_NEW_STEP))

    one = instance_migration.execute(
        system.engine, plan(), instance_migration.Selection(instance_ids=(bea,)), ADMIN
    )
    assert [o.instance_id for o in one] == [bea]
    by_key = instance_migration.execute(
        system.engine, plan(), instance_migration.Selection(business_key="SO-Cem"), ADMIN
    )
    assert [o.instance_id for o in by_key] == [cem]
    versions = {i: system.engine.instance(i, ADMIN)["definition_version"] for i in (ann, bea, cem)}
    assert versions == {ann: 1, bea: 2, cem: 2}


def test_a_plan_names_only_existing_elements(system):
    deploy(system, version_2(*RENAMED_REVIEW))
    with unit_of_work(system.session_factory) as s:
        view = instance_migration.prepare(s, "linear", 1, 2, {})
        assert view.unmapped == ["review"]
        mapped = instance_migration.prepare(
            s, "linear", 1, 2, {"review": "check_greeting", "done": "done"}
        )
        assert mapped.plan.mapping == {"review": "check_greeting"}  # same-id entries dropped
        with pytest.raises(InvalidInput) as refused:
            instance_migration.prepare(s, "linear", 1, 2, {"review": "nowhere", "ghost": "done"})
    assert set(refused.value.errors) == {"review", "ghost"}


def test_a_running_journey_moves_onto_a_new_called_process_keeping_its_sla_timer(config):
    system, _ = analyst_system(config)
    journey = buy(system)
    [timer] = timer_jobs(system, journey.instance_id)
    xml = diagram("license_key_delivery").replace('"PT24H"', '"PT12H"')
    system.engine.deploy([("license_key_delivery.bpmn", xml.encode())], ADMIN)

    onto_new_calls = instance_migration.Plan("hardware_token", 1, 1, {})
    [outcome] = instance_migration.execute(
        system.engine, onto_new_calls, instance_migration.Selection(), ADMIN
    )
    assert outcome.migrated
    [kept] = timer_jobs(system, journey.instance_id)
    assert (kept.task_id, kept.due_at) == (timer.task_id, timer.due_at)
    [again] = instance_migration.validate(
        system.engine, onto_new_calls, instance_migration.Selection()
    )
    assert "already runs on version 1" in again.problems[0]

    journey.advance(hours=12, minutes=1)
    assert not journey.tasks(SUPPORT, "license_key_sla_breach")
    journey.advance(hours=12)
    assert journey.tasks(SUPPORT, "license_key_sla_breach")
    assert SLA_TIMER not in journey.active
