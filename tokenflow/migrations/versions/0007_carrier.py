"""parcels followed until delivered (shipments) and the carrier's tracking events

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:40:00

Orders shipped before this revision are not followed: their delivery still comes as a
`token_delivered` message sent by hand (POST /api/v1/messages), as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=False),
        sa.Column("shipped_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_shipments_tracking_number")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_next_check", ["next_check_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shipments_order_number"), ["order_number"], unique=False
        )
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('in_transit', 'out_for_delivery', 'delivered')",
            name=op.f("ck_tracking_events_status"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_tracking_events_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint("shipment_id", "status", name=op.f("uq_tracking_events_shipment_id")),
    )


def downgrade() -> None:
    op.drop_table("tracking_events")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_order_number"))
        batch_op.drop_index("ix_shipments_next_check")
    op.drop_table("shipments")
