"""Live video proofing: offering slots, booking, reminding, a missed appointment and a
rejected interview.

The interview itself is the agent's user task; approval issues an activation code (see
`activation`); a rejection is recorded as a failed attempt and, while attempts remain,
the customer is told and may book again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.appointments import Booking, SlotUnavailable
from adapters.email import when
from domain.proofing.appointments import NotASlot, is_free, record_appointment, reminder_at
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.proofing import order_number, record_attempt

DEFAULT_DAYS_AHEAD = "P14D"
DEFAULT_REMINDER_BEFORE = "PT24H"


@registry.handler()
def list_free_slots(ctx: HandlerContext) -> dict[str, Any]:
    """The open appointment slots, as the options of the `slot` field."""
    ahead = parse_duration(ctx.config.get("days_ahead") or DEFAULT_DAYS_AHEAD)
    slots = ctx.services.adapters.appointments.free_slots(ctx.now, max(1, ahead.days))
    return {"free_slots": [{"id": slot, "name": when(slot)} for slot in slots]}


@registry.validator()
def check_slot_free(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Refuse a slot taken (or passed) since the list was shown, while the customer is
    still on the form; `book_appointment` then books it in the same step."""
    slot = str(values.get("slot") or "")
    try:
        free = is_free(ctx.services.adapters.appointments, slot, ctx.now)
    except NotASlot:
        raise FieldErrors({"slot": "Choose one of the times offered."}) from None
    if not free:
        raise FieldErrors({"slot": "This time is no longer free. Please choose another."})
    return {}


@registry.handler()
def book_appointment(ctx: HandlerContext) -> dict[str, Any]:
    """Book the chosen slot and confirm it by email. A slot taken in the instant since
    `check_slot_free` throws `slot_unavailable`, and the diagram lists the slots again."""
    slot = str(ctx.data.get("slot") or "")
    try:
        booking = ctx.services.adapters.appointments.book(
            slot, order_number(ctx) or ctx.instance_id, ctx.idempotency_key
        )
    except (SlotUnavailable, ValueError) as exc:
        raise BpmnError("slot_unavailable", str(exc), {"slot_error": str(exc)}) from None
    send_email(
        ctx,
        "appointment_confirmation",
        order_number=order_number(ctx) or "",
        slot=booking.slot,
        join_url=booking.join_url,
    )
    ctx.audit("appointment.booked", booking=booking.id, slot=booking.slot)
    return {**appointment_variables(ctx, booking), "slot_error": None}


def appointment_variables(ctx: HandlerContext, booking: Booking) -> dict[str, Any]:
    """What the journey keeps of a booking (and the inboxes' row of it); the reminder is
    due `reminder_before` (the task's config) ahead, never before now."""
    start = datetime.fromisoformat(booking.slot)
    record_appointment(ctx.session, ctx.instance_id, booking.id, start, ctx.now)
    lead = parse_duration(ctx.config.get("reminder_before") or DEFAULT_REMINDER_BEFORE)
    return {
        "appointment_id": booking.id,
        "appointment_at": booking.slot,
        "appointment_join_url": booking.join_url,
        "appointment_reminder_at": reminder_at(start, lead, ctx.now).isoformat(),
    }


@registry.handler()
def send_appointment_reminder(ctx: HandlerContext) -> dict[str, Any]:
    """Remind the customer of the appointment (the diagram's timer decides when), once
    per booking: after a refused move or cancel the timer passes here again."""
    booking = ctx.data.get("appointment_id")
    if booking and ctx.data.get("appointment_reminded_for") == booking:
        return {}
    send_email(
        ctx,
        "appointment_reminder",
        order_number=order_number(ctx) or "",
        slot=ctx.data["appointment_at"],
        join_url=ctx.data["appointment_join_url"],
    )
    return {"appointment_reminded_at": ctx.now.isoformat(), "appointment_reminded_for": booking}


@registry.handler()
def record_no_show(ctx: HandlerContext) -> dict[str, Any]:
    """The customer did not join: free the booking and invite them to book again. A
    no-show proves nothing about identity, so it spends no proofing attempt; the count
    lets an analyst stop endless rebooking in the diagram."""
    booking = ctx.data.get("appointment_id")
    if booking:
        ctx.services.adapters.appointments.cancel(str(booking))
    record_appointment(ctx.session, ctx.instance_id, None, None, ctx.now)
    record_attempt(ctx, "video", "no_show", booking)
    send_email(
        ctx,
        "appointment_missed",
        order_number=order_number(ctx) or "",
        slot=ctx.data.get("appointment_at") or ctx.now.isoformat(),
    )
    return {"video_no_shows": int(ctx.data.get("video_no_shows") or 0) + 1, "appointment_id": None}


@registry.handler()
def record_interview_rejected(ctx: HandlerContext) -> dict[str, Any]:
    """The agent did not approve the interview: a failed proofing attempt, recorded (with
    no reason: the agent's notes stay on the task) and counted against the limit."""
    record_attempt(ctx, "video", "fail", ctx.data.get("appointment_id"))
    return {"proofing_failures": int(ctx.data.get("proofing_failures") or 0) + 1}


@registry.handler()
def send_interview_rejected(ctx: HandlerContext) -> dict[str, Any]:
    """Attempts remain after a rejected interview: tell the customer, who was not there
    when the agent decided, and invite them to book another. The diagram runs this only
    on that branch; with no attempt left the license key's deactivation email says it."""
    send_email(
        ctx,
        "interview_not_passed",
        order_number=order_number(ctx) or "",
        slot=ctx.data.get("appointment_at") or ctx.now.isoformat(),
    )
    return {}
