"""Fixtures of the unit tests: a restricted environment on a fixed clock, and a ready
task of the checkout diagram (tests/unit/builders.py)."""

from __future__ import annotations

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.scripting import RestrictedEnvironment
from tests.unit.builders import CLOCK_TIME, start_checkout


@pytest.fixture
def environment():
    return RestrictedEnvironment(clock=lambda: CLOCK_TIME)


@pytest.fixture
def task():
    workflow = start_checkout("False", payment_method="card", attempts=2, seen=[])
    return workflow.get_next_task(state=TaskState.READY)
