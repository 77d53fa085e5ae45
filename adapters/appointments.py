"""Video proofing appointments with the identity proofing agents.

Sandbox rules: slots start every 30 minutes from 09:00 to 16:30 UTC, Monday to Friday, one
customer per slot; a slot is offered while it is in the future and not booked. A booking is
made once per idempotency key (`<directory>/bookings/<booking id>.json`, the id derived from
the key) and holds its slot (`<directory>/slots/<slot>.json`); a retry returns the first
booking. A cancelled booking (`<directory>/cancellations/`) frees its slot; booking again
needs a new idempotency key.

Test inputs: book a slot twice with different keys to see "taken"; book a past slot (or pass
a clock that has moved on) to see "past"; a time off the grid is a ValueError.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from adapters.common import Clock, as_utc, derive_id, require_text, utcnow
from adapters.store import JsonFileStore

SLOT_LENGTH = timedelta(minutes=30)
FIRST_SLOT = time(9, 0)
LAST_SLOT = time(16, 30)


class SlotUnavailable(Exception):
    """The slot cannot be booked; the message says why, for the customer."""


class UnknownBooking(LookupError):
    """No booking has this id."""


@dataclass(frozen=True)
class Booking:
    id: str
    slot: str
    join_url: str


class AppointmentBook(Protocol):
    def free_slots(self, now: datetime, days: int = 7) -> list[str]: ...

    def book(self, slot: str, order_number: str, idempotency_key: str) -> Booking: ...

    def cancel(self, booking_id: str) -> None: ...


def is_slot(moment: datetime) -> bool:
    """True when `moment` (UTC) starts a slot on the grid."""
    return (
        moment.weekday() < 5
        and FIRST_SLOT <= moment.time() <= LAST_SLOT
        and moment.minute in (0, 30)
        and moment.second == 0
        and moment.microsecond == 0
    )


def parse_slot(slot: str) -> datetime:
    """The slot's start in UTC; ValueError for text that is not a slot on the grid."""
    try:
        moment = as_utc(datetime.fromisoformat(slot))
    except (TypeError, ValueError):
        raise ValueError(f"{slot!r} is not a date and time with a time zone") from None
    if not is_slot(moment):
        raise ValueError(f"{slot!r} is not an appointment slot")
    return moment


def _slot_name(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M}Z"


class SandboxAppointmentBook:
    def __init__(
        self,
        directory: Path,
        clock: Clock = utcnow,
        join_base_url: str = "https://video.sandbox.tokenflow.test/join/",
    ) -> None:
        self._bookings = JsonFileStore(Path(directory) / "bookings")
        self._slots = JsonFileStore(Path(directory) / "slots")
        self._cancellations = JsonFileStore(Path(directory) / "cancellations")
        self._clock = clock
        self._join_base_url = join_base_url

    def free_slots(self, now: datetime, days: int = 7) -> list[str]:
        """ISO start times of the open slots after `now` and within `days` days of it."""
        start, end = as_utc(now), as_utc(now) + timedelta(days=days)
        moment = datetime.combine(start.date(), FIRST_SLOT, start.tzinfo)
        free: list[str] = []
        while moment <= end:
            if moment > start and is_slot(moment) and self._slots.get(_slot_name(moment)) is None:
                free.append(moment.isoformat())
            moment += SLOT_LENGTH
        return free

    def book(self, slot: str, order_number: str, idempotency_key: str) -> Booking:
        moment = parse_slot(slot)
        booking_id = "bk_" + derive_id("booking", idempotency_key, 20)
        request = {"slot": moment.isoformat(), "order_number": require_text(order_number, "order")}
        booked = self._bookings.recall(booking_id, request)
        if booked is None:
            if moment <= as_utc(self._clock()):
                raise SlotUnavailable("That time has passed; please choose a later slot.")
            holder = self._slots.create(_slot_name(moment), {"booking_id": booking_id})
            if holder["booking_id"] != booking_id:
                raise SlotUnavailable("That slot has just been taken; please choose another.")
            booked = self._bookings.remember(
                booking_id,
                request,
                {
                    "id": booking_id,
                    "slot": moment.isoformat(),
                    # Like a video service's meeting link: unique and unguessable.
                    "join_url": self._join_base_url + secrets.token_urlsafe(24),
                },
            )
        if self._cancellations.get(booking_id) is not None:
            raise SlotUnavailable("This booking was cancelled; book again with a new key.")
        return Booking(**booked)

    def cancel(self, booking_id: str) -> None:
        """Cancel the booking and free its slot; cancelling twice is harmless."""
        stored = self._bookings.get(booking_id)
        if stored is None:
            raise UnknownBooking(f"no booking {booking_id!r}")
        self._cancellations.create(booking_id, {"booking_id": booking_id})
        name = _slot_name(datetime.fromisoformat(stored["result"]["slot"]))
        holder = self._slots.get(name)
        if holder is not None and holder["booking_id"] == booking_id:
            self._slots.delete(name)
