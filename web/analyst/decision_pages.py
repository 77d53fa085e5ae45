"""The analyst's decision pages: every deployed DMN decision, and one decision's versions
with its table in dmn-js (view, edit, validate, deploy through `actions.check`/`deploy`,
which take DMN as they take BPMN)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, render_template, request

from service_layer import decisions
from service_layer.decisions import DecisionVersion

from .access import page, system
from .blueprint import bp


def all_decisions() -> dict[str, list[DecisionVersion]]:
    """Every deployed decision's versions, newest first."""
    found: dict[str, list[DecisionVersion]] = {}
    for row in decisions.list_decisions(system()):
        found.setdefault(row.key, []).insert(0, row)
    return found


@bp.get("/decisions/<key>")
@page
def decision(key: str) -> Any:
    versions = all_decisions().get(key)
    if not versions:
        abort(404, f"No decision {key!r}.")
    raw = request.args.get("version", "")
    if raw and (not raw.isdigit() or len(raw) > 9):
        abort(400, "`version` must be a version number.")
    shown = next((v for v in versions if str(v.version) == raw), None) if raw else versions[0]
    if shown is None:
        abort(404, f"No version {raw} of decision {key!r}.")
    return render_template("analyst/decision.html", versions=versions, shown=shown)


@bp.get("/decisions/<key>/v<int(max=2147483647):number>.dmn")
@page
def decision_xml(key: str, number: int) -> Any:
    found = decisions.decision_version(system(), key, number)
    response = Response(found.xml, mimetype="application/xml")
    # A download, never a page: the browser does not render what an analyst uploaded.
    name = re.sub(r"[^\w.-]", "_", found.file_name)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
