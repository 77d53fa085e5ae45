"""the product catalog, seeded with the two products and their prices

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The prices the shop opens with; admins and analysts change them on the catalog page.
SEED = (
    ("token_with_proofing", "OTP hardware token with identity proofing, 1-year subscription", 8900),
    ("token_without_proofing", "OTP hardware token, 1-year subscription", 4900),
)


def upgrade() -> None:
    products = op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=150), nullable=True),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_products_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    now = engine.db.utcnow()
    op.bulk_insert(
        products,
        [
            {"sku": sku, "name": name, "price_cents": cents, "currency": "USD", "updated_at": now}
            for sku, name, cents in SEED
        ],
    )


def downgrade() -> None:
    op.drop_table("products")
