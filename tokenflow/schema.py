"""The database schema: every table of the product (importing the model modules registers
them on Base), and Alembic's upgrades of it (`tokenflow db upgrade`), driven from code
with no alembic.ini; and the check every command that uses the database makes first,
that its schema is the one this code was written for. ("Migration" elsewhere means
moving running instances to a new process version: `engine/instance_migration.py`.)"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine as DbEngine
from sqlalchemy import inspect, text

import domain.models  # noqa: F401
import engine.models  # noqa: F401
from engine.db import Base

metadata = Base.metadata
MIGRATIONS = Path(__file__).parent / "migrations"
MISSING_OR_BEHIND = "the database schema is missing or behind: run `tokenflow db upgrade`"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head() -> str | None:
    """The migration this code expects the database to be at."""
    return _scripts().get_current_head()


def current(db: DbEngine) -> str | None:
    """The migration the database is at; None when it was never migrated."""
    # Read directly: Alembic's MigrationContext would log two lines on every command.
    with db.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def schema_problem(db: DbEngine) -> str | None:
    """Why this code cannot use the database's schema, in one line; None when it can.
    One small query: cheap enough for every command to ask before it starts."""
    at = current(db)
    if at == head():
        return None
    if at is not None:
        try:
            _scripts().get_revision(at)
        except CommandError:
            return (
                f"the database schema is at {at}, which this version of Tokenflow does not "
                "know: it was migrated by a newer one"
            )
    return MISSING_OR_BEHIND
