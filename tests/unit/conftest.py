"""Fixtures of the unit tests: a restricted environment on a fixed clock, a ready task of
the checkout diagram (tests/unit/builders.py), and a session on an in-memory database
holding every table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import domain.models  # noqa: F401  (every table, for create_all)
from engine.db import Base
from engine.scripting import RestrictedEnvironment
from tests.unit.builders import CLOCK_TIME, start_checkout


@pytest.fixture
def environment():
    return RestrictedEnvironment(clock=lambda: CLOCK_TIME)


@pytest.fixture
def task():
    workflow = start_checkout("False", payment_method="card", attempts=2, seen=[])
    return workflow.get_next_task(state=TaskState.READY)


@pytest.fixture
def session() -> Iterator[Session]:
    db = create_engine("sqlite://")
    Base.metadata.create_all(db)
    with Session(db) as s:
        yield s
    db.dispose()
