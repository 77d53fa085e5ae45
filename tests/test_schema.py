"""The migrations build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.db import make_db_engine
from tokenflow.schema import metadata


def test_the_migrated_database_matches_the_models(database_url):
    db = make_db_engine(database_url)
    try:
        with db.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        db.dispose()
