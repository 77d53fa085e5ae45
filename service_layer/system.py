"""The `System`: what the composition root (`tokenflow.system.build_system`) wires once
and every front end is handed: configuration, database, engine, outside services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import MetaData
from sqlalchemy.orm import Session, sessionmaker

from engine.runtime import ProcessEngine

from .config import Config


@dataclass
class System:
    config: Config
    db: DbEngine
    session_factory: sessionmaker[Session]
    engine: ProcessEngine
    services: Any
    # Every table of the product (for a sandbox copy of the schema) and the migration the
    # code expects the database at (for readiness): known to the composition root only.
    tables: MetaData
    schema_head: str | None

    def close(self) -> None:
        self.db.dispose()
