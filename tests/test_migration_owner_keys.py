"""Migration 0014 ties every owner column of the domain's tables to `users` with a real
foreign key, after counting the rows that name no user: those stop it with where they are."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from engine.db import make_db_engine
from tokenflow.schema import alembic_config

OWNER_COLUMNS = {
    ("credentials", "owner_id"),
    ("hardware_tokens", "owner_id"),
    ("license_keys", "used_by_owner_id"),
    ("phone_credentials", "owner_id"),
    ("phone_otps", "owner_id"),
    ("sales_orders", "owner_id"),
    ("token_replacements", "owner_id"),
}


def _keys_to_users(database_url: str) -> set[tuple[str, str]]:
    db = make_db_engine(database_url)
    try:
        found = inspect(db)
        return {
            (table, column)
            for table, _ in OWNER_COLUMNS
            for key in found.get_foreign_keys(table)
            if key["referred_table"] == "users"
            for column in key["constrained_columns"]
        }
    finally:
        db.dispose()


def _run(database_url: str, statement: str) -> None:
    db = make_db_engine(database_url)
    try:
        with db.begin() as conn:
            conn.execute(text(statement))
    finally:
        db.dispose()


def test_every_owner_column_has_a_foreign_key_to_users(database_url):
    assert _keys_to_users(database_url) == OWNER_COLUMNS


def test_a_row_naming_no_user_stops_the_upgrade_and_says_where(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0013")
    assert _keys_to_users(database_url) == set()
    _run(
        database_url,
        "INSERT INTO phone_otps (owner_id, purpose, channel, code_hash, issued_at, expires_at, "
        "attempts) VALUES (987654, 'app:1', 'sms', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)",
    )
    with pytest.raises(RuntimeError, match=r"phone_otps\.owner_id: 1 row\(s\)"):
        command.upgrade(config, "head")
    _run(database_url, "DELETE FROM phone_otps WHERE owner_id = 987654")
    command.upgrade(config, "head")
    assert _keys_to_users(database_url) == OWNER_COLUMNS
