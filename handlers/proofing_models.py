"""Tables of identity proofing, activation and phone registration.

Codes a person types (activation codes, phone codes) are stored only as keyed digests
(HMAC-SHA256 under a key derived from the seed key, which lives outside the database):
a database dump alone reveals no code, and with ~50 bits of entropy and no key an offline
guess is hopeless. A deterministic digest (unlike argon2's salted one) lets the validator
find a code by its digest in one query. Nothing here ever holds SSN digits.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from engine.db import Base, utcnow

CODE_CHANNELS = ("video", "mail")
PHONE_CHANNELS = ("sms", "voice")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def code_digest(key: bytes, purpose: str, code: str) -> str:
    """The stored form of a normalized code; `purpose` keeps activation and phone codes
    (and any later kind) from ever matching each other's digests."""
    subkey = hmac.new(key, f"tokenflow:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(subkey, code.encode(), hashlib.sha256).hexdigest()


class ActivationCode(Base):
    """A single-use activation code issued by video proofing or sent by postal mail."""

    __tablename__ = "activation_codes"
    __table_args__ = (CheckConstraint(_one_of("channel", CODE_CHANNELS), name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"ActivationCode(id={self.id!r}, channel={self.channel!r})"


class SentPhoneCode:
    """What every code sent by SMS or voice call keeps: the channel, the code's keyed
    digest, when it was sent, expires and was used, and the wrong tries against it. The
    tables differ in what a code is for (`PhoneCode`, `lifecycle_models.PhoneOtp`)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (CheckConstraint(_one_of("channel", PHONE_CHANNELS), name="channel"),)

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
    __table_args__ = (CheckConstraint(_one_of("channel", PHONE_CHANNELS), name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_number: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ProofingAttempt(Base):
    """One identity proofing attempt and its outcome, for support and analysts.

    Deliberately without any personal data the bureau saw: no SSN digits, no answers.
    """

    __tablename__ = "proofing_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(16))  # experian | video
    outcome: Mapped[str] = mapped_column(String(16))  # pass | partial | fail | ...
    reference: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VideoAppointment(Base):
    """An instance's booked video interview, kept beside its task data so that the staff
    inboxes can show, sort and filter by the appointment time in one query. One row per
    instance; a move changes it, a cancellation or a missed interview empties it."""

    __tablename__ = "video_appointments"

    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    booking_id: Mapped[str | None] = mapped_column(String(64))
    starts_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


CREDENTIAL_STATUSES = ("active", "expired", "revoked")


class Credential(Base):
    """The customer's OTP credential: the registered token and the subscription's term.

    One per journey, and so one per token of an order (an order of several tokens has
    as many credentials, for whoever entered each key): activation is idempotent, and
    renewal moves `expires_at` on.
    """

    __tablename__ = "credentials"
    __table_args__ = (CheckConstraint(_one_of("status", CREDENTIAL_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    token_serial: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    purchased_at: Mapped[datetime]
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
