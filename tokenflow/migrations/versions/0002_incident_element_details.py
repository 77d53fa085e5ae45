"""incidents name the element and the expression that failed

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 03:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("element_name", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("expression", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("expression")
        batch_op.drop_column("element_name")
