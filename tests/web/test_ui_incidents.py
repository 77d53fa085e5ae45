"""On the pages, a diagram that fails while it runs is a message in words, never the 500
page; the admin sees the incident with its element and expression, and retries it."""

from __future__ import annotations

import pytest

from domain.accounts.users import actor_of, find_user
from engine.db import unit_of_work
from engine.errors import ProcessIncident
from tests.builders import BPMN_DIR
from tests.web.builders_pages import Browser


def deploy(system, *names: str) -> None:
    sources = [(name, (BPMN_DIR / name).read_bytes()) for name in names]
    system.engine.deploy(sources, actor("root", system))


def actor(name: str, system):
    with unit_of_work(system.session_factory) as s:
        return actor_of(find_user(s, name))


def test_a_customer_whose_form_meets_a_failing_step_sees_why_and_no_error_page(system, app, alice):
    deploy(system, "fail_after_task.bpmn")
    view = system.engine.start("fail_after_task", actor("alice", system))
    alice.get(f"/orders/{view['id']}")
    url = alice.task_url()
    alice.get(url)
    response = alice.post(url, {"count": "4"})
    assert response.status_code == 302
    alice.follow(response)
    assert "The process could not continue at Large order?: NameError" in alice.text()


def test_the_admin_sees_the_incident_on_the_instance_page_and_a_failed_retry_is_a_message(
    system, app
):
    deploy(system, "fail_script.bpmn")
    with pytest.raises(ProcessIncident) as caught:
        system.engine.start("fail_script", actor("root", system))
    root = Browser(app).login("root")
    page = f"/admin/instances/{caught.value.instance_id}"
    root.get(page)
    assert "Compute the bonus (compute)" in root.text()
    assert "in bonus = amount * 2" in root.text()
    retry = f"/admin/incidents/{caught.value.incident_id}/retry"
    assert f'action="{retry}"' in root.page
    response = root.post(retry, {"instance_id": caught.value.instance_id}, page=page)
    root.follow(response)
    assert "The process could not continue at Compute the bonus" in root.text()


def test_a_value_shown_once_before_a_failure_is_still_shown_on_the_page(system, app, alice):
    system.engine.registry.handlers["issue_code"] = lambda ctx: ctx.notice(
        activation_code="K7Q2-M9XD"
    )
    deploy(system, "fail_after_notice.bpmn")
    view = system.engine.start("fail_after_notice", actor("alice", system))
    alice.get(f"/orders/{view['id']}")
    url = alice.task_url()
    alice.get(url)
    response = alice.post(url, {})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "K7Q2-M9XD" in alice.text()
    assert "The process could not continue at Tally" in alice.text()
