"""The customer's credentials and their life after registration: the credential and its
term, lost-token replacements and renewals.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, one_of, utcnow

CREDENTIAL_STATUSES = ("active", "expired", "revoked")


class Credential(Base):
    """The customer's OTP credential: the registered token and the subscription's term.

    One per journey, and so one per token of an order (an order of several tokens has
    as many credentials, for whoever entered each key): activation is idempotent, and
    renewal moves `expires_at` on.
    """

    __tablename__ = "credentials"
    __table_args__ = (CheckConstraint(one_of("status", CREDENTIAL_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    token_serial: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    purchased_at: Mapped[datetime]
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


LOSS_CIRCUMSTANCES = ("lost", "stolen", "damaged")


class TokenReplacement(Base):
    """One lost-token report: which token was revoked, and which replaced it."""

    __tablename__ = "token_replacements"
    __table_args__ = (
        CheckConstraint("circumstances IN ('lost', 'stolen', 'damaged')", name="circumstances"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), unique=True)
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    lost_serial: Mapped[str] = mapped_column(String(64), index=True)
    circumstances: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    replacement_serial: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime | None]


class Renewal(Base):
    """A paid renewal and the term it buys: charged by one task (one row per task run, so
    a retry never charges twice), applied to the credential by the next (`applied_at`)."""

    __tablename__ = "renewals"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    charge_id: Mapped[str | None] = mapped_column(String(64))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    previous_expires_at: Mapped[datetime]
    new_expires_at: Mapped[datetime]
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
