"""The customer's pages: home (orders and what waits), "Get a token", an order's
progress, and "My credentials". Staff land on their own home from here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.errors import ProcessIncident
from service_layer import tokens
from service_layer.reads import pages as reads
from service_layer.reads import shop as shop_reads

from . import appointments, guard, progress, starting

bp = Blueprint("customer", __name__)
PROCESS = "hardware_token"
LANES = ("proofing_agent", "support", "finance")


@bp.get("/")
@guard.login_required()
def home() -> Any:
    who = guard.actor()
    system = guard.system()
    orders: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    if "customer" in who.roles:
        orders = reads.my_orders(system, who, PROCESS)
        waiting = reads.my_tasks(system, who)
    lanes = [lane for lane in LANES if who.is_admin or lane in who.roles]
    counts = reads.ready_counts(system, lanes) if lanes else {}
    invoices = reads.awaiting_payment_count(system) if "finance" in lanes else 0
    return render_template(
        "customer/home.html",
        orders=orders,
        waiting=waiting,
        lanes=lanes,
        counts=counts,
        invoices=invoices,
        is_customer="customer" in who.roles,
        startable=starting.startable(system, who),
    )


@bp.post("/orders")
@guard.login_required("customer")
def start() -> Any:
    who = guard.actor()
    if guard.system().engine.start_form(PROCESS, who):  # a start form asks first
        return redirect(url_for("starting.show", key=PROCESS))
    try:
        view = guard.system().engine.start(PROCESS, who)
    except ProcessIncident as exc:  # the order exists and waits for our staff
        flash(exc.detail, "error")
        return redirect(url_for("customer.order", instance_id=exc.instance_id))
    waiting = reads.my_tasks(guard.system(), who, view["id"])
    if waiting:
        return redirect(url_for("tasks.show", task_id=waiting[0]["id"]))
    return redirect(url_for("customer.order", instance_id=view["id"]))


@bp.get("/orders/<instance_id>")
@guard.login_required()
def order(instance_id: str) -> Any:
    who = guard.actor()
    system = guard.system()
    view = system.engine.instance(instance_id, who)  # 404 for someone else's order
    events = reads.events(system, who, instance_id)
    completed = {e["element"] for e in events if e["event"] == "task.completed"}
    row = reads.order_row(system, instance_id)
    steps = progress.steps(view, row, completed)
    waiting = reads.my_tasks(system, who, instance_id)
    return render_template(
        "customer/order.html",
        view=view,
        order=row,
        steps=steps,
        waiting=waiting,
        hint=progress.next_hint(steps, view["status"]),
        cancellable=shop_reads.cancellable(system, instance_id),
        appointment=appointments.appointment(system, view),
    )


@bp.get("/credentials")
@guard.login_required("customer")
def credentials() -> Any:
    found = reads.credentials(guard.system(), guard.actor())
    return render_template("customer/credentials.html", **found)


@bp.post("/credentials/resync")
@guard.login_required("customer")
def resync() -> Any:
    """Two consecutive codes put a drifted or locked token back in step."""
    form = {k: request.form.get(k, "").strip()[:64] for k in ("serial", "code1", "code2")}
    if not all(form.values()):
        flash("Enter the token's serial number and two codes shown one after the other.", "error")
        return redirect(url_for("customer.credentials"))
    try:
        tokens.resync(guard.system(), guard.actor(), **form)
    except tokens.TokenRefused as exc:
        flash(exc.message, "error")
    else:
        flash(f"Token {form['serial']} is in step again and unlocked.")
    return redirect(url_for("customer.credentials"))
