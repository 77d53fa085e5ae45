"""Alembic environment: every table of engine/, domain/ and handlers/ in one history."""

from __future__ import annotations

from alembic import context

from tokenflow.schema import metadata

config = context.config
connectable = config.attributes.get("connection")


def run() -> None:
    if connectable is None:
        from engine.db import make_db_engine

        db = make_db_engine(config.get_main_option("sqlalchemy.url"))
        try:
            with db.connect() as connection:
                _migrate(connection)
        finally:
            # Also when a migration stops with an error: no pooled connection is left open.
            db.dispose()
    else:
        _migrate(connectable)


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
