"""Foreign keys from every owner column of the domain's tables to users

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:20:00

Accounts now live below the handlers (`domain.accounts`), so the domain's tables can say
whose a row is with a real constraint. Rows that name no user are counted first: if any
exist, the upgrade stops and says where, instead of failing half way on a constraint.
(The engine's own `owner_id` columns stay plain integers: the engine knows no users.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OWNER_COLUMNS = (
    ("credentials", "owner_id"),
    ("hardware_tokens", "owner_id"),
    ("license_keys", "used_by_owner_id"),
    ("phone_credentials", "owner_id"),
    ("phone_otps", "owner_id"),
    ("sales_orders", "owner_id"),
    ("token_replacements", "owner_id"),
)


def _name(table: str, column: str) -> str:
    return f"fk_{table}_{column}_users"


def orphans(bind: sa.Connection) -> list[str]:
    """Where a row names a user that does not exist, with how many such rows."""
    found = []
    for table, column in OWNER_COLUMNS:
        count = bind.execute(
            sa.text(
                f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
                f"AND {column} NOT IN (SELECT id FROM users)"  # names from OWNER_COLUMNS
            )
        ).scalar_one()
        if count:
            found.append(f"{table}.{column}: {count} row(s)")
    return found


def upgrade() -> None:
    if found := orphans(op.get_bind()):
        raise RuntimeError(
            "Some rows name a user that does not exist, so their foreign keys cannot be "
            f"added: {'; '.join(found)}. Set each such column to the right user (or to "
            "NULL where it may be), then run `tokenflow db upgrade` again."
        )
    for table, column in OWNER_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(op.f(_name(table, column)), "users", [column], ["id"])


def downgrade() -> None:
    for table, column in OWNER_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(_name(table, column)), type_="foreignkey")
