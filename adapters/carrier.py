"""Parcel carrier: ships a token and tracks it to the door.

Tokenflow asks the carrier about each parcel on the move (`track`), as a shop does with a
carrier's tracking API: that needs no endpoint the carrier must reach (the embedded
default listens on loopback) and no shared secret, and a missed check is simply made at
the next one. Each answer lists every tracking event so far and when to ask again.

Sandbox: a parcel is delivered `delivery_after` after it was shipped
(`TOKENFLOW_SANDBOX_DELIVERY_AFTER`, default three days); on the way it is

| event              | at, after shipping     |
| ------------------ | ---------------------- |
| `in_transit`       | a quarter of the time  |
| `out_for_delivery` | three quarters         |
| `delivered`        | the whole time         |

Tracking numbers look like UPS's: "1Z" and 16 letters or digits. A shipment is recorded
once per idempotency key (`<directory>/<tracking number>.json`; the tracking number is
derived from the key), so a retry returns the first shipment and ships nothing more. Its
schedule is fixed when it ships: changing the setting later moves no parcel already sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

from adapters.common import as_utc, derive_id, require_address, require_text
from adapters.store import JsonFileStore

TrackingStatus = Literal["in_transit", "out_for_delivery", "delivered"]

DEFAULT_DELIVERY_AFTER = timedelta(days=3)
# (status, share of the delivery time after which the carrier reports it)
_SANDBOX_SCHEDULE: tuple[tuple[TrackingStatus, float], ...] = (
    ("in_transit", 0.25),
    ("out_for_delivery", 0.75),
    ("delivered", 1.0),
)


class UnknownShipment(LookupError):
    """No shipment has this tracking number."""


@dataclass(frozen=True)
class Shipment:
    tracking_number: str
    estimated_delivery: date


@dataclass(frozen=True)
class TrackingEvent:
    status: TrackingStatus
    occurred_at: datetime


@dataclass(frozen=True)
class TrackingReport:
    """What the carrier knows of a parcel: its events so far, oldest first, and when
    asking again may tell more (None once it is delivered)."""

    events: tuple[TrackingEvent, ...]
    check_again_at: datetime | None

    @property
    def delivered(self) -> TrackingEvent | None:
        return next((e for e in self.events if e.status == "delivered"), None)


class Carrier(Protocol):
    def ship(
        self,
        order_number: str,
        serial: str,
        address: Mapping[str, object],
        idempotency_key: str,
        now: datetime,
    ) -> Shipment: ...

    def track(self, tracking_number: str, now: datetime) -> TrackingReport: ...


class SandboxCarrier:
    def __init__(self, directory: Path, delivery_after: timedelta = DEFAULT_DELIVERY_AFTER) -> None:
        if delivery_after <= timedelta(0):
            raise ValueError("the sandbox carrier's delivery time must be longer than zero")
        self._shipments = JsonFileStore(Path(directory))
        self._delivery_after = delivery_after

    def ship(
        self,
        order_number: str,
        serial: str,
        address: Mapping[str, object],
        idempotency_key: str,
        now: datetime,
    ) -> Shipment:
        request = {
            "order_number": require_text(order_number, "order_number"),
            "serial": require_text(serial, "serial"),
            "address": require_address(address),
        }
        shipped_at = as_utc(now)
        tracking_number = "1Z" + derive_id("shipment", idempotency_key, 16).upper()
        delivery = shipped_at + self._delivery_after
        result = self._shipments.once(
            tracking_number,
            request,
            lambda: {
                "tracking_number": tracking_number,
                "shipped_at": shipped_at.isoformat(),
                "delivery_after_seconds": self._delivery_after.total_seconds(),
                "estimated_delivery": delivery.date().isoformat(),
            },
        )
        return Shipment(tracking_number, date.fromisoformat(result["estimated_delivery"]))

    def track(self, tracking_number: str, now: datetime) -> TrackingReport:
        stored = self._shipments.get(tracking_number)
        if stored is None:
            raise UnknownShipment(f"no shipment with tracking number {tracking_number!r}")
        shipped_at = datetime.fromisoformat(stored["result"]["shipped_at"])
        after = timedelta(seconds=stored["result"]["delivery_after_seconds"])
        schedule = [(status, shipped_at + after * share) for status, share in _SANDBOX_SCHEDULE]
        now = as_utc(now)
        events = tuple(TrackingEvent(status, at) for status, at in schedule if at <= now)
        upcoming = [at for _, at in schedule if at > now]
        return TrackingReport(events, min(upcoming) if upcoming else None)
