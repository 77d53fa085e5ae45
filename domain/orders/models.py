"""The purchase side's tables: card charges, sales orders and their numbers, license keys.

Rows hold what the business needs to answer "what happened to order SO-10042": never card
data (it only passes through `charge_card`) and never a license key in clear (only its
keyed hash).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, one_of, utcnow

ORDER_STATUSES = ("open", "paid", "cancelled")
ORDER_NUMBER_OFFSET = 10000


class OrderNumber(Base):
    """The order-number counter: an autoincrement id is the one thing every backend hands
    out uniquely under concurrency. `sqlite_autoincrement` stops SQLite from reusing the
    highest id after a rollback or delete, so a number is never given twice."""

    __tablename__ = "order_numbers"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def order_number(self) -> str:
        return f"SO-{ORDER_NUMBER_OFFSET + self.id:05d}"


class CardCharge(Base):
    """An approved card charge. The card is charged before the order exists, so the
    charge is kept here (never in task data: the engine refuses output that could echo a
    card field) until `create_sales_order` puts its reference on the order."""

    __tablename__ = "card_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    charge_id: Mapped[str] = mapped_column(String(64), unique=True)
    product: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    charged_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalesOrder(Base):
    __tablename__ = "sales_orders"
    __table_args__ = (CheckConstraint(one_of("status", ORDER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(32), unique=True)
    # One order per journey: a retried or repeated create_sales_order finds this row.
    instance_id: Mapped[str] = mapped_column(String(36), unique=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    product: Mapped[str] = mapped_column(String(64))
    # Tokens in the order, each with its own license key (1 to MAX_QUANTITY).
    quantity: Mapped[int] = mapped_column(default=1)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str | None] = mapped_column(String(16))
    po_number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    invoice_number: Mapped[str | None] = mapped_column(String(32))
    invoice_due: Mapped[date | None]
    # The card charge's id, or the bank reference finance gave with the payment.
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # A paid order cancelled before it shipped: the processor's refund (card) and when.
    refund_reference: Mapped[str | None] = mapped_column(String(64))
    refunded_cents: Mapped[int | None]
    refunded_at: Mapped[datetime | None]
    token_serial: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    estimated_delivery: Mapped[date | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"SalesOrder({self.order_number!r}, status={self.status!r})"
