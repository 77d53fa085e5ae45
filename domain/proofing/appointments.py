"""Video interview appointments: when a booking may still change, and the row the staff
inboxes read.

The customer moves or cancels a booking until an hour before it: later, the agent may
already be preparing, and the request is refused with `TOO_LATE`, which the order page
shows as it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from adapters.appointments import AppointmentBook, parse_slot
from adapters.common import as_utc
from domain.proofing.models import VideoAppointment

CHANGE_DEADLINE = timedelta(hours=1)
TOO_LATE = (
    "Your interview starts in less than an hour, so it can no longer be moved or "
    "cancelled. Please join at the time booked; if you cannot, you can book again "
    "after it."
)
NOT_OFFERED = "That time cannot be booked. Please choose one of the times offered."


def changeable_until(appointment_at: str | datetime | None) -> datetime | None:
    """The last moment a booking may be moved or cancelled (None without a booking)."""
    if not appointment_at:
        return None
    try:
        start = (
            appointment_at
            if isinstance(appointment_at, datetime)
            else datetime.fromisoformat(str(appointment_at))
        )
    except ValueError:
        return None
    return as_utc(start) - CHANGE_DEADLINE


def may_change(appointment_at: str | datetime | None, now: datetime) -> bool:
    until = changeable_until(appointment_at)
    return until is not None and as_utc(now) < until


class NotASlot(Exception):
    """The text names no slot the book could offer."""


def is_free(book: AppointmentBook, slot: str, now: datetime) -> bool:
    """Whether `slot` is still offered (not taken, not passed); NotASlot when it is no
    slot at all."""
    try:
        start = parse_slot(slot)
    except ValueError:
        raise NotASlot(slot) from None
    days = max(1, (start - now).days + 1)
    return slot in book.free_slots(now, days)


def reminder_at(start: datetime, lead: timedelta, now: datetime) -> datetime:
    """When to remind of an interview at `start`: `lead` ahead, never before now."""
    return max(now, start - lead)


def record_appointment(
    session: Session,
    instance_id: str,
    booking_id: str | None,
    start: datetime | None,
    now: datetime,
) -> None:
    """The instance's booked interview as the staff inboxes read it (None: none booked)."""
    row = session.get(VideoAppointment, instance_id)
    if row is None:
        row = VideoAppointment(instance_id=instance_id)
        session.add(row)
    row.booking_id, row.starts_at, row.updated_at = booking_id, start, now
