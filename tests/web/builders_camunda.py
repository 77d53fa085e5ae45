"""Running Camunda's own diagrams (tests/data/camunda/) through the HTTP API, as a person
who knows Camunda would (`make_people`, `run_to_end`): the people and groups the diagram
names are made first, the diagram is deployed, an instance started, and then, until it
ends, each timer is fired once the engine clock reaches it, each message the instance
waits for sent, and each open user task completed by someone the diagram names (after
an outsider was refused).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from domain.accounts.users import create_user
from engine.clock import clock
from engine.db import unit_of_work
from tests.builders import PASSWORD
from tests.web.builders_api import Api

CAMUNDA_DIR = Path(__file__).resolve().parents[1] / "data" / "camunda"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ADMIN, ANALYST, OUTSIDER = "root", "ana", "outsider"
MAX_STEPS = 40


@dataclass
class People:
    """Who a user task names, as written in the diagram (literal names only)."""

    assignee: str | None = None
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def actor(self) -> str:
        """Someone the task is for: its assignee, a candidate user, a member of a
        candidate group, or (a task naming nobody) an admin."""
        if self.assignee:
            return self.assignee
        if self.users:
            return self.users[0]
        if self.groups:
            return member_of(self.groups[0])
        return ADMIN


def member_of(group: str) -> str:
    return f"{group}_member"


def _names(value: str | None) -> list[str]:
    if not value or "{" in value:  # an expression: resolved from the instance's data
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def people_in(files: list[str]) -> dict[str, People]:
    """Each user task's people, by element id, from the diagrams' camunda attributes."""
    found: dict[str, People] = {}
    for name in files:
        root = etree.fromstring((CAMUNDA_DIR / name).read_bytes())
        for task in root.iter(f"{{{BPMN}}}userTask"):
            assignee = _names(task.get(f"{{{CAMUNDA}}}assignee"))
            found[task.get("id")] = People(
                assignee=assignee[0] if assignee else None,
                users=_names(task.get(f"{{{CAMUNDA}}}candidateUsers")),
                groups=_names(task.get(f"{{{CAMUNDA}}}candidateGroups")),
            )
    return found


@dataclass
class Walk:
    """One diagram's run: the client, who acts, and what happened on the way."""

    client: Any
    people: dict[str, People]
    apis: dict[str, Api] = field(default_factory=dict)
    completed_tasks: list[str] = field(default_factory=list)
    fired_timers: list[str] = field(default_factory=list)
    sent_messages: list[str] = field(default_factory=list)

    def api(self, username: str) -> Api:
        if username not in self.apis:
            self.apis[username] = Api(self.client, username)
        return self.apis[username]

    @property
    def admin(self) -> Api:
        return self.api(ADMIN)


def make_people(system: Any, client: Any, people: dict[str, People]) -> Walk:
    """The admin, an analyst, an outsider (staff in no group a diagram names), the users
    the diagrams name, and their groups, made through the groups API with one member each."""
    users = {p.assignee for p in people.values() if p.assignee}
    users |= {u for p in people.values() for u in p.users}
    groups = {g for p in people.values() for g in p.groups}
    with unit_of_work(system.session_factory) as s:
        create_user(s, ADMIN, PASSWORD, ["admin"])
        create_user(s, ANALYST, PASSWORD, ["analyst"])
        create_user(s, OUTSIDER, PASSWORD, ["support"])
        for name in sorted(users | {member_of(g) for g in groups}):
            create_user(s, name, PASSWORD, ["finance"])
    walk = Walk(client, people)
    for group in sorted(groups):
        r = walk.admin.post("/api/v1/groups", json={"name": group, "users": [member_of(group)]})
        assert r.status_code == 201, r.json
    return walk


def post_files(walk: Walk, files: list[str]) -> Any:
    """Deploy the files together, as an analyst, through the API."""
    uploads = {f"file{i}": ((CAMUNDA_DIR / n).read_bytes(), n) for i, n in enumerate(files)}
    return walk.api(ANALYST).post(
        "/api/v1/process-definitions",
        data={k: (io.BytesIO(v), n) for k, (v, n) in uploads.items()},
        content_type="multipart/form-data",
    )


def deploy(walk: Walk, files: list[str]) -> None:
    r = post_files(walk, files)
    assert r.status_code == 201, r.json


def answers(task: dict[str, Any]) -> dict[str, Any]:
    """A value for every required field of the task's form, by its type."""
    data: dict[str, Any] = {}
    for spec in task.get("fields", []):
        if not spec.get("required") or spec.get("readonly"):
            continue
        kind = spec["type"]
        if spec.get("options"):
            data[spec["id"]] = spec["options"][0]["id"]
        elif kind == "boolean":
            data[spec["id"]] = True
        elif kind == "long":
            data[spec["id"]] = 1
        elif kind == "date":
            data[spec["id"]] = "01/02/2027"
        else:
            data[spec["id"]] = "text"
    return data


def complete_one(walk: Walk, task: dict[str, Any]) -> None:
    """Refused to the outsider, completed by someone the diagram names."""
    people = walk.people[task["name"]]
    url = f"/api/v1/tasks/{task['id']}/complete"
    refused = walk.api(OUTSIDER).post(url, json={"data": answers(task)})
    assert refused.status_code in (403, 404), (task["name"], refused.status_code, refused.json)
    actor = walk.api(people.actor())
    assert task["id"] in {t["id"] for t in actor.get("/api/v1/tasks").json}, task["name"]
    done = actor.post(url, json={"data": answers(task)})
    assert done.status_code == 200, (task["name"], done.json)
    walk.completed_tasks.append(task["name"])


def fire_one(walk: Walk, job: dict[str, Any]) -> None:
    """Move the engine clock to the timer's due time, then run it through the jobs API."""
    due = datetime.fromisoformat(job["due_at"])
    if due > clock.now():
        clock.set(due)
    r = walk.admin.post(f"/api/v1/jobs/{job['id']}/execute")
    assert r.status_code == 200, r.json
    walk.fired_timers.append(job["element"])


def send_one(walk: Walk, message: dict[str, Any]) -> None:
    r = walk.admin.post(
        "/api/v1/messages",
        json={"name": message["name"], "correlation_key": message["correlation_key"]},
    )
    assert r.status_code == 200, r.json
    walk.sent_messages.append(message["name"])


def run_to_end(walk: Walk, instance_id: str) -> dict[str, Any]:
    """Act on the instance until it ends; returns its last view. Events come first (the
    earliest timer, then a message it waits for), so that boundary events fire before the
    task they sit on is done; then the oldest open user task."""
    for _ in range(MAX_STEPS):
        view = walk.admin.get(f"/api/v1/process-instances/{instance_id}").json
        if view["status"] != "running":
            return view
        jobs = walk.admin.get(f"/api/v1/jobs?instance_id={instance_id}").json
        if jobs:
            fire_one(walk, min(jobs, key=lambda j: j["due_at"]))
            continue
        waiting = walk.admin.get(f"/api/v1/process-instances/{instance_id}/messages").json
        if waiting:
            send_one(walk, waiting[0])
            continue
        tasks = walk.admin.get(f"/api/v1/tasks?instance_id={instance_id}").json
        assert tasks, f"instance stuck at {view['active']}"
        complete_one(walk, tasks[0])
    raise AssertionError(f"instance {instance_id} did not end in {MAX_STEPS} steps")
