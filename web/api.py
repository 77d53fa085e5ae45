"""The JSON API, version 1 (interfaces.md): parse, call the engine, answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from engine import definitions, queries, starters
from engine.actors import Actor
from engine.db import unit_of_work
from engine.errors import Forbidden

from . import accounts, clients, sessions, signin
from .problems import ApiError, problem

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STAFF = ("proofing_agent", "support", "finance", "analyst", "admin")
MAX_PAGE = 500


def system() -> Any:
    return current_app.extensions["tokenflow"]


def session() -> Any:
    return unit_of_work(system().session_factory)


def authenticated(*roles: str) -> Callable:
    """Bearer token required; with `roles`, the caller needs one of them (admin always)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                raise ApiError(401, "Unauthorized", "Log in: send `Authorization: Bearer <token>`.")
            found = signin.resolve(system(), header.removeprefix("Bearer ").strip(), sessions.API)
            if found is None:
                raise ApiError(401, "Unauthorized", "The token is unknown, revoked or expired.")
            actor = accounts.actor_of(found.user, found.groups)
            if roles and not (actor.is_admin or actor.roles & set(roles)):
                raise Forbidden("Your role may not do this.")
            g.actor, g.login_session_id = actor, found.session_id
            return view(*args, **kwargs)

        return wrapper

    return decorate


def actor() -> Actor:
    return g.actor


def body() -> dict[str, Any]:
    try:
        data = request.get_json(force=True, silent=False)
    except RequestEntityTooLarge:
        raise
    except Exception:  # malformed, wrong encoding or nested too deep
        raise ApiError(400, "Bad request", "The body must be valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Bad request", "The body must be a JSON object.")
    return data


def field(data: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ApiError(
            422,
            "Invalid input",
            f"`{name}` must be a {kind.__name__}.",
            errors={name: f"must be a {kind.__name__}"},
        )
    return value


def int_arg(name: str, default: int, high: int = MAX_PAGE) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise ApiError(400, "Bad request", f"`{name}` must be a whole number up to {high}.")
    return int(raw)


def task_order() -> str:
    sort = request.args.get("sort", "created")
    if sort not in queries.TASK_ORDERS:
        orders = ", ".join(queries.TASK_ORDERS)
        raise ApiError(400, "Bad request", f"`sort` must be one of {orders}.")
    return sort


def date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "Bad request", f"`{name}` must be an ISO 8601 date.") from None


# -- auth ---------------------------------------------------------------------------------


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
    with session() as s:
        rows = definitions.list_definitions(s)
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
                for d in rows
            ]
        )


@bp.get("/process-definitions/startable")
@authenticated()
def startable_definitions() -> Any:
    with session() as s:
        return jsonify(starters.startable(s, actor()))


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
    return versioned_xml(definitions.get_definition, key)


def versioned_xml(get: Callable[[Session, str, int | None], Any], key: str) -> Any:
    """The file of a deployed version (`?version=n`, default the latest)."""
    version = int_arg("version", 0, high=10**9) or None
    with session() as s:
        return current_app.response_class(get(s, key, version).xml, mimetype="application/xml")


# -- instances ----------------------------------------------------------------------------


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
    with session() as s:
        items, total = queries.list_instances(
            s,
            actor(),
            business_key=request.args.get("business_key"),
            status=request.args.get("status"),
            process=request.args.get("process"),
            created_from=date_arg("from"),
            created_to=date_arg("to"),
            limit=int_arg("limit", 50),
            offset=int_arg("offset", 0, high=10**9),
        )
    return jsonify({"items": items, "total": total})


@bp.get("/process-instances/<instance_id>")
@authenticated()
def get_instance(instance_id: str) -> Any:
    return jsonify(system().engine.instance(instance_id, actor()))


@bp.get("/process-instances/<instance_id>/events")
@authenticated()
def instance_events(instance_id: str) -> Any:
    with session() as s:
        return jsonify(queries.instance_events(s, actor(), instance_id))


@bp.get("/process-instances/<instance_id>/messages")
@authenticated("finance", "support")
def waiting_messages(instance_id: str) -> Any:
    """What the instance waits for, ready to send with POST /api/v1/messages."""
    with session() as s:
        return jsonify(queries.waiting_messages(s, actor(), instance_id))


@bp.post("/process-instances/<instance_id>/<any(suspend, resume, terminate):action>")
@authenticated("admin")
def change_instance(instance_id: str, action: str) -> Any:
    return jsonify(system().engine.set_status(instance_id, action, actor()))


# -- tasks --------------------------------------------------------------------------------


@bp.get("/tasks")
@authenticated()
def list_tasks() -> Any:
    with session() as s:
        return jsonify(
            queries.list_tasks(
                s,
                actor(),
                system().engine,
                instance_id=request.args.get("instance_id"),
                name=request.args.get("name"),
                lane=request.args.get("lane"),
                sort=task_order(),
                limit=int_arg("limit", 100),
                offset=int_arg("offset", 0, high=10**9),
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
    with session() as s:
        return jsonify(queries.list_jobs(s, instance_id=request.args.get("instance_id")))


@bp.post("/jobs/<int(max=2147483647):job_id>/execute")
@authenticated("admin")
def execute_job(job_id: int) -> Any:
    system().engine.execute_job(job_id, actor=actor())
    return jsonify({"id": job_id, "executed": True})


@bp.get("/incidents")
@authenticated("admin")
def list_incidents() -> Any:
    status = request.args.get("status", "open")
    with session() as s:
        return jsonify(
            queries.list_incidents(
                s,
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


# Routes of the credential's life (verification, resync, import, applications) and of
# candidate groups live in their own modules on this blueprint; importing registers them.
from . import api_decisions, api_groups, api_otp  # noqa: E402, F401
