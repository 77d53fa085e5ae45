"""Phone tables: the codes sent by SMS or voice call (in registration, and for sign-in),
and the verified phone kept as the customer's backup credential.

Codes are stored only as keyed digests (`domain.codes.code_digest`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from engine.db import Base, one_of, utcnow

PHONE_CHANNELS = ("sms", "voice")


class SentPhoneCode:
    """What every code sent by SMS or voice call keeps: the channel, the code's keyed
    digest, when it was sent, expires and was used, and the wrong tries against it. The
    tables differ in what a code is for (`PhoneCode`, `lifecycle_models.PhoneOtp`)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (CheckConstraint(one_of("channel", PHONE_CHANNELS), name="channel"),)

    channel: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class PhoneCode(SentPhoneCode, Base):
    """A short-lived code sent to a phone in registration, to prove the customer holds it."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    phone_number: Mapped[str] = mapped_column(String(16))

    def __repr__(self) -> str:
        return f"PhoneCode(id={self.id!r}, channel={self.channel!r})"


class PhoneCredential(Base):
    """A verified phone: the customer's backup credential (OTP by SMS or voice)."""

    __tablename__ = "phone_credentials"
    __table_args__ = (CheckConstraint(one_of("channel", PHONE_CHANNELS), name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_number: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


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
