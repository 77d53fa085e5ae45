"""Helpers for engine tests: a system wired with a test registry and test diagrams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.actors import SYSTEM, Actor
from engine.db import unit_of_work
from engine.queries import TaskFilter, list_tasks
from engine.registry import Registry
from service_layer.config import Config
from service_layer.system import System
from tokenflow.system import build_system

BPMN_DIR = Path(__file__).parent / "bpmn"

CUSTOMER = Actor("alice", frozenset({"customer"}), user_id=101)
OTHER_CUSTOMER = Actor("bob", frozenset({"customer"}), user_id=102)
SUPPORT = Actor("sam", frozenset({"support"}), user_id=201)
FINANCE = Actor("fran", frozenset({"finance"}), user_id=202)
ADMIN = Actor("root", frozenset({"admin"}), user_id=1)


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
