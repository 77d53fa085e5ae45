"""Starting a process from the pages: its start form (`camunda:formData` on the start
event), filled in and checked as a task's form is, or a plain confirmation when it has
none. Who may start what is the engine's rule (`engine.starters`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.actors import Actor
from engine.errors import InvalidInput, ProcessIncident
from service_layer import processes
from service_layer.reads import pages as reads
from service_layer.system import System

from . import formdata, guard

bp = Blueprint("starting", __name__, url_prefix="/start")


def _page(
    key: str,
    fields: list[dict[str, Any]],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> tuple[str, int]:
    html = render_template(
        "start/start.html",
        key=key,
        groups=formdata.groups(formdata.decorate(fields)),
        has_required=any(f["required"] for f in fields),
        values=values,
        errors=errors,
        labels={f["id"]: f["label"] for f in fields},
    )
    return html, status


def startable(system: System, who: Actor) -> list[dict[str, Any]]:
    """The processes a staff member may start from the pages (home's "Start a process")."""
    if not who.is_staff:
        return []  # customers start theirs from their own pages ("Get a token")
    return processes.startable(system, who)


@bp.get("/<key>")
@guard.login_required()
def show(key: str) -> Any:
    fields = guard.system().engine.start_form(key, guard.actor())
    return _page(key, fields, formdata.initial(fields), {})


@bp.post("/<key>")
@guard.login_required()
def submit(key: str) -> Any:
    who = guard.actor()
    system = guard.system()
    fields = system.engine.start_form(key, who)
    data = formdata.submitted(fields, request.form)
    try:
        view = system.engine.start(key, who, data)
    except ProcessIncident as exc:  # the instance exists and waits for an admin
        flash(exc.detail, "error")
        return redirect(url_for("customer.order", instance_id=exc.instance_id))
    except InvalidInput as exc:
        return _page(key, fields, formdata.echo(fields, data), exc.errors or {"": exc.detail}, 422)
    waiting = reads.my_tasks(system, who, view["id"])
    if waiting:
        return redirect(url_for("tasks.show", task_id=waiting[0]["id"]))
    flash("Started.")
    return redirect(url_for("customer.order", instance_id=view["id"]))
