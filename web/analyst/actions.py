"""What the modeler's JavaScript calls: check, deploy, dry run, statistics (JSON).

Each is a POST with the session cookie and the CSRF token in `X-CSRFToken`."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import jsonify, request, url_for

from engine import definitions, simulate
from engine.errors import DefinitionInvalid, InvalidInput
from service_layer import processes

from .access import actor, json_route, system
from .blueprint import bp
from .views import version_statistics

MAX_STEPS = 500
MAX_HORIZON_DAYS = 3660


def _sources() -> list[tuple[str, bytes]]:
    name = request.args.get("filename") or "draft.bpmn"
    data = request.get_data()
    if not data:
        raise InvalidInput("Send the diagram's BPMN (or the decision's DMN) XML as the body.")
    return [(Path(name).name, data)]


@bp.post("/check")
@json_route
def check() -> Any:
    """Tokenflow's own checks; the browser adds bpmnlint's."""
    try:
        problems = system().engine.check(_sources())
    except DefinitionInvalid as exc:  # unreadable XML
        problems = exc.problems
    return jsonify({"problems": [p.as_dict() for p in problems]})


@bp.post("/deploy")
@json_route
def deploy() -> Any:
    deployed = system().engine.deploy(_sources(), actor())
    return jsonify(
        {
            "deployed": [
                {
                    "key": d.key,
                    "version": d.version,
                    "changed": d.changed,
                    "kind": d.kind,
                    "url": _url(d),
                }
                for d in deployed
            ],
            "warnings": [w.as_dict() for w in definitions.warnings_of(deployed)],
        }
    ), 201


def _url(d: definitions.Deployed) -> str:
    if d.kind == "decision":
        return url_for("analyst.decision", key=d.key, version=d.version)
    return url_for("analyst.version", key=d.key, number=d.version)


@bp.post("/dry-run")
@json_route
def dry_run() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise InvalidInput("Send {xml, file_name, start, data, tasks, messages, horizon_days}.")
    scenario = _scenario(body)
    draft = [(Path(str(body.get("file_name") or "draft.bpmn")).name, body["xml"].encode())]
    run = processes.dry_run(system(), draft, scenario)
    return jsonify(
        {
            "process": run.process,
            "status": run.status,
            "active": run.active,
            "stopped": run.stopped,
            "visited": run.visited,
            "failed": run.failed,
            "steps": [dataclasses.asdict(step) for step in run.steps],
        }
    )


def _scenario(body: dict[str, Any]) -> simulate.Scenario:
    errors = {}
    for name in ("data", "tasks", "messages"):
        value = body.get(name)
        if value is not None and not isinstance(value, dict):
            errors[name] = "must be a JSON object"
        elif name != "data" and not all(isinstance(v, dict) for v in (value or {}).values()):
            errors[name] = "must map names to JSON objects"
    horizon = body.get("horizon_days", 400)
    whole = isinstance(horizon, int) and not isinstance(horizon, bool)
    if not whole or not 0 < horizon <= MAX_HORIZON_DAYS:
        errors["horizon_days"] = f"must be a whole number of days, 1 to {MAX_HORIZON_DAYS}"
    start = body.get("start")
    if start is not None and not isinstance(start, str):
        errors["start"] = "must be a process key"
    if errors:
        raise InvalidInput("The scenario needs attention.", errors)
    return simulate.Scenario(
        start=start or None,
        data=body.get("data") or {},
        tasks=body.get("tasks") or {},
        messages=body.get("messages") or {},
        horizon=timedelta(days=horizon),
        max_steps=MAX_STEPS,
    )


@bp.get("/processes/<key>/v<int(max=2147483647):number>/statistics.json")
@json_route
def statistics(key: str, number: int) -> Any:
    _, rows, first, last = version_statistics(key, number)
    return jsonify({"from": first.isoformat(), "to": last.isoformat(), "elements": rows})
