"""Parcel carrier: ships a token and tracks it to the door.

Sandbox test inputs: the transit time follows the last digit of the address's postal code,
counted in business days (Monday to Friday) from the day of shipping:

| postal code ends in | 0-3 | 4-6 | 7-9 | anything else |
| ------------------- | --- | --- | --- | ------------- |
| business days       | 3   | 4   | 5   | 4             |

`track` says `in_transit` until the estimated delivery day has passed, `delivered` after.
Tracking numbers look like UPS's: "1Z" and 16 letters or digits. A shipment is recorded
once per idempotency key (`<directory>/<tracking number>.json`; the tracking number is
derived from the key), so a retry returns the first shipment and ships nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

from handlers.adapters.common import (
    add_business_days,
    as_utc,
    days_for_postal_code,
    derive_id,
    require_address,
    require_text,
)
from handlers.adapters.store import JsonFileStore

TrackingStatus = Literal["in_transit", "delivered"]

_TRANSIT_DAYS_BY_LAST_DIGIT = "3333444555"


class UnknownShipment(LookupError):
    """No shipment has this tracking number."""


@dataclass(frozen=True)
class Shipment:
    tracking_number: str
    estimated_delivery: date


class Carrier(Protocol):
    def ship(
        self,
        order_number: str,
        serial: str,
        address: Mapping[str, object],
        idempotency_key: str,
        now: datetime,
    ) -> Shipment: ...

    def track(self, tracking_number: str, now: datetime) -> TrackingStatus: ...


class SandboxCarrier:
    def __init__(self, directory: Path) -> None:
        self._shipments = JsonFileStore(Path(directory))

    def ship(
        self,
        order_number: str,
        serial: str,
        address: Mapping[str, object],
        idempotency_key: str,
        now: datetime,
    ) -> Shipment:
        to = require_address(address)
        request = {
            "order_number": require_text(order_number, "order_number"),
            "serial": require_text(serial, "serial"),
            "address": to,
        }
        tracking_number = "1Z" + derive_id("shipment", idempotency_key, 16).upper()
        transit_days = days_for_postal_code(to["postal_code"], _TRANSIT_DAYS_BY_LAST_DIGIT, 4)
        result = self._shipments.once(
            tracking_number,
            request,
            lambda: {
                "tracking_number": tracking_number,
                "estimated_delivery": add_business_days(
                    as_utc(now).date(), transit_days
                ).isoformat(),
            },
        )
        return Shipment(tracking_number, date.fromisoformat(result["estimated_delivery"]))

    def track(self, tracking_number: str, now: datetime) -> TrackingStatus:
        stored = self._shipments.get(tracking_number)
        if stored is None:
            raise UnknownShipment(f"no shipment with tracking number {tracking_number!r}")
        estimated = date.fromisoformat(stored["result"]["estimated_delivery"])
        return "delivered" if as_utc(now).date() > estimated else "in_transit"
