"""Migration 0004 reads who may start each version already deployed from its own XML."""

from __future__ import annotations

from alembic import command
from sqlalchemy import JSON, Integer, String, Text, column, select, table

from engine.clock import clock
from engine.db import UTCDateTime, make_db_engine
from tests.engine.builders import starter_diagram
from tokenflow.schema import alembic_config

DEFINITIONS = table(
    "process_definitions",
    column("id", Integer),
    column("key", String),
    column("name", String),
    column("version", Integer),
    column("hash", String),
    column("file_name", String),
    column("xml", Text),
    column("deployed_at", UTCDateTime(timezone=True)),
)


def test_upgrading_fills_in_the_starters_of_versions_deployed_before(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0003")
    db = make_db_engine(database_url)
    try:
        with db.begin() as conn:
            for version, attributes in [(1, ""), (2, 'camunda:candidateStarterGroups="customer"')]:
                conn.execute(
                    DEFINITIONS.insert().values(
                        key="p",
                        version=version,
                        hash=str(version) * 64,
                        file_name="p.bpmn",
                        xml=starter_diagram("p", attributes).decode(),
                        deployed_at=clock.now(),
                    )
                )
        command.upgrade(config, "head")
        starters = table("process_definitions", column("version"), column("starters", JSON))
        with db.connect() as conn:
            rows = conn.execute(select(starters).order_by(starters.c.version)).all()
    finally:
        db.dispose()
    assert [tuple(r) for r in rows] == [
        (1, {"groups": None, "users": None, "startable": True}),
        (2, {"groups": ["customer"], "users": None, "startable": True}),
    ]
