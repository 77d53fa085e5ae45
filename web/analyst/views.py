"""The analyst's HTML pages: parse the request, read, render."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, abort, render_template, request, url_for

from engine.clock import clock
from service_layer.reads import analyst as reads

from . import decision_pages, diffs
from .access import page, system
from .blueprint import bp

DEFAULT_DAYS = 30


@bp.get("/")
@page
def index() -> Any:
    return render_template(
        "analyst/index.html",
        processes=reads.processes(system()),
        decisions=decision_pages.all_decisions(),
    )


@bp.get("/processes/<key>")
@page
def process(key: str) -> Any:
    return render_template("analyst/process.html", process=reads.process(system(), key))


@bp.get("/processes/<key>/v<int(max=2147483647):number>")
@page
def version(key: str, number: int) -> Any:
    found, rows, first, last = version_statistics(key, number)
    # Typed as url_for's keyword values are: a str would be matched against its `_external`.
    query: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat()}
    return render_template(
        "analyst/version.html",
        version=found,
        rows=rows,
        first=first,
        last=last,
        statistics_url=url_for("analyst.statistics", key=key, number=number, **query),
    )


@bp.get("/processes/<key>/v<int(max=2147483647):number>.bpmn")
@page
def version_xml(key: str, number: int) -> Any:
    found = reads.version(system(), key, number)
    response = Response(found.xml, mimetype="application/xml")
    # A download, never a page: the browser does not render what an analyst uploaded.
    name = re.sub(r"[^\w.-]", "_", found.file_name)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/processes/<key>/diff")
@page
def diff(key: str) -> Any:
    found = reads.process(system(), key)
    numbers = [v.version for v in found.versions]
    new = _int_arg("to", numbers[0])
    old = _int_arg("from", min((n for n in numbers if n < new), default=new))
    old_version, new_version = reads.version(system(), key, old), reads.version(system(), key, new)
    return render_template(
        "analyst/diff.html",
        process=found,
        old=old_version,
        new=new_version,
        lines=diffs.unified(old_version.xml, new_version.xml, f"{key} v{old}", f"{key} v{new}"),
        changes=diffs.element_changes(old_version.xml, new_version.xml),
    )


@bp.get("/processes/<key>/edit")
@page
def edit(key: str) -> Any:
    number = _int_arg("version", 0) or None
    found = reads.version(system(), key, number)
    return render_template(
        "analyst/modeler.html",
        version=found,
        process_keys=[p.key for p in reads.processes(system())],
    )


def version_statistics(key: str, number: int) -> tuple[Any, list[dict[str, Any]], date, date]:
    """A deployed version, and its elements' statistics over the request's days (first and
    last day included)."""
    found = reads.version(system(), key, number)
    start, end, first, last = date_range()
    return found, reads.statistics_rows(system(), found.xml, start, end), first, last


def date_range() -> tuple[datetime, datetime, date, date]:
    """`?from=&to=` as whole days (UTC), `to` included; default: the last 30 days."""
    today = clock.now().astimezone(UTC).date()
    last = _date_arg("to") or today
    first = _date_arg("from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    start = datetime.combine(first, time.min, tzinfo=UTC)
    return start, datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC), first, last


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, f"`{name}` must be a date (YYYY-MM-DD).")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9:
        abort(400, f"`{name}` must be a version number.")
    return int(raw)


@bp.app_template_filter("analyst_duration")
def duration(seconds: float | None) -> str:
    """1 d 2 h, 3 h 5 min, 4 min 10 s, 12 s: the two largest units."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    parts = [(whole // 86400, "d"), (whole % 86400 // 3600, "h"), (whole % 3600 // 60, "min")]
    parts.append((whole % 60, "s"))
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"
