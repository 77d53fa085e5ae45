"""What the liveness and readiness checks ask the database: whether it answers, and
the migration its schema is at. Each raises what the driver raised when the database
does not answer (the checks answer 503 then)."""

from __future__ import annotations

from sqlalchemy import text

from .system import System


def ping_database(system: System) -> None:
    """Ask the database for nothing (read-only: on SQLite it answers beside a step that
    holds the write lock)."""
    with system.db.connect().execution_options(read_only=True) as conn:
        conn.execute(text("SELECT 1"))


def schema_revision(system: System) -> str | None:
    """The Alembic revision the database's schema is at."""
    with system.db.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if revision is None else str(revision)
