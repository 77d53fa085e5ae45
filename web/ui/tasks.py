"""One page per user task: its form (from the BPMN form fields), and for staff the
instance's context beside it. Also claim and unclaim."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from engine.errors import Conflict, InvalidInput, ProcessIncident
from service_layer.reads import pages as reads

from . import formdata, guard, shop

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
# Variables a staff member sees beside a task, in this order, when present.
CONTEXT = (
    "order_number",
    "product",
    "order_status",
    "payment_method",
    "invoice_number",
    "token_serial",
    "tracking_number",
    "legal_first_name",
    "legal_last_name",
    "country",
    "method",
    "appointment_at",
    "appointment_join_url",
    "proofing_failures",
    "license_key_sent_at",
    "license_key_status",
)
HISTORY = 8  # newest events shown beside a task; the rest behind a disclosure
# A message the journey left for the person on a task's form.
MESSAGES = {"checkout": "payment_error"}
# Forms the journey may ask for again (a declined card): they show what was entered before.
REMEMBERED = {"checkout"}
# Forms after which the customer sees the order's receipt, once the order exists.
RECEIPT_AFTER = {"checkout"}


def _page(
    page: reads.TaskPage, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Any:
    who = guard.actor()
    variables = page.instance["variables"]
    message_var = MESSAGES.get(page.task["name"])
    context = [(k, variables[k]) for k in CONTEXT if variables.get(k) not in (None, "")]
    recent = page.events[::-1]
    fields, extras = shop.task_extras(page.fields, page.task["name"], variables, values)
    html = render_template(
        "tasks/task.html",
        **extras,
        task=page.task,
        groups=formdata.groups(formdata.decorate(fields)),
        has_required=any(f["required"] for f in page.fields),
        has_fields=bool(fields),
        values=values,
        errors=errors,
        labels={f["id"]: f["label"] for f in page.fields},
        instance=page.instance,
        recent=recent[:HISTORY],
        older=recent[HISTORY:],
        customer=page.customer,
        context=context,
        message=variables.get(message_var) if message_var else None,
        staff=who.is_staff and page.task["lane"] != "customer",
        mine=page.task["assignee"] == who.name,
    )
    return html, status


@bp.get("/<task_id>")
@guard.login_required()
def show(task_id: str) -> Any:
    page = reads.task_page(guard.system(), guard.actor(), task_id)
    if page.task["status"] != "ready":
        flash("This task is already done.")
        return redirect(_after(page.task))
    values = formdata.initial(page.fields)
    if page.task["name"] in REMEMBERED:
        values.update(formdata.remembered(page.fields, page.instance["variables"]))
    return _page(page, values, {})


@bp.post("/<task_id>")
@guard.login_required()
def complete(task_id: str) -> Any:
    who = guard.actor()
    page = reads.task_page(guard.system(), who, task_id)
    if page.task["status"] != "ready":
        flash("This task was already done.")
        return redirect(_after(page.task))
    data = formdata.submitted(page.fields, request.form)
    try:
        done = guard.system().engine.complete_task(task_id, data, who)
    except ProcessIncident as exc:  # the task is done; the step after it failed
        flash(exc.detail, "error")
        if exc.notices:
            return _notice(page.task, exc.notices)
        return redirect(_after(page.task))
    except InvalidInput as exc:
        errors = exc.errors or {"": exc.detail}
        return _page(page, formdata.echo(page.fields, data), errors, 422)
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    if done.notices:
        return _notice(page.task, done.notices)
    again = [t for t in done.next_tasks if t["name"] == page.task["name"]]
    if again:  # sent back (a declined card): the form's own message says why, not "Done"
        return redirect(url_for("tasks.show", task_id=again[0]["id"]))
    if page.task["name"] in RECEIPT_AFTER and done.instance.get("business_key"):
        return redirect(url_for("shop.receipt", instance_id=page.task["instance_id"]))
    flash(f"Done: {page.task['title']}.")
    return redirect(_next_for(page.task, done.next_tasks))


def _notice(task: dict[str, Any], notices: dict[str, Any]) -> Any:
    """Values shown once (an activation code): never kept by a cache on the way."""
    response = make_response(render_template("tasks/notice.html", task=task, notices=notices))
    response.headers["Cache-Control"] = "no-store"
    return response


def _next_for(task: dict[str, Any], waiting: list[dict[str, Any]]) -> str:
    """A customer goes straight on to the next form of the same order, if one waits."""
    if task["lane"] == "customer":
        mine = [t for t in waiting if t["lane"] == "customer"]
        if mine:
            return url_for("tasks.show", task_id=mine[0]["id"])
    return _after(task)


def _after(task: dict[str, Any]) -> str:
    if task["lane"] == "customer":
        return url_for("customer.order", instance_id=task["instance_id"])
    return url_for("agent.inbox", role=task["lane"])


@bp.post("/<task_id>/<any(claim, unclaim):action>")
@guard.login_required()
def claim(task_id: str, action: str) -> Any:
    who = guard.actor()
    page = reads.task_page(guard.system(), who, task_id)
    try:
        guard.system().engine.claim(task_id, who, release=action == "unclaim")
    except Conflict as exc:
        flash(exc.detail, "error")
    else:
        flash(f"{'Released' if action == 'unclaim' else 'Claimed'}: {page.task['title']}.")
    target = request.form.get("next")
    return redirect(guard.safe_next(target, url_for("tasks.show", task_id=task_id)))
