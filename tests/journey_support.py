"""Helpers for journey tests: the real diagrams in processes/, the real handlers, the
sandboxes, and a controllable clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.actors import SYSTEM, Actor
from engine.clock import clock
from engine.db import unit_of_work
from engine.jobs import run_due_jobs
from engine.queries import TaskFilter, list_tasks
from service_layer.config import Config
from service_layer.system import System
from tests.people import add_people
from tokenflow.system import build_system

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

CUSTOMER = Actor("alice", frozenset({"customer"}), user_id=101)
OTHER_CUSTOMER = Actor("bob", frozenset({"customer"}), user_id=102)
AGENT = Actor("pat", frozenset({"proofing_agent"}), user_id=301)
SUPPORT = Actor("sam", frozenset({"support"}), user_id=201)
FINANCE = Actor("fran", frozenset({"finance"}), user_id=202)
ADMIN = Actor("root", frozenset({"admin"}), user_id=1)
# Each has a users row in a journey system (the domain's owner columns are foreign keys).
PEOPLE = (CUSTOMER, OTHER_CUSTOMER, AGENT, SUPPORT, FINANCE, ADMIN)


class Journey:
    """Drives one instance through the engine the way the API does."""

    def __init__(self, system: System, actor: Actor = CUSTOMER) -> None:
        self.system = system
        self.actor = actor
        self.instance_id: str | None = None
        self.notices: dict[str, Any] = {}

    @property
    def engine(self) -> Any:
        return self.system.engine

    def start(self, process: str = "hardware_token", data: dict | None = None) -> dict:
        if data is None:
            view = self.engine.start(process, self.actor)
        else:
            view = self.engine.start(process, ADMIN, data, owner_id=self.actor.user_id)
        self.instance_id = view["id"]
        return view

    def tasks(self, actor: Actor | None = None, name: str | None = None) -> list[dict]:
        with unit_of_work(self.system.session_factory) as s:
            where = TaskFilter(instance_id=self.instance_id, name=name)
            return list_tasks(s, actor or self.actor, self.engine, where)

    def task(self, name: str, actor: Actor | None = None) -> dict:
        found = self.tasks(actor, name)
        assert found, f"{name} is not ready; active: {self.view()['active']}"
        return found[0]

    def complete(self, name: str, data: dict, actor: Actor | None = None) -> dict:
        task = self.task(name, actor)
        view, notices, _ = self.engine.complete_task(task["id"], data, actor or self.actor)
        self.notices = notices
        return view

    def view(self) -> dict:
        return self.engine.instance(self.instance_id, ADMIN)

    @property
    def active(self) -> list[str]:
        return self.view()["active"]

    @property
    def variables(self) -> dict:
        return self.view()["variables"]

    def message(self, name: str, data: dict | None = None) -> str:
        return self.engine.correlate(name, self.view()["business_key"], data or {}, SYSTEM)

    def advance(self, **delta: float) -> int:
        """Move the clock and let a worker run whatever fell due."""
        clock.advance(timedelta(**delta))
        return run_due_jobs(self.engine, "test-worker")


def journey_system(config: Config, services: Any = None) -> System:
    """A system with every diagram of processes/ deployed (on `services`, if given), and
    the people above as users."""
    system = build_system(config, services=services)
    add_people(system, *PEOPLE)
    diagrams = [*PROCESSES.glob("*.bpmn"), *PROCESSES.glob("*.dmn")]
    sources = [(p.name, p.read_bytes()) for p in sorted(diagrams)]
    system.engine.deploy(sources, SYSTEM)
    return system
