"""retention: a definition's camunda:historyTimeToLive, when an instance was purged, and
audit events whose hash covers a hash of their details (so the details can be removed)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("history_ttl_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column("details", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    # Purged events have no details any more; an empty object keeps the column filled
    # (their chain then no longer verifies under the old scheme, which cannot hold them).
    op.execute("UPDATE audit_events SET details = '{}' WHERE details IS NULL")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("details", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("details_hash")
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_column("history_ttl_days")
