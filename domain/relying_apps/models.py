"""Relying applications: the applications that verify their users' codes through the API.

An application's API key is stored only as its SHA-256: the key is 256 random bits, so a
plain digest is as good as a slow hash and lets each request find its application with
one indexed lookup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

CREDENTIAL_KINDS = ("hardware_token", "phone")


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
