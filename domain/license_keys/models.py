"""License keys: single-use, stored only as a keyed hash of their normalized form.

The clear key is re-derivable from (instance_id, order_number, sequence) by whoever
holds the seed key (`domain.license_keys.keys`); a database dump cannot be searched for keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, one_of, utcnow

LICENSE_KEY_STATUSES = ("issued", "used", "inactive", "replaced")


class LicenseKey(Base):
    """A single-use license key, stored as HMAC-SHA256 of its normalized form under a key
    derived from the seed key, so a database dump cannot be searched for keys offline.
    The clear key is re-derivable from (instance_id, order_number, sequence) by whoever
    holds the seed key; see `domain.license_keys.keys`."""

    __tablename__ = "license_keys"
    __table_args__ = (
        CheckConstraint(one_of("status", LICENSE_KEY_STATUSES), name="status"),
        UniqueConstraint("order_number", "sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    # Order of issue within the order: 1, 2, ... (replacements included).
    sequence: Mapped[int]
    # Which of the order's tokens the key goes with: the order's n-th allocated token.
    # A replacement takes over the position of the key it replaces.
    position: Mapped[int] = mapped_column(default=1)
    instance_id: Mapped[str] = mapped_column(String(36))
    # The service task that issued it (`<task id>/<position>` past the first position):
    # a repeated run of that task finds it again.
    issued_by_task: Mapped[str] = mapped_column(String(48), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    used_by_owner_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    used_in_instance_id: Mapped[str | None] = mapped_column(String(36))

    def __repr__(self) -> str:
        return f"LicenseKey(id={self.id!r}, order={self.order_number!r}, status={self.status!r})"
