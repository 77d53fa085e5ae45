"""The booked video interview on the customer's order page: its time and join link,
and "Move" and "Cancel" until an hour before it. Both send a message the identity
proofing diagram waits for (`appointment_move_requested` with the new `slot`,
`appointment_cancel_requested`); the diagram's handlers decide, and the page reports
what they decided."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from adapters.email import when
from domain.proofing.appointments import TOO_LATE, changeable_until, may_change
from engine.clock import clock
from engine.errors import Conflict, NotFound
from service_layer.reads import shop as shop_reads
from service_layer.system import System

from . import guard

bp = Blueprint("appointments", __name__)
MOVE = "appointment_move_requested"
CANCEL = "appointment_cancel_requested"
DAYS_OFFERED = 14
NOTHING_BOOKED = "There is no booked interview to change."


def appointment(system: System, view: dict[str, Any]) -> dict[str, Any] | None:
    """What the order page shows of the booked interview, or None without one (none
    booked, or the interview is over: the diagram no longer waits for a change)."""
    v = view.get("variables") or {}
    at = v.get("appointment_at")
    if not at or not v.get("appointment_id") or view.get("status") != "running":
        return None
    if not shop_reads.waits_for(system, view["id"], MOVE):
        return None
    changeable = may_change(at, clock.now())
    free = system.services.adapters.appointments.free_slots(clock.now(), DAYS_OFFERED)
    return {
        "at": at,
        "join_url": v.get("appointment_join_url"),
        "changeable": changeable,
        "changeable_until": changeable_until(at),
        "too_late": not changeable,
        "error": v.get("appointment_change_error"),
        "free_slots": [{"id": slot, "name": when(slot)} for slot in free] if changeable else [],
    }


@bp.post("/orders/<instance_id>/appointment/move")
@guard.login_required("customer")
def move(instance_id: str) -> Any:
    slot = request.form.get("slot", "").strip()[:64]
    if not slot:
        flash("Choose the new time for your interview.", "error")
        return _back(instance_id)
    return _request(instance_id, MOVE, {"slot": slot}, f"Your interview is moved to {_when(slot)}.")


@bp.get("/orders/<instance_id>/appointment/cancel")
@guard.login_required("customer")
def confirm_cancel(instance_id: str) -> Any:
    """Ask before cancelling: a click on the order page alone must not lose the time."""
    system = guard.system()
    view = system.engine.instance(instance_id, guard.actor())  # 404 for someone else's
    booked = appointment(system, view)
    if booked is None or not booked["changeable"]:
        flash(TOO_LATE if booked and booked["too_late"] else NOTHING_BOOKED, "error")
        return _back(instance_id)
    return render_template("customer/cancel_interview.html", view=view, appointment=booked)


@bp.post("/orders/<instance_id>/appointment/cancel")
@guard.login_required("customer")
def cancel(instance_id: str) -> Any:
    return _request(instance_id, CANCEL, {}, "Your interview is cancelled. We sent you an email.")


def _request(instance_id: str, message: str, data: dict[str, Any], done: str) -> Any:
    """Send `message` for the customer's own order (404 for anyone else's) while the
    diagram waits for it and the interview is more than an hour away."""
    system = guard.system()
    who = guard.actor()
    view = system.engine.instance(instance_id, who)
    at = (view.get("variables") or {}).get("appointment_at")
    if not view.get("business_key") or not shop_reads.waits_for(system, instance_id, message):
        flash(NOTHING_BOOKED, "error")
        return _back(instance_id)
    if not may_change(at, clock.now()):
        flash(TOO_LATE, "error")
        return _back(instance_id)
    try:
        system.engine.correlate(message, view["business_key"], data, who)
    except (NotFound, Conflict):
        flash(NOTHING_BOOKED, "error")
        return _back(instance_id)
    error = (system.engine.instance(instance_id, who).get("variables") or {}).get(
        "appointment_change_error"
    )
    if error:
        flash(error, "error")
    else:
        flash(done)
    return _back(instance_id)


def _when(slot: str) -> str:
    try:
        return when(slot)
    except ValueError:
        return slot


def _back(instance_id: str) -> Any:
    return redirect(url_for("customer.order", instance_id=instance_id))
