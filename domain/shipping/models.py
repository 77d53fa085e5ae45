"""The parcels on their way and what the carrier said of them.

A `Shipment` is a parcel Tokenflow follows until the carrier reports it delivered (a
first token, or a replacement for a lost one: both name the credential's order, which is
what `token_delivered` correlates on). Its tracking events are kept once each, so a
repeated report changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

TRACKING_STATUSES = ("in_transit", "out_for_delivery", "delivered")


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_next_check", "next_check_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(64), unique=True)
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    shipped_at: Mapped[datetime]
    # When to ask the carrier again; None once the delivery was reported to the process.
    next_check_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # When `token_delivered` reached the process (or nothing waited for it any more).
    reported_at: Mapped[datetime | None]


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("shipment_id", "status"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in TRACKING_STATUSES)})", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
