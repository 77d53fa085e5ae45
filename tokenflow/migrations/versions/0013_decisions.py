"""DMN decisions, deployed and versioned beside the processes; bundles pin their versions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:40:00

Bundles made before this revision evaluate no decision (a business rule task could not be
deployed), so each gets an empty list.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("deployed_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deployed_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_definitions")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_decision_definitions_key")),
    )
    with op.batch_alter_table("decision_definitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_definitions_key"), ["key"], unique=False)
    with op.batch_alter_table("spec_bundles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_ids", sa.JSON(), nullable=True))
    bundles = sa.table("spec_bundles", sa.column("decision_ids", sa.JSON()))
    op.get_bind().execute(bundles.update().values(decision_ids=[]))
    with op.batch_alter_table("spec_bundles", schema=None) as batch_op:
        batch_op.alter_column("decision_ids", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("spec_bundles", schema=None) as batch_op:
        batch_op.drop_column("decision_ids")
    with op.batch_alter_table("decision_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_definitions_key"))
    op.drop_table("decision_definitions")
