"""video_appointments: each instance's booked interview time, for the staff inboxes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:20:00

Interviews booked before this revision have no row: their task is still due at its
appointment (the diagram's dueDate), only the inboxes' appointment column stays empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_appointments",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=64), nullable=True),
        sa.Column("starts_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_video_appointments")),
    )
    with op.batch_alter_table("video_appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_appointments_starts_at"), ["starts_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("video_appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_appointments_starts_at"))
    op.drop_table("video_appointments")
