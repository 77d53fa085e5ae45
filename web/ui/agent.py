"""Staff inboxes, one per lane and one of the tasks naming the person or their groups,
and finance's "Record payment"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine.errors import Conflict, NotFound, ProcessIncident
from service_layer.reads import inbox as inbox_reads
from service_layer.reads import pages as reads

from . import guard

bp = Blueprint("agent", __name__)
LANES = {
    "proofing_agent": "Identity proofing",
    "support": "Support",
    "finance": "Finance",
}
SLA_BREACH = "license_key_sla_breach"
MAX_REFERENCE = 200
# A proofing agent's day: today's interviews first.
DEFAULT_SORT = {"proofing_agent": "appointment"}


@bp.get("/inbox")
@guard.login_required()
def assigned() -> Any:
    """The tasks that name this person or one of their groups, whatever their lane."""
    who = guard.actor()
    query = _query("created")
    tasks, total = inbox_reads.named_tasks(guard.system(), who, query)
    return _render(None, "Assigned to me and my groups", tasks, total, query, [])


@bp.get("/inbox/<role>")
@guard.login_required(*LANES)
def inbox(role: str) -> Any:
    if role not in LANES:
        abort(404)
    who = guard.actor()
    if not who.may_work_lane(role):
        abort(403, "This inbox belongs to another team.")
    query = _query(DEFAULT_SORT.get(role, "created"))
    tasks, total = inbox_reads.lane_tasks(guard.system(), role, query)
    unpaid = reads.awaiting_payment(guard.system()) if role == "finance" else []
    return _render(role, LANES[role], tasks, total, query, unpaid)


def _render(
    role: str | None,
    title: str,
    tasks: list[dict[str, Any]],
    total: int,
    query: inbox_reads.InboxQuery,
    unpaid: list[dict[str, Any]],
) -> Any:
    who = guard.actor()
    return render_template(
        "agent/inbox.html",
        role=role,
        title=title,
        tasks=[t for t in tasks if t["name"] != SLA_BREACH],
        breaches=[t for t in tasks if t["name"] == SLA_BREACH],
        total=total,
        query=query,
        sorts=inbox_reads.SORTS,
        windows=inbox_reads.WINDOWS,
        page=inbox_reads.INBOX_PAGE,
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


def _query(default_sort: str) -> inbox_reads.InboxQuery:
    """The inbox's query parameters; anything unknown falls back to the default."""
    offset = request.args.get("offset", "0")
    sort = request.args.get("sort", default_sort)
    due = request.args.get("due", "")
    appointment = request.args.get("appointment", "")
    return inbox_reads.InboxQuery(
        sort=sort if sort in inbox_reads.SORTS else default_sort,
        due=due if due in inbox_reads.WINDOWS else "",
        appointment=appointment if appointment in inbox_reads.WINDOWS else "",
        offset=int(offset) if offset.isdigit() and len(offset) < 10 else 0,
    )


def _lowered(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
