"""The `hardware_tokens` table: one row per physical token from a vendor's seed file.

The row carries everything needed to verify a code (algorithm, digits, period or counter,
replay guard, learnt drift) next to the sealed secret, so verification needs one read.
The secret is sealed (see `seed_crypto`) and kept out of `__repr__` so that logs and
tracebacks never show it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.tokens import otp
from domain.tokens.otp import Match, OtpParams
from engine.db import Base, one_of, utcnow

KINDS = ("totp", "hotp")
ALGORITHMS = ("SHA1", "SHA256", "SHA512")
STATUSES = ("available", "allocated", "active", "locked", "revoked")


class HardwareToken(Base):
    """A hardware OTP token: its OTP parameters, sealed seed and life-cycle state."""

    __tablename__ = "hardware_tokens"
    __table_args__ = (
        CheckConstraint(one_of("kind", KINDS), name="kind"),
        CheckConstraint(one_of("algorithm", ALGORITHMS), name="algorithm"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    algorithm: Mapped[str] = mapped_column(String(8))
    digits: Mapped[int] = mapped_column(Integer)
    period: Mapped[int | None] = mapped_column(Integer)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="available", index=True)
    batch: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    last_time_step: Mapped[int | None] = mapped_column(BigInteger)
    drift_steps: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"HardwareToken(id={self.id!r}, serial={self.serial!r}, kind={self.kind!r}, "
            f"status={self.status!r})"
        )

    def otp_params(self) -> OtpParams:
        return otp.params_of(self)

    def record_match(self, match: Match) -> None:
        otp.record_match(self, match)
