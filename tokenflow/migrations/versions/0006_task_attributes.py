"""work items keep Camunda's follow-up date and priority (the due date has its column)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), server_default="50", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_column("priority")
        batch_op.drop_column("follow_up_at")
