"""Task forms through the API and the pages: defaults, read-only fields, dates, and a
form key without formData."""

from __future__ import annotations

import pytest

from engine.db import unit_of_work
from engine.registry import Registry
from tests.engine_support import engine_system
from tests.web.ui_support import PASSWORD, Browser
from web.accounts import create_user
from web.app import create_app


@pytest.fixture
def app(config):
    system = engine_system(config, Registry(), "forms.bpmn")
    with unit_of_work(system.session_factory) as s:
        create_user(s, "alice", PASSWORD, ["customer"])
    app = create_app(config, system)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def api(app):
    client = app.test_client()
    r = client.post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json['token']}"}

    class Api:
        def get(self, url):
            return client.get(url, headers=headers)

        def post(self, url, body):
            return client.post(url, headers=headers, json=body)

    return Api()


def start(api) -> str:
    r = api.post("/api/v1/process-instances", {"process": "forms", "data": {}})
    assert r.status_code == 201, r.json
    return r.json["id"]


def task(api, instance_id: str) -> dict:
    [found] = api.get(f"/api/v1/tasks?instance_id={instance_id}").json
    return found


def variables(api, instance_id: str) -> dict:
    return api.get(f"/api/v1/process-instances/{instance_id}").json["variables"]


def test_an_api_client_leaving_out_a_field_gets_its_default_not_false(api):
    instance_id = start(api)
    interview = task(api, instance_id)
    r = api.post(f"/api/v1/tasks/{interview['id']}/complete", {"data": {"approved": True}})
    assert r.status_code == 200, r.json
    seen = variables(api, instance_id)
    assert seen["attended"] is True and seen["approved"] is True
    assert seen["seen_on"] == "2027-02-01"


def test_the_api_describes_a_date_default_as_iso_and_a_readonly_field_as_readonly(api):
    fields = {f["id"]: f for f in task(api, start(api))["fields"]}
    assert fields["seen_on"]["default"] == "2027-02-01"
    assert fields["reference"]["readonly"] is True
    assert fields["attended"]["readonly"] is False


def test_the_api_refuses_a_value_for_a_readonly_field(api):
    interview = task(api, start(api))
    r = api.post(f"/api/v1/tasks/{interview['id']}/complete", {"data": {"reference": "R-2"}})
    assert r.status_code == 422
    assert r.json["errors"] == {"reference": "This field is read-only: leave it out."}


def test_a_date_in_camundas_pattern_is_stored_as_iso(api):
    instance_id = start(api)
    interview = task(api, instance_id)
    body = {"data": {"seen_on": "28/02/2027"}}
    assert api.post(f"/api/v1/tasks/{interview['id']}/complete", body).status_code == 200
    assert variables(api, instance_id)["seen_on"] == "2027-02-28"


def test_an_unticked_box_in_the_html_form_stays_false_despite_its_default(app, api):
    instance_id = start(api)
    interview = task(api, instance_id)
    alice = Browser(app).login("alice")
    alice.get(f"/tasks/{interview['id']}")
    assert 'name="reference"' in alice.page and "readonly" in alice.page
    assert 'value="2027-02-01"' in alice.page  # the date input takes ISO
    response = alice.post(f"/tasks/{interview['id']}", {"seen_on": "2027-03-01"})
    assert response.status_code == 302, alice.text()[:500]
    seen = variables(api, instance_id)
    assert seen["attended"] is False and seen["approved"] is False
    assert seen["seen_on"] == "2027-03-01"
