"""Tables of the credential's life after registration: relying applications, phone codes
sent for sign-in, lost-token replacements and renewals.

An application's API key is stored only as its SHA-256: the key is 256 random bits, so a
plain digest is as good as a slow hash and lets each request find its application with
one indexed lookup. Phone codes are stored only as keyed digests, as in `proofing_models`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow
from handlers.proofing_models import SentPhoneCode

CREDENTIAL_KINDS = ("hardware_token", "phone")
LOSS_CIRCUMSTANCES = ("lost", "stolen", "damaged")


def accepted_kinds(accepts: str) -> frozenset[str]:
    """The kinds in a stored comma list such as `hardware_token,phone`."""
    return frozenset(kind for kind in accepts.split(",") if kind)


class RelyingApp(Base):
    """An application that verifies its users' codes through the API, and its policy:
    the credential kinds it accepts (an aerospace portal may accept hardware tokens only)."""

    __tablename__ = "relying_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    accepts: Mapped[str] = mapped_column(String(64))  # comma list of CREDENTIAL_KINDS
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def accepted(self) -> frozenset[str]:
        return accepted_kinds(self.accepts)

    def __repr__(self) -> str:
        return f"RelyingApp({self.name!r}, accepts={self.accepts!r})"


class PhoneOtp(SentPhoneCode, Base):
    """A sign-in code sent to a customer's registered phone, for one purpose only: an
    application (`app:<id>`) or a lost-token report (`lost_token:<instance>`), so a code
    asked for by one cannot be spent at another."""

    __tablename__ = "phone_otps"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(80), index=True)

    def __repr__(self) -> str:
        return f"PhoneOtp(id={self.id!r}, purpose={self.purpose!r})"


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
