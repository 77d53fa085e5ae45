"""The customer moves or cancels a booked video interview (messages
`appointment_move_requested` and `appointment_cancel_requested`, sent from the order
page), until an hour before it (`domain.proofing.appointments` says when): later, the
request is refused with a message the order page shows (`appointment_change_error`).
"""

from __future__ import annotations

from typing import Any

from adapters.appointments import SlotUnavailable
from domain.proofing.appointments import NOT_OFFERED, TOO_LATE, may_change, record_appointment
from engine.registry import HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.proofing import order_number
from handlers.video_proofing import appointment_variables


@registry.handler()
def move_appointment(ctx: HandlerContext) -> dict[str, Any]:
    """Book the slot the message names, then free the old one, so that a refused move
    keeps the appointment the customer had; email the new time."""
    if not may_change(ctx.data.get("appointment_at"), ctx.now):
        return {"appointment_change_error": TOO_LATE}
    request = ctx.data.get("appointment_move_requested")
    slot = str(request.get("slot") or "") if isinstance(request, dict) else ""
    number = order_number(ctx) or ctx.instance_id
    book = ctx.services.adapters.appointments
    try:
        booking = book.book(slot, number, ctx.idempotency_key)
    except SlotUnavailable as exc:
        return {"appointment_change_error": str(exc)}
    except ValueError:
        return {"appointment_change_error": NOT_OFFERED}
    old = ctx.data.get("appointment_id")
    if old and old != booking.id:
        book.cancel(str(old))
    send_email(
        ctx,
        "appointment_moved",
        order_number=order_number(ctx) or "",
        slot=booking.slot,
        join_url=booking.join_url,
    )
    ctx.audit("appointment.moved", booking=booking.id, slot=booking.slot)
    return {
        **appointment_variables(ctx, booking),
        "slot": booking.slot,
        "appointment_change_error": None,
    }


@registry.handler()
def cancel_appointment(ctx: HandlerContext) -> dict[str, Any]:
    """Free the booking and email the customer, who may then book again (or, in the US
    with an online check left, choose it instead: the diagram decides)."""
    appointment_at = ctx.data.get("appointment_at")
    if not may_change(appointment_at, ctx.now):
        return {"appointment_cancelled": False, "appointment_change_error": TOO_LATE}
    booking = ctx.data.get("appointment_id")
    if booking:
        ctx.services.adapters.appointments.cancel(str(booking))
    record_appointment(ctx.session, ctx.instance_id, None, None, ctx.now)
    send_email(
        ctx, "appointment_cancelled", order_number=order_number(ctx) or "", slot=appointment_at
    )
    ctx.audit("appointment.cancelled", booking=booking)
    return {
        "appointment_cancelled": True,
        "appointment_change_error": None,
        "appointment_id": None,
        "appointment_at": None,
        "appointment_join_url": None,
        "slot": None,
    }
