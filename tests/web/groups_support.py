"""The people, groups and diagrams of the assignment and groups tests, and their API client."""

from __future__ import annotations

from typing import Any

from domain.accounts.users import add_members, create_user
from engine.db import unit_of_work
from engine.registry import Registry
from service_layer.config import Config
from service_layer.system import System
from tests.builders import engine_system
from web.app import create_app

PASSWORD = "correct horse battery"
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
    def __init__(self, client, username: str):
        self.client = client
        r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.json
        self.headers = {"Authorization": f"Bearer {r.json['token']}"}

    def get(self, url: str):
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, **kw):
        return self.client.post(url, headers=self.headers, **kw)

    def task_names(self) -> set[str]:
        return {t["name"] for t in self.get("/api/v1/tasks").json}

    def complete(self, task_id: str):
        return self.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})
