"""The JSON API, version 1 (interfaces.md): parse, call the engine, answer. The routes of
processes, instances, tasks, messages, jobs and incidents; those of the credential's life
(`api_otp`), decisions (`api_decisions`) and groups (`api_groups`) sit on the same
blueprint (`api_support.bp`), and `web.app` imports all four."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from domain.accounts import sessions
from engine import definitions
from engine.queries import InstanceFilter, TaskFilter
from service_layer import processes, signin

from . import clients
from .api_support import (
    actor,
    authenticated,
    body,
    bp,
    date_arg,
    field,
    int_arg,
    system,
    task_order,
    version_arg,
    xml_response,
)
from .problems import ApiError, problem


@bp.post("/auth/token")
def token() -> Any:
    """Log in: the same throttle and session table as the HTML login (`web.signin`)."""
    data = body()
    username, password = field(data, "username", str), field(data, "password", str)
    attempt = signin.log_in(
        system(),
        username[:150],
        password[:1024],
        clients.client_address(),
        clients.device(),
        sessions.API,
    )
    if attempt.status == 429:
        response = problem(429, "Too many attempts", attempt.error or "")
        response.headers["Retry-After"] = str(attempt.retry_after)
        return response
    if attempt.secret is None:
        raise ApiError(401, "Unauthorized", attempt.error or "")
    return jsonify({"token": attempt.secret})


@bp.delete("/auth/token")
@authenticated()
def revoke_token() -> Any:
    """Log out: the token of this request is revoked at once."""
    signin.end_session(system(), actor().user_id or 0, g.login_session_id)
    return "", 204


# -- definitions ------------------------------------------------------------------------


@bp.get("/process-definitions")
@authenticated("analyst")
def list_definitions() -> Any:
    return jsonify(
        [
            {
                "key": d.key,
                "name": d.name,
                "version": d.version,
                "hash": d.hash,
                "deployed_at": d.deployed_at.isoformat(),
                "deployed_by": d.deployed_by,
                "starters": d.starters,
            }
            for d in processes.list_definitions(system())
        ]
    )


@bp.get("/process-definitions/startable")
@authenticated()
def startable_definitions() -> Any:
    return jsonify(processes.startable(system(), actor()))


@bp.post("/process-definitions")
@authenticated("analyst")
def deploy_definition() -> Any:
    if request.files:
        sources = [(f.filename or "upload.bpmn", f.read()) for f in request.files.values()]
    else:
        name = request.args.get("filename", "upload.bpmn")
        sources = [(name, request.get_data())]
    if not any(data for _, data in sources):
        raise ApiError(400, "Bad request", "Send the BPMN or DMN XML as the body.")
    deployed = system().engine.deploy(sources, actor())
    first = deployed[0]
    return jsonify(
        {
            "key": first.key,
            "version": first.version,
            "deployed": [
                {"key": d.key, "version": d.version, "changed": d.changed, "kind": d.kind}
                for d in deployed
            ],
            "warnings": [w.as_dict() for w in definitions.warnings_of(deployed)],
        }
    ), 201


@bp.get("/process-definitions/<key>/start-form")
@authenticated()
def start_form(key: str) -> Any:
    """The fields a start of `key` asks for (`data` of POST /process-instances)."""
    return jsonify({"key": key, "fields": system().engine.start_form(key, actor())})


@bp.get("/process-definitions/<key>/xml")
@authenticated("analyst")
def definition_xml(key: str) -> Any:
    return xml_response(processes.definition_xml(system(), key, version_arg()))


@bp.post("/process-instances")
@authenticated()
def start_instance() -> Any:
    data = body()
    process = field(data, "process", str)
    initial = data.get("data") or {}
    if not isinstance(initial, dict):
        raise ApiError(422, "Invalid input", "`data` must be an object.")
    key = field(data, "business_key", str, required=False)
    view = system().engine.start(process, actor(), initial, business_key=key)
    return jsonify(
        {
            "id": view["id"],
            "status": view["status"],
            "definition_version": view["definition_version"],
            "business_key": view["business_key"],
        }
    ), 201


@bp.get("/process-instances")
@authenticated()
def list_instances() -> Any:
    where = InstanceFilter(
        business_key=request.args.get("business_key"),
        status=request.args.get("status"),
        process=request.args.get("process"),
        created_from=date_arg("from"),
        created_to=date_arg("to"),
    )
    items, total = processes.list_instances(
        system(), actor(), where, int_arg("limit", 50), int_arg("offset", 0, high=10**9)
    )
    return jsonify({"items": items, "total": total})


@bp.get("/process-instances/<instance_id>")
@authenticated()
def get_instance(instance_id: str) -> Any:
    return jsonify(system().engine.instance(instance_id, actor()))


@bp.get("/process-instances/<instance_id>/events")
@authenticated()
def instance_events(instance_id: str) -> Any:
    return jsonify(processes.instance_events(system(), actor(), instance_id))


@bp.get("/process-instances/<instance_id>/messages")
@authenticated("finance", "support")
def waiting_messages(instance_id: str) -> Any:
    """What the instance waits for, ready to send with POST /api/v1/messages."""
    return jsonify(processes.waiting_messages(system(), actor(), instance_id))


@bp.post("/process-instances/<instance_id>/<any(suspend, resume, terminate):action>")
@authenticated("admin")
def change_instance(instance_id: str, action: str) -> Any:
    return jsonify(system().engine.set_status(instance_id, action, actor()))


# -- tasks --------------------------------------------------------------------------------


@bp.get("/tasks")
@authenticated()
def list_tasks() -> Any:
    return jsonify(
        processes.list_tasks(
            system(),
            actor(),
            TaskFilter(
                instance_id=request.args.get("instance_id"),
                name=request.args.get("name"),
                lane=request.args.get("lane"),
                sort=task_order(),
            ),
            int_arg("limit", 100),
            int_arg("offset", 0, high=10**9),
        )
    )


@bp.post("/tasks/<task_id>/<any(claim, unclaim):action>")
@authenticated()
def claim_task(task_id: str, action: str) -> Any:
    system().engine.claim(task_id, actor(), release=action == "unclaim")
    return jsonify({"id": task_id, "assignee": None if action == "unclaim" else actor().name})


@bp.post("/tasks/<task_id>/complete")
@authenticated()
def complete_task(task_id: str) -> Any:
    data = body().get("data", {})
    if not isinstance(data, dict):
        raise ApiError(422, "Invalid input", "`data` must be an object.")
    done = system().engine.complete_task(task_id, data, actor())
    return jsonify(
        {"instance": done.instance, "notice": done.notices, "next_tasks": done.next_tasks}
    )


# -- messages, jobs, incidents ------------------------------------------------------------


@bp.post("/messages")
@authenticated("finance", "support")
def send_message() -> Any:
    """Deliver a message to the instance waiting for it (200), or start the process
    whose message start event catches it (201)."""
    data = body()
    name, key = field(data, "name", str), field(data, "correlation_key", str)
    payload = data.get("data") or {}
    delivered = system().engine.deliver(name, key, payload, actor())
    return jsonify({"instance_id": delivered.instance_id}), 201 if delivered.started else 200


@bp.get("/jobs")
@authenticated("admin")
def list_jobs() -> Any:
    return jsonify(processes.list_jobs(system(), instance_id=request.args.get("instance_id")))


@bp.post("/jobs/<int(max=2147483647):job_id>/execute")
@authenticated("admin")
def execute_job(job_id: int) -> Any:
    system().engine.execute_job(job_id, actor=actor())
    return jsonify({"id": job_id, "executed": True})


@bp.get("/incidents")
@authenticated("admin")
def list_incidents() -> Any:
    status = request.args.get("status", "open")
    return jsonify(
        processes.list_incidents(
            system(),
            status=None if status == "all" else status,
            instance_id=request.args.get("instance_id"),
        )
    )


@bp.post("/incidents/<int(max=2147483647):incident_id>/retry")
@authenticated("admin")
def retry_incident(incident_id: int) -> Any:
    return jsonify({"instance": system().engine.retry_incident(incident_id, actor())})


@bp.get("/openapi.json")
def openapi() -> Any:
    from .openapi import document

    return jsonify(document())
