"""refunds: a paid order cancelled before it shipped keeps its refund on the order

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_reference", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("refunded_cents", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("refunded_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("refunded_cents")
        batch_op.drop_column("refund_reference")
