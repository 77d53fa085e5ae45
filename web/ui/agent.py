"""Staff inboxes, one per lane and one of the tasks naming the person or their groups,
and finance's "Record payment"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine.errors import Conflict, NotFound, ProcessIncident

from . import guard, reads

bp = Blueprint("agent", __name__)
LANES = {
    "proofing_agent": "Identity proofing",
    "support": "Support",
    "finance": "Finance",
}
SLA_BREACH = "license_key_sla_breach"
# The inbox's orders (engine.queries.TASK_ORDERS) as its "Sort by" links name them.
SORTS = {
    "created": "Waiting longest",
    "due": "Due",
    "follow_up": "Follow-up",
    "priority": "Priority",
}
MAX_REFERENCE = 200


@bp.get("/inbox")
@guard.login_required()
def assigned() -> Any:
    """The tasks that name this person or one of their groups, whatever their lane."""
    who = guard.actor()
    start, sort = _offset(), _sort()
    tasks, total = reads.assigned(guard.system(), who, start, sort)
    return render_template(
        "agent/inbox.html",
        role=None,
        title="Assigned to me and my groups",
        tasks=tasks,
        breaches=[],
        total=total,
        offset=start,
        sort=sort,
        sorts=SORTS,
        page=reads.INBOX_PAGE,
        unpaid=[],
        lanes=[lane for lane in LANES if who.may_work_lane(lane)],
    )


@bp.get("/inbox/<role>")
@guard.login_required(*LANES)
def inbox(role: str) -> Any:
    if role not in LANES:
        abort(404)
    who = guard.actor()
    if not who.may_work_lane(role):
        abort(403, "This inbox belongs to another team.")
    start, sort = _offset(), _sort()
    tasks, total = reads.inbox(guard.system(), role, start, sort)
    breaches = [t for t in tasks if t["name"] == SLA_BREACH]
    others = [t for t in tasks if t["name"] != SLA_BREACH]
    unpaid = reads.awaiting_payment(guard.system()) if role == "finance" else []
    return render_template(
        "agent/inbox.html",
        role=role,
        title=LANES[role],
        tasks=others,
        breaches=breaches,
        total=total,
        offset=start,
        sort=sort,
        sorts=SORTS,
        page=reads.INBOX_PAGE,
        unpaid=unpaid,
        lanes=[lane for lane in LANES if who.may_work_lane(lane)],
    )


@bp.post("/finance/payments")
@guard.login_required("finance")
def record_payment() -> Any:
    order_number = request.form.get("order_number", "").strip().upper()[:100]
    reference = request.form.get("reference", "").strip()[:MAX_REFERENCE]
    back = url_for("agent.inbox", role="finance")
    if not order_number:
        flash("Enter the order number the payment is for.", "error")
        return redirect(back)
    data = {"reference": reference} if reference else {}
    try:
        guard.system().engine.correlate("payment_received", order_number, data, guard.actor())
    except ProcessIncident as exc:
        flash(f"Payment recorded for {order_number}, but {_lowered(exc.detail)}", "error")
    except (NotFound, Conflict) as exc:
        flash(f"Not recorded: {exc.detail}", "error")
    else:
        flash(f"Payment recorded for {order_number}.")
    return redirect(back)


@bp.post("/support/resend-license-key")
@guard.login_required("support")
def resend_license_key() -> Any:
    """At a customer's request: a new key by email while the old one is not used yet."""
    order_number = request.form.get("order_number", "").strip().upper()[:100]
    back = url_for("agent.inbox", role="support")
    if not order_number:
        flash("Enter the order number whose key should be sent again.", "error")
        return redirect(back)
    try:
        guard.system().engine.correlate("resend_license_key", order_number, {}, guard.actor())
    except ProcessIncident as exc:
        flash(f"Asked for {order_number}, but {_lowered(exc.detail)}", "error")
    except (NotFound, Conflict) as exc:
        flash(f"Not sent: {exc.detail} (the key may already be entered)", "error")
    else:
        flash(f"A new license key is on its way for {order_number}.")
    return redirect(back)


def _offset() -> int:
    offset = request.args.get("offset", "0")
    return int(offset) if offset.isdigit() and len(offset) < 10 else 0


def _sort() -> str:
    sort = request.args.get("sort", "created")
    return sort if sort in SORTS else "created"


def _lowered(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
