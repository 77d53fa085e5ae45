"""The parsed-spec and workflow caches hold only what committed: a rolled-back step
leaves nothing a later step could pick up by a reused row id."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import SpecBundle
from engine.registry import Registry
from tests.builders import CUSTOMER, deploy, engine_system, only_task


class Crash(Exception):
    """Stands for anything that rolls a step back after its bundle row was written."""


@pytest.fixture
def system(config):
    reg = Registry()
    reg.handler("greet")(lambda ctx: {"greeting": "hi"})
    return engine_system(config, reg, "linear.bpmn")


def crash(step):
    raise Crash("the step failed")


def test_a_rolled_back_start_leaves_no_spec_for_the_next_process_to_inherit(system, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(system.engine.stepper, "advance", crash)
        with pytest.raises(Crash):
            system.engine.start("linear", CUSTOMER)
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(SpecBundle)).all() == []  # the bundle row went with it
    deploy(system, "gateways.bpmn")  # on SQLite, its bundle gets the rolled-back row's id
    view = system.engine.start("gateways", CUSTOMER)
    assert view["active"] == ["choose"]
    assert only_task(system, CUSTOMER)["name"] == "choose"


def test_a_step_rolled_back_after_saving_leaves_no_workflow_in_the_cache(system, monkeypatch):
    system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER)
    save = system.engine.stepper.finish

    def save_then_crash(step):
        save(step)
        raise Crash("the commit failed")

    with monkeypatch.context() as patched:
        patched.setattr(system.engine.stepper, "finish", save_then_crash)
        with pytest.raises(Crash):
            system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    assert only_task(system, CUSTOMER)["id"] == task["id"]
    done = system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    assert done.instance["active"] == ["review"]
