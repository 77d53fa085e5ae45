"""The composition root: configuration, database, engine, handlers, wired once.

Extra handler modules: `TOKENFLOW_EXTRA_HANDLERS=pkg.module[,other.module]` imports each
module after Tokenflow's own; a module registers its handlers and validators exactly as
Tokenflow's do (`from handlers import registry`, then `@registry.handler()`). That is how
an operator adds a topic for a diagram of their own without changing Tokenflow; every
process (web and worker) needs the same list.
"""

from __future__ import annotations

import importlib
from typing import Any

import handlers
from domain.accounts.roles import ROLES
from domain.services import build_services
from engine.db import make_db_engine, make_session_factory
from engine.registry import Registry
from engine.runtime import ProcessEngine
from engine.scripting import ScriptLimits
from engine.stepper import StepSettings
from service_layer.config import Config
from service_layer.system import System

from . import files, schema

__all__ = ["System", "build_system", "load_registry"]


def build_system(config: Config, registry: Registry | None = None, services: Any = None) -> System:
    files.prepare(config)  # before SQLite makes the database file with a looser mode
    db = make_db_engine(config.database_url)
    factory = make_session_factory(db)
    services = services if services is not None else build_services(config)
    registry = registry or load_registry(config.extra_handlers)
    limits = ScriptLimits(time_budget=config.script_time_budget_ms / 1000)
    settings = StepSettings(script_limits=limits)
    engine = ProcessEngine(factory, registry, ROLES, settings=settings, services=services)
    return System(
        config,
        db,
        factory,
        engine,
        services,
        tables=schema.metadata,
        schema_head=schema.head(),
    )


def load_registry(extra_modules: tuple[str, ...] = ()) -> Registry:
    """Tokenflow's handlers, then those of `extra_modules` (see the module docstring)."""
    registry = handlers.load()
    for module in extra_modules:
        importlib.import_module(module)
    return registry
