"""The admin's groups page: make a group with staff in it, add more, and be told why
a change was refused; nobody but admins reaches it."""

from __future__ import annotations

import pytest

from domain.accounts import users as accounts
from engine.db import unit_of_work
from tests.web.builders_pages import Browser, ui_system


@pytest.fixture
def system(config):
    return ui_system(config, tokens=0)


@pytest.fixture
def root(app):
    return Browser(app).login("root")


def groups_of(system) -> list[dict]:
    with unit_of_work(system.session_factory) as s:
        return accounts.list_groups(s)


def test_an_admin_makes_a_group_with_staff_and_adds_more_from_the_page(system, root):
    root.get("/admin/groups")
    assert "No group has been made yet." in root.text()
    made = root.post("/admin/groups", {"name": "fraud_desk", "members": "sam, pat"})
    root.follow(made)
    assert "Group fraud_desk created with sam, pat." in root.text()
    added = root.post("/admin/groups/fraud_desk/members", {"members": "fran"})
    root.follow(added)
    assert "Added fran." in root.text()
    assert "fran, pat, sam" in root.text()
    assert groups_of(system) == [{"name": "fraud_desk", "members": ["fran", "pat", "sam"]}]


@pytest.mark.parametrize(
    ("url", "form", "said"),
    [
        ("/admin/groups", {"name": "support"}, "'support' is a role"),
        ("/admin/groups", {"name": "desk", "members": "alice"}, "alice is a customer"),
        ("/admin/groups/ghosts/members", {"members": "sam"}, "No group is called 'ghosts'."),
        ("/admin/groups/ghosts/members", {"members": " "}, "Name the staff to add"),
    ],
)
def test_a_refused_change_is_explained_and_changes_nothing(system, root, url, form, said):
    root.get("/admin/groups")
    root.follow(root.post(url, form, page="/admin/groups"))
    assert said in root.text()
    assert groups_of(system) == []


@pytest.mark.parametrize("person", ["sam", "alice"])
def test_only_admins_reach_the_groups_page(app, person):
    browser = Browser(app).login(person)
    assert browser.get("/admin/groups").status_code == 403
