"""Candidate groups through the API: admins list and create them and put staff in them;
nobody else may, and what is refused says why."""

from __future__ import annotations

import pytest

from tests.web.builders_api import Api, api_client, groups_system


@pytest.fixture
def system(config):
    return groups_system(config)


@pytest.fixture
def client(config, system):
    return api_client(config, system)


@pytest.fixture
def root(client):
    return Api(client, "root")


def test_an_admin_lists_the_groups_with_their_members(root):
    assert root.get("/api/v1/groups").json == [{"name": "night_shift", "members": ["ivy", "jo"]}]


def test_an_admin_creates_a_group_with_its_first_members_and_adds_more(root):
    created = root.post("/api/v1/groups", json={"name": "fraud_desk", "users": ["sam"]})
    assert created.status_code == 201, created.json
    assert created.json == {"name": "fraud_desk", "members": ["sam"]}
    added = root.post("/api/v1/groups/fraud_desk/members", json={"users": ["gina", "sam"]})
    assert added.status_code == 200
    assert added.json == {"name": "fraud_desk", "members": ["gina", "sam"]}
    names = [g["name"] for g in root.get("/api/v1/groups").json]
    assert names == ["fraud_desk", "night_shift"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "night_shift"}, "The group 'night_shift' exists already."),
        ({"name": "support"}, "'support' is a role, and every role is a group already."),
        ({"name": "two words"}, "A group name is 1-100 letters"),
        ({"name": "a,b"}, "A group name is 1-100 letters"),
        ({"name": "desk", "users": ["alice"]}, "Only staff join groups; alice is a customer."),
        ({"name": "desk", "users": ["nobody"]}, "No user is called 'nobody'."),
        ({"name": "desk", "users": "sam"}, "`users` lists 1-100 usernames."),
        ({"name": 7}, "`name` must be a str."),
    ],
)
def test_a_group_that_cannot_be_made_is_refused_with_the_reason(root, body, detail):
    refused = root.post("/api/v1/groups", json=body)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert refused.json["detail"].startswith(detail)
    assert [g["name"] for g in root.get("/api/v1/groups").json] == ["night_shift"]


def test_members_of_a_group_never_made_get_a_404(root):
    missing = root.post("/api/v1/groups/ghosts/members", json={"users": ["sam"]})
    assert missing.status_code == 404
    assert missing.json["detail"] == "No group is called 'ghosts'."


@pytest.mark.parametrize("person", ["sam", "fran", "alice"])
def test_only_admins_see_or_change_groups(client, person):
    api = Api(client, person)
    assert api.get("/api/v1/groups").status_code == 403
    assert api.post("/api/v1/groups", json={"name": "mine"}).status_code == 403
    assert (
        api.post("/api/v1/groups/night_shift/members", json={"users": [person]}).status_code == 403
    )
