"""Tables of identity proofing and activation: each proofing attempt and its outcome, the
booked video interview, and the activation codes (stored only as keyed digests,
`domain.codes`). Nothing here ever holds SSN digits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, one_of, utcnow

CODE_CHANNELS = ("video", "mail")


class ActivationCode(Base):
    """A single-use activation code issued by video proofing or sent by postal mail."""

    __tablename__ = "activation_codes"
    __table_args__ = (CheckConstraint(one_of("channel", CODE_CHANNELS), name="channel"),)

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
