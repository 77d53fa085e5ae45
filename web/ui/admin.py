"""The operator's pages: instances with filters and paging, one instance in full, and
the actions on it (suspend, resume, terminate, send a message it waits for, run a job
now, retry an incident)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from engine.errors import Conflict, InvalidInput, NotFound, ProcessIncident
from engine.queries import InstanceFilter
from service_layer import applications, processes
from service_layer.reads import pages as reads

from . import audit_words, guard

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZES = (25, 50, 100)
EVENTS_PER_PAGE = 50
STATUSES = ("running", "incident", "suspended", "completed", "terminated")
PROCESSES = (
    "hardware_token",
    "purchase",
    "shipping",
    "license_key_delivery",
    "identity_proofing",
    "registration",
)


def _day(name: str) -> date | None:
    raw = request.args.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _number(name: str, default: int, high: int) -> int:
    raw = request.args.get(name, "")
    return min(int(raw), high) if raw.isdigit() and len(raw) < 10 else default


@bp.get("/instances")
@guard.login_required("admin")
def instances() -> Any:
    limit = _number("limit", PAGE_SIZES[0], PAGE_SIZES[-1])
    offset = _number("offset", 0, 10**9)
    filters = {
        "process": request.args.get("process") or None,
        "status": request.args.get("status") or None,
        "business_key": request.args.get("business_key", "").strip()[:100] or None,
    }
    since, until = _day("from"), _day("to")
    where = InstanceFilter(
        **filters,
        created_from=datetime.combine(since, time(), UTC) if since else None,
        # `to` is inclusive: everything created on that day
        created_to=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
    )
    items, total = processes.list_instances(guard.system(), guard.actor(), where, limit, offset)
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return render_template(
        "admin/instances.html",
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        filters={**filters, "from": since, "to": until},
        args=args,
        statuses=STATUSES,
        processes=PROCESSES,
        page_sizes=PAGE_SIZES,
    )


@bp.get("/instances/<instance_id>")
@guard.login_required("admin")
def instance(instance_id: str) -> Any:
    who = guard.actor()
    view = guard.system().engine.instance(instance_id, who)
    page = _number("events_page", 1, 10**6) or 1
    extra = reads.instance_admin(guard.system(), who, instance_id, page, EVENTS_PER_PAGE)
    extra["events"] = audit_words.in_words(extra["events"], extra.pop("titles"))
    pages = max(1, -(-extra["events_total"] // EVENTS_PER_PAGE))
    return render_template(
        "admin/instance.html", view=view, events_page=min(page, pages), events_pages=pages, **extra
    )


@bp.get("/instances/<instance_id>/elements.json")
@guard.login_required("admin")
def elements(instance_id: str) -> Any:
    """Completed and current elements, for the diagram on the instance page."""
    return jsonify(guard.system().engine.element_states(instance_id, guard.actor()))


@bp.post("/instances/<instance_id>/<any(suspend, resume, terminate):action>")
@guard.login_required("admin")
def change(instance_id: str, action: str) -> Any:
    try:
        guard.system().engine.set_status(instance_id, action, guard.actor())
    except (Conflict, ProcessIncident) as exc:
        flash(exc.detail, "error")
    else:
        flash({"suspend": "Suspended.", "resume": "Resumed.", "terminate": "Terminated."}[action])
    return redirect(url_for("admin.instance", instance_id=instance_id))


@bp.post("/instances/<instance_id>/messages")
@guard.login_required("admin")
def send_message(instance_id: str) -> Any:
    """What `POST /api/v1/messages` does, from the page: the form offers the messages the
    instance waits for, with their correlation keys filled in."""
    name = request.form.get("name", "").strip()
    key = request.form.get("correlation_key", "").strip()
    try:
        data = json.loads(request.form.get("data", "").strip() or "{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        flash('The data must be a JSON object, such as {"carrier_status": "delivered"}.', "error")
        return _back(instance_id)
    try:
        guard.system().engine.deliver(name, key, data, guard.actor())
    except (NotFound, Conflict, InvalidInput, ProcessIncident) as exc:
        flash(exc.detail, "error")
    else:
        flash(f"Message {name} sent.")
    return _back(instance_id)


@bp.post("/jobs/<int(max=2147483647):job_id>/run")
@guard.login_required("admin")
def run_job(job_id: int) -> Any:
    instance_id = request.form.get("instance_id", "")
    try:
        ran = guard.system().engine.execute_job(job_id, actor=guard.actor())
    except (NotFound, Conflict, ProcessIncident) as exc:
        flash(exc.detail, "error")
    else:
        flash("Job run." if ran else "The job did not run: the instance is not running.")
    return _back(instance_id)


@bp.post("/incidents/<int(max=2147483647):incident_id>/retry")
@guard.login_required("admin")
def retry(incident_id: int) -> Any:
    instance_id = request.form.get("instance_id", "")
    try:
        guard.system().engine.retry_incident(incident_id, guard.actor())
    except (NotFound, Conflict, ProcessIncident) as exc:
        flash(exc.detail, "error")
    else:
        flash("Incident retried.")
    return _back(instance_id)


def _back(instance_id: str) -> Any:
    if instance_id and len(instance_id) <= 36:
        return redirect(url_for("admin.instance", instance_id=instance_id))
    return redirect(url_for("admin.instances"))


@bp.get("/apps")
@guard.login_required("admin")
def apps() -> Any:
    """Relying applications: who may verify codes, and which credentials they accept."""
    return render_template("admin/apps.html", apps=applications.list_applications(guard.system()))


@bp.post("/apps")
@guard.login_required("admin")
def create_app() -> Any:
    name = request.form.get("name", "").strip()[:64]
    accepts = ",".join(request.form.getlist("accepts"))
    try:
        app, key = applications.register_application(
            guard.system(), guard.actor().name, name, accepts
        )
    except applications.AppError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.apps"))
    # The key is shown on this response only, never stored in clear nor put in a cookie.
    response = make_response(
        render_template(
            "admin/apps.html",
            apps=applications.list_applications(guard.system()),
            new_key=key,
            new_name=app.name,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
