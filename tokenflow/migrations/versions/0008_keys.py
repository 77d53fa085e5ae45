"""orders of several tokens: order quantity, license key positions, a credential per token

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:30:00

Existing orders have one token and one key position; existing credentials stay as they
are (one per order so far), only the uniqueness of their order number goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quantity", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("license_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="1"))
        batch_op.alter_column(
            "issued_by_task", existing_type=sa.String(length=36), type_=sa.String(length=48)
        )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_constraint("uq_credentials_order_number", type_="unique")
        batch_op.create_index(
            batch_op.f("ix_credentials_order_number"), ["order_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_order_number"))
        batch_op.create_unique_constraint("uq_credentials_order_number", ["order_number"])
    with op.batch_alter_table("license_keys", schema=None) as batch_op:
        batch_op.alter_column(
            "issued_by_task", existing_type=sa.String(length=48), type_=sa.String(length=36)
        )
        batch_op.drop_column("position")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_column("quantity")
