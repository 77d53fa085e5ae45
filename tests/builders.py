"""What the tests of every area build on.

- the fixed actors: each an `Actor` with a known user id, who gets a users row of that id
  and username (every owner column of the domain's tables is a foreign key to users);
- `engine_system`: a system wired with a test registry and the diagrams of tests/bpmn/;
- `journey_system`: the real diagrams of processes/, the real handlers and the sandboxes,
  and `Journey`, which drives one instance through the engine the way the API does;
- the users rows themselves (`add_people`, `person`): the pages' tests log in as the
  same people, with one PASSWORD.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from domain import audit_subjects
from domain.accounts.models import User
from domain.accounts.users import create_user
from engine import audit
from engine.actors import SYSTEM, Actor
from engine.clock import clock
from engine.db import unit_of_work
from engine.jobs import run_due_jobs
from engine.queries import TaskFilter, list_tasks
from engine.registry import Registry
from service_layer.config import Config
from service_layer.system import System
from tokenflow.system import build_system

BPMN_DIR = Path(__file__).parent / "bpmn"  # the engine tests' diagrams
PROCESSES = Path(__file__).resolve().parent.parent / "processes"  # the shipped ones

CUSTOMER = Actor("alice", frozenset({"customer"}), user_id=101)
OTHER_CUSTOMER = Actor("bob", frozenset({"customer"}), user_id=102)
AGENT = Actor("pat", frozenset({"proofing_agent"}), user_id=301)
SUPPORT = Actor("sam", frozenset({"support"}), user_id=201)
FINANCE = Actor("fran", frozenset({"finance"}), user_id=202)
ADMIN = Actor("root", frozenset({"admin"}), user_id=1)
# Each has a users row in a journey system (the domain's owner columns are foreign keys).
PEOPLE = (CUSTOMER, OTHER_CUSTOMER, AGENT, SUPPORT, FINANCE, ADMIN)
PASSWORD = "correct horse battery"  # every fixed person's, and the pages' tests' users'


def engine_system(config: Config, registry: Registry, *files: str) -> System:
    system = build_system(config, registry=registry, services={})
    if files:
        deploy(system, *files)
    return system


def deploy(system: System, *files: str) -> Any:
    sources = [(name, (BPMN_DIR / name).read_bytes()) for name in files]
    return system.engine.deploy(sources, SYSTEM)


def tasks_for(system: System, actor: Actor, **filters: Any) -> list[dict[str, Any]]:
    with unit_of_work(system.session_factory) as s:
        return list_tasks(s, actor, system.engine, TaskFilter(**filters))


def only_task(system: System, actor: Actor, **filters: Any) -> dict[str, Any]:
    tasks = tasks_for(system, actor, **filters)
    assert len(tasks) == 1, tasks
    return tasks[0]


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


@cache
def _password_hash() -> str:
    # The same cheap parameters as the suite's `_cheap_password_hashing`: a login as one
    # of these people checks the password without rehashing it.
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def add_people(system: System, *actors: Actor) -> None:
    """A users row for each actor, with the actor's id, username and roles, the password
    PASSWORD and no email address (mail to them goes to the sandbox's address for the
    owner), each created as `create_user` records it in the audit trail; an actor whose id
    or username is already taken is left out."""
    with unit_of_work(system.session_factory) as s:
        ids = set(s.scalars(select(User.id)))
        names = set(s.scalars(select(User.username)))
        added = False
        for actor in actors:
            if actor.user_id is None or actor.user_id in ids or actor.name in names:
                continue
            roles = sorted(actor.roles)
            s.add(
                User(
                    id=actor.user_id,
                    username=actor.name,
                    password_hash=_password_hash(),
                    roles=",".join(roles),
                )
            )
            audit.record(
                s,
                "user.created",
                subject=audit_subjects.person(actor.user_id),
                actor=actor.name,
                username=actor.name,
                roles=roles,
            )
            ids.add(actor.user_id)
            names.add(actor.name)
            added = True
        if added:
            s.flush()
            _move_id_sequence_on(s)


def _move_id_sequence_on(s: Session) -> None:
    """PostgreSQL's serial goes on after the ids given by hand, as SQLite's rowid does."""
    if s.get_bind().dialect.name == "postgresql":
        top = s.scalar(select(func.max(User.id)))
        s.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), :top)"), {"top": top})


def person(
    s: Session,
    username: str,
    roles: list[str],
    email: str | None = None,
    groups: list[str] | None = None,
) -> User:
    """The user called `username`: the fixed actor's row when there is one (its roles the
    same; given `email`, if any), otherwise a new user with the password PASSWORD."""
    found = s.scalar(select(User).where(User.username == username))
    if found is None:
        return create_user(s, username, PASSWORD, roles, email=email, groups=groups)
    assert found.role_set == frozenset(roles), (username, found.roles, roles)
    assert not groups, "a fixed actor joins no group here"
    if email is not None:
        found.email = email
    return found
