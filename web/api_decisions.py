"""API routes of DMN decisions: their versions and files (deployed through
`POST /api/v1/process-definitions`, which takes DMN files as it takes BPMN files)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from service_layer import decisions

from .api_support import authenticated, body, bp, system, version_arg, xml_response


@bp.get("/decision-definitions")
@authenticated("analyst")
def list_decision_definitions() -> Any:
    """Every version of every deployed decision (its DMN id is its key)."""
    return jsonify(
        [
            {
                "key": d.key,
                "name": d.name,
                "version": d.version,
                "hash": d.hash,
                "file_name": d.file_name,
                "deployed_at": d.deployed_at.isoformat(),
                "deployed_by": d.deployed_by,
            }
            for d in decisions.list_decisions(system())
        ]
    )


@bp.get("/decision-definitions/<key>/xml")
@authenticated("analyst")
def decision_definition_xml(key: str) -> Any:
    """The DMN file of a decision's version (`?version=n`, default the latest)."""
    return xml_response(decisions.decision_version(system(), key, version_arg()).xml)


@bp.post("/decision-definitions/<key>/evaluate")
@authenticated("analyst")
def evaluate_decision(key: str) -> Any:
    """The decision's result on the variables given (`{"variables": {...}}`), as a list
    of one object of outputs per rule that counts: for an analyst trying a table
    (`?version=n`, default the latest). Nothing is stored."""
    version = version_arg()
    variables = body().get("variables", {})
    return jsonify(decisions.evaluate_decision(system(), key, version, variables))
