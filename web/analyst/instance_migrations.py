"""Migrating running instances, in Camunda's three steps, as plain HTML forms:
plan (versions and the element mapping) -> validate (per instance) -> execute."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import render_template, request

from engine import instance_migration
from engine.errors import InvalidInput
from service_layer import instance_migrations
from service_layer.reads import analyst as reads

from .access import actor, page, system
from .blueprint import bp

MAP_PREFIX = "map:"
STATUSES = ("running", "incident", "suspended")


@bp.get("/migrations")
@page
def start() -> Any:
    processes = reads.processes(system())
    chosen = next((p for p in processes if p.key == request.args.get("process")), None)
    return render_template(
        "analyst/migrate_start.html", processes=processes, chosen=chosen, statuses=STATUSES
    )


@bp.post("/migrations/plan")
@page
def plan() -> Any:
    view = _plan_view()
    return render_template("analyst/migrate_plan.html", view=view, form=_carried())


@bp.post("/migrations/validate")
@page
def validate() -> Any:
    view = _plan_view()
    outcomes = instance_migrations.check_migration(system(), view.plan, _selection())
    return render_template(
        "analyst/migrate_result.html",
        view=view,
        form=_carried(),
        outcomes=outcomes,
        executed=False,
    )


@bp.post("/migrations/execute")
@page
def execute() -> Any:
    view = _plan_view()
    outcomes = instance_migrations.migrate_instances(system(), view.plan, _selection(), actor())
    return render_template(
        "analyst/migrate_result.html",
        view=view,
        form=_carried(),
        outcomes=outcomes,
        executed=True,
    )


def _plan_view() -> instance_migration.PlanView:
    form = request.form
    key = form.get("process", "")
    source, target = _version(form.get("source")), _version(form.get("target"))
    mapping: dict[str, str | None] = {
        name.removeprefix(MAP_PREFIX): value or None
        for name, value in form.items()
        if name.startswith(MAP_PREFIX)
    }
    return reads.migration_plan(system(), key, source, target, mapping)


def _selection() -> instance_migration.Selection:
    form = request.form
    status = form.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput("Choose a status from the list.", {"status": "unknown status"})
    created_from, created_to = _day(form.get("created_from")), _day(form.get("created_to"))
    return instance_migration.Selection(
        instance_ids=tuple(i for i in re.split(r"[\s,]+", form.get("instance_ids", "")) if i),
        business_key=form.get("business_key", "").strip() or None,
        status=status,
        created_from=created_from,
        created_to=created_to + timedelta(days=1) if created_to else None,
    )


def _carried() -> dict[str, str]:
    """The selection fields, carried from step to step as hidden inputs."""
    names = ("instance_ids", "business_key", "status", "created_from", "created_to")
    return {name: request.form.get(name, "") for name in names}


def _version(raw: str | None) -> int:
    if not raw or not raw.isdigit() or len(raw) > 9:
        raise InvalidInput("Choose a source and a target version.")
    return int(raw)


def _day(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=UTC)
    except ValueError:
        raise InvalidInput("Dates are YYYY-MM-DD.", {"created": "not a date"}) from None
