"""Migration 0010 (retention) adds the retention columns and takes them away again on a
downgrade; audit events then keep an empty object where retention removed their details."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from engine.db import make_db_engine
from tokenflow.schema import alembic_config


def _columns(database_url: str) -> set[str]:
    db = make_db_engine(database_url)
    try:
        found = inspect(db)
        return {
            f"{table}.{c['name']}"
            for table in ("process_definitions", "process_instances", "audit_events")
            for c in found.get_columns(table)
        }
    finally:
        db.dispose()


NEW = {
    "process_definitions.history_ttl_days",
    "process_instances.purged_at",
    "audit_events.details_hash",
}


def test_downgrading_past_0010_removes_the_retention_columns_and_upgrading_adds_them(
    database_url,
):
    config = alembic_config(database_url)
    command.downgrade(config, "0009")
    assert not NEW & _columns(database_url)
    command.upgrade(config, "head")
    assert _columns(database_url) >= NEW
