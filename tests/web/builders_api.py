"""The HTTP API's side of the web tests: the people, groups and diagrams of the
assignment and groups tests, and the API clients (`groups_system`, `api_client`, `Api`,
`JsonApi`, `token`, `start`, and `problem` to read a refusal); the API on tests/bpmn/'s
linear and boundary diagrams with a charge that fails on demand (`api_app`, and
`metrics_app` for the metrics, health and logging tests).

Running Camunda's own diagrams through the API is in builders_camunda.py.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from domain.accounts.models import User
from domain.accounts.users import add_members, create_user
from engine.db import unit_of_work
from engine.registry import Registry
from service_layer.config import Config
from service_layer.system import System
from tests.builders import PASSWORD, engine_system
from web.app import create_app

PEOPLE = [
    ("alice", ["customer"]),
    ("demo", ["finance"]),
    ("gina", ["proofing_agent"]),
    ("hal", ["proofing_agent"]),
    ("ivy", ["finance"]),
    ("jo", ["finance"]),
    ("sam", ["support"]),
    ("fran", ["finance"]),
    ("root", ["admin"]),
]
EVERY_TASK = {"by_assignee", "by_users", "by_group", "by_lane", "by_variable", "for_admins"}


def groups_system(config: Config) -> System:
    """The assignment and loanApproval diagrams, PEOPLE, and ivy and jo in night_shift."""
    system = engine_system(config, Registry(), "assignment.bpmn", "loan_approval.bpmn")
    with unit_of_work(system.session_factory) as s:
        for name, roles in PEOPLE:
            create_user(s, name, PASSWORD, roles)
        add_members(s, "night_shift", ["ivy", "jo"], actor="test")
    return system


def api_client(config: Config, system: System) -> Any:
    app = create_app(system)
    app.config["TESTING"] = True
    return app.test_client()


class Api:
    """An API client logged in as `username` with a bearer token (anonymous for None)."""

    def __init__(self, client, username: str | None):
        self.client = client
        self.headers = {}
        if username:
            r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.json
            self.headers = {"Authorization": f"Bearer {r.json['token']}"}

    def get(self, url: str, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw):
        return self.client.post(url, headers=self.headers, **kw)

    def task_names(self) -> set[str]:
        return {t["name"] for t in self.get("/api/v1/tasks").json}

    def complete(self, task_id: str):
        return self.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})


class JsonApi:
    """An API client of its own over `app`, logged in as `username`, whose `post` sends
    `body` as JSON (the task forms' tests)."""

    def __init__(self, app, username: str) -> None:
        self.client = app.test_client()
        body = {"username": username, "password": PASSWORD}
        token = self.client.post("/api/v1/auth/token", json=body).json["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url):
        return self.client.get(url, headers=self.headers)

    def post(self, url, body):
        return self.client.post(url, headers=self.headers, json=body)


def problem(response, status):
    """The body of an RFC 9457 problem answered with `status`."""
    assert response.status_code == status, (response.status_code, response.data[:500])
    assert response.mimetype == "application/problem+json"
    return response.json


def token(client, username: str) -> dict[str, str]:
    """The Authorization header of `username` logged in through the API."""
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['token']}"}


def start(client, username: str, process: str, **body):
    """`username` starts `process` through the API; the response."""
    return client.post(
        "/api/v1/process-instances",
        json={"process": process, **body},
        headers=token(client, username),
    )


# -- the API on tests/bpmn/'s linear and boundary diagrams ------------------------------

API_PEOPLE = [
    ("alice", ["customer"]),
    ("bob", ["customer"]),
    ("sam", ["support"]),
    ("fran", ["finance"]),
    ("ana", ["analyst"]),
    ("root", ["admin"]),
]


def _api_registry(flaky: dict) -> Registry:
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        ctx.set_business_key(f"SO-{ctx.data['name']}")
        return {"greeting": "hi"}

    @reg.handler()
    def charge(ctx):
        if flaky["fail"]:
            raise ConnectionError("down")
        return {}

    reg.handler("tick")(lambda ctx: {})
    return reg


def api_app(config: Config, flaky: dict) -> Flask:
    """The app on linear.bpmn and boundary.bpmn with API_PEOPLE; the card charge fails
    while `flaky["fail"]`."""
    system = engine_system(config, _api_registry(flaky), "linear.bpmn", "boundary.bpmn")
    with unit_of_work(system.session_factory) as s:
        for name, roles in API_PEOPLE:
            create_user(s, name, PASSWORD, roles)
    app = create_app(system)
    app.config["TESTING"] = True
    return app


# -- the metrics, health and logging tests' app ----------------------------------------


def _metrics_registry(flaky: dict) -> Registry:
    reg = Registry()

    @reg.handler()
    def charge(ctx):
        if flaky["fail"]:
            raise ConnectionError("processor down")
        return {}

    reg.handler("greet")(lambda ctx: {})
    return reg


def metrics_app(config: Config, flaky: dict, **overrides: Any) -> Flask:
    """The app on boundary.bpmn and linear.bpmn with `overrides` of the config and root, an
    admin; the charge fails while `flaky["fail"]` (the metrics, health and logging tests)."""
    config = type(config)(**{**vars(config), **overrides})
    system = engine_system(config, _metrics_registry(flaky), "boundary.bpmn", "linear.bpmn")
    with unit_of_work(system.session_factory) as s:
        if not list(s.scalars(select(User.id))):  # made once: a second app may share the database
            create_user(s, "root", PASSWORD, ["admin"])
    app = create_app(system)
    app.config["TESTING"] = True
    return app


def admin_headers(client) -> dict:
    """The Authorization header of root, logged in through the API."""
    r = client.post("/api/v1/auth/token", json={"username": "root", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json['token']}"}


def start_id(client, headers, process: str) -> str:
    """Start `process` through the API with `headers`; the new instance's id."""
    r = client.post("/api/v1/process-instances", json={"process": process}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json["id"]
