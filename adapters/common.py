"""Small pieces every sandbox shares: the injected clock, calendar math, ids, addresses."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

Clock = Callable[[], datetime]

ADDRESS_FIELDS = ("name", "street", "city", "postal_code", "country")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused because its zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(UTC)


def add_business_days(start: date, days: int) -> date:
    """The date `days` working days (Monday to Friday) after `start`; holidays are not known."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def days_for_postal_code(postal_code: str, table: str, default: int) -> int:
    """The sandbox transit time: `table[d]` for a postal code whose last character is digit d."""
    last = postal_code.strip()[-1:]
    return int(table[int(last)]) if last and last in "0123456789" else default


def derive_id(namespace: str, key: str, length: int) -> str:
    """A stable id from an idempotency key, so a retry names the same object."""
    digest = hashlib.sha256(f"{namespace}\0{key}".encode()).hexdigest()
    return digest[:length]


def require_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is required")
    return value.strip()


def require_address(address: Mapping[str, object]) -> dict[str, str]:
    """The address with every field of ADDRESS_FIELDS present and trimmed."""
    missing = [
        field
        for field in ADDRESS_FIELDS
        if not isinstance(address.get(field), str) or not str(address.get(field)).strip()
    ]
    if missing:
        raise ValueError(f"address is missing: {', '.join(missing)}")
    return {field: str(address[field]).strip() for field in ADDRESS_FIELDS}
