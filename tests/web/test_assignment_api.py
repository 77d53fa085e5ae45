"""Who sees and works a user task through the API when the diagram names people and
groups as Camunda 7 does: the assignee, candidate users, candidate groups (admin-made
groups too), the lane as one more group, and admins; everyone else is refused as for a
lane that is not theirs (403 for staff, 404 for customers)."""

from __future__ import annotations

import re

import pytest

from domain.accounts.users import add_members
from engine.db import unit_of_work
from tests.builders import BPMN_DIR
from tests.web.builders_api import EVERY_TASK, PASSWORD, Api, api_client, groups_system
from tests.web.builders_pages import Browser, ui_app


@pytest.fixture
def system(config):
    return groups_system(config)


@pytest.fixture
def client(config, system):
    return api_client(config, system)


@pytest.fixture
def as_(client):
    return lambda name: Api(client, name)


@pytest.fixture
def tasks(as_) -> dict[str, str]:
    """One instance of the assignment diagram, its reviewer gina: its tasks by name."""
    root = as_("root")
    r = root.post(
        "/api/v1/process-instances", json={"process": "assignment", "data": {"reviewer": "gina"}}
    )
    assert r.status_code == 201, r.json
    return {t["name"]: t["id"] for t in root.get("/api/v1/tasks").json}


@pytest.mark.parametrize(
    ("person", "sees"),
    [
        ("demo", {"by_assignee"}),
        ("gina", {"by_users", "by_variable"}),
        ("hal", {"by_users"}),
        ("ivy", {"by_group"}),
        ("jo", {"by_group"}),
        ("sam", {"by_lane"}),
        ("fran", set()),
        ("alice", set()),
        ("root", EVERY_TASK),
    ],
)
def test_each_person_sees_the_tasks_that_name_them_their_groups_or_their_lane(
    as_, tasks, person, sees
):
    assert set(tasks) == EVERY_TASK
    assert as_(person).task_names() == sees


def test_the_assignee_of_a_variable_is_shown_as_the_tasks_assignee(as_, tasks):
    listed = {t["name"]: t for t in as_("gina").get("/api/v1/tasks").json}
    assert listed["by_variable"]["assignee"] == "gina"
    assert listed["by_users"]["assignee"] is None


@pytest.mark.parametrize(
    ("person", "task", "status"),
    [
        ("fran", "by_group", 403),
        ("gina", "by_assignee", 403),
        ("hal", "by_variable", 403),
        ("sam", "for_admins", 403),
        ("ivy", "by_lane", 403),
        ("alice", "by_group", 404),
        ("alice", "by_assignee", 404),
    ],
)
def test_a_task_that_does_not_name_someone_is_refused_to_them(as_, tasks, person, task, status):
    api = as_(person)
    for refused in (api.complete(tasks[task]), api.post(f"/api/v1/tasks/{tasks[task]}/claim")):
        assert refused.status_code == status, refused.json
        assert refused.mimetype == "application/problem+json"


def test_the_people_named_complete_their_tasks_and_the_instance_ends(as_, tasks):
    for person, task in [
        ("demo", "by_assignee"),
        ("hal", "by_users"),
        ("jo", "by_group"),
        ("sam", "by_lane"),
        ("gina", "by_variable"),
        ("root", "for_admins"),
    ]:
        assert as_(person).complete(tasks[task]).status_code == 200, (person, task)
    [instance] = as_("root").get("/api/v1/process-instances").json["items"]
    assert instance["status"] == "completed"


def test_a_group_member_who_claims_keeps_the_task_from_the_rest_of_the_group(as_, tasks):
    assert as_("ivy").post(f"/api/v1/tasks/{tasks['by_group']}/claim").status_code == 200
    assert as_("jo").complete(tasks["by_group"]).status_code == 409
    assert as_("ivy").complete(tasks["by_group"]).status_code == 200


def test_the_assignee_keeps_the_task_after_unclaiming_it(as_, tasks):
    demo = as_("demo")
    assert demo.post(f"/api/v1/tasks/{tasks['by_assignee']}/unclaim").status_code == 200
    assert demo.task_names() == {"by_assignee"}
    assert as_("gina").post(f"/api/v1/tasks/{tasks['by_assignee']}/claim").status_code == 403
    assert demo.complete(tasks["by_assignee"]).status_code == 200


def test_joining_a_group_shows_its_tasks_without_logging_in_again(system, as_, tasks):
    fran = as_("fran")
    assert fran.task_names() == set()
    with unit_of_work(system.session_factory) as s:
        add_members(s, "night_shift", ["fran"], actor="test")
    assert fran.task_names() == {"by_group"}


def test_camundas_loan_approval_deploys_and_only_demo_and_admins_complete_it(as_):
    root = as_("root")
    for _ in range(2):
        r = root.post("/api/v1/process-instances", json={"process": "loanApproval"})
        assert r.status_code == 201, r.json
    first, second = root.get("/api/v1/tasks?name=Task_0dfv74n").json
    assert first["assignee"] == "demo"
    for other in ("fran", "sam", "gina"):
        assert as_(other).complete(first["id"]).status_code == 403
    assert as_("alice").complete(first["id"]).status_code == 404
    assert as_("demo").complete(first["id"]).status_code == 200
    assert root.complete(second["id"]).status_code == 200
    statuses = {i["status"] for i in root.get("/api/v1/process-instances").json["items"]}
    assert statuses == {"completed"}


def test_an_assignment_expression_the_evaluator_lacks_is_refused_at_deploy(as_):
    xml = (BPMN_DIR / "loan_approval.bpmn").read_text()
    refused = as_("root").post(
        "/api/v1/process-definitions",
        data=xml.replace('camunda:assignee="demo"', 'camunda:assignee="${loan.owner()}"'),
        content_type="application/xml",
    )
    assert refused.status_code == 422
    [message] = [p["message"] for p in refused.json["problems"]]
    assert message.startswith("camunda:assignee: ${loan.owner()}: method calls")


def test_a_task_with_an_assignee_and_no_lane_deploys_without_the_admins_only_warning(as_):
    xml = (BPMN_DIR / "loan_approval.bpmn").read_text().replace('"loanApproval"', '"loan2"')
    created = as_("root").post(
        "/api/v1/process-definitions", data=xml, content_type="application/xml"
    )
    assert created.status_code == 201, created.json
    assert created.json["warnings"] == []
    unassigned = xml.replace('"loan2"', '"loan3"').replace(' camunda:assignee="demo"', "")
    warned = as_("root").post(
        "/api/v1/process-definitions", data=unassigned, content_type="application/xml"
    )
    assert [w["message"] for w in warned.json["warnings"]] == [
        "user task has no lane and no assignment, so only admins may complete it"
    ]


def test_the_assigned_to_me_page_lists_what_names_the_person_or_their_groups(system, tasks):
    def titles(person: str) -> set[str]:
        browser = Browser(ui_app(system)).login(person, PASSWORD)
        assert browser.get("/inbox").status_code == 200
        return set(re.findall(r'<a href="/tasks/[0-9a-f-]{36}">([^<]+)</a>', browser.page))

    assert titles("gina") == {"For gina or hal", "For the reviewer"}
    assert titles("ivy") == {"For the night shift"}
    assert titles("sam") == set()  # the support lane has its own inbox
    assert titles("root") == {  # and every other task in no lane
        "Assigned to demo",
        "For gina or hal",
        "For the night shift",
        "For the reviewer",
        "For nobody named",
    }
