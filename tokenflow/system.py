"""The composition root: configuration, database, engine, handlers, wired once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

import handlers
from engine.db import make_engine, make_session_factory
from engine.registry import Registry
from engine.runtime import Engine
from handlers.services import build_services

from .config import ROLES, Config


@dataclass
class System:
    config: Config
    db: DbEngine
    session_factory: sessionmaker[Session]
    engine: Engine
    services: Any

    def close(self) -> None:
        self.db.dispose()


def build_system(config: Config, registry: Registry | None = None, services: Any = None) -> System:
    db = make_engine(config.database_url)
    factory = make_session_factory(db)
    services = services if services is not None else build_services(config)
    engine = Engine(factory, registry or handlers.load(), ROLES, services=services)
    return System(config, db, factory, engine, services)
