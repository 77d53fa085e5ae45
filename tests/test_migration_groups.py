"""Migration 0005 adds the groups and the work items' candidates, and takes them away
again on a downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from engine.db import make_db_engine
from tokenflow.schema import alembic_config


def _shape(database_url: str) -> tuple[set[str], set[str]]:
    db = make_db_engine(database_url)
    try:
        found = inspect(db)
        return set(found.get_table_names()), {c["name"] for c in found.get_columns("work_items")}
    finally:
        db.dispose()


def test_downgrading_past_0005_removes_the_groups_and_upgrading_brings_them_back(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    tables, columns = _shape(database_url)
    assert not {"groups", "group_members"} & tables
    assert not {"candidate_users", "candidate_groups"} & columns
    command.upgrade(config, "head")
    tables, columns = _shape(database_url)
    assert {"groups", "group_members"} <= tables
    assert {"candidate_users", "candidate_groups"} <= columns
