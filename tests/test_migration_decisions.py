"""Migration 0013 (decisions) adds the decision table versions and the bundles' pinned
decisions (an empty list for every bundle made before), and takes them away again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from engine.db import make_db_engine
from tokenflow.schema import alembic_config


def test_bundles_made_before_decisions_pin_none_and_a_downgrade_removes_them(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0009")
    db = make_db_engine(database_url)
    try:
        assert "decision_definitions" not in sa.inspect(db).get_table_names()
        with db.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO spec_bundles (hash, definition_ids) VALUES ('old', '[1]')")
            )
        command.upgrade(config, "head")
        assert "decision_definitions" in sa.inspect(db).get_table_names()
        with db.connect() as conn:
            pinned = conn.execute(
                sa.text("SELECT decision_ids FROM spec_bundles WHERE hash = 'old'")
            ).scalar_one()
        assert pinned in ([], "[]")
    finally:
        with db.begin() as conn:
            conn.execute(sa.text("DELETE FROM spec_bundles WHERE hash = 'old'"))
        db.dispose()
