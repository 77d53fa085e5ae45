"""who may start each process definition version

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:40:00

Versions deployed before this revision get their starters read from their own XML, so
that a diagram that already carried Camunda's starter attributes keeps its meaning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine import starters
from engine.parser import parse_xml

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starters", sa.JSON(), nullable=True))
    table = sa.table(
        "process_definitions",
        sa.column("id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("xml", sa.Text()),
        sa.column("starters", sa.JSON()),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(table.c.id, table.c.key, table.c.xml)).all():
        found = starters.of_process(parse_xml(row.xml.encode("utf-8")), row.key)
        conn.execute(table.update().where(table.c.id == row.id).values(starters=found))
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.alter_column("starters", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_column("starters")
