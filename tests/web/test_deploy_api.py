"""`POST /api/v1/process-definitions` with what real files hold: other encodings, flows
without ids, findings that are only warnings. 201 or 422 with the problems, never a 500."""

from __future__ import annotations

import re

import pytest

from domain.accounts.users import create_user
from engine.db import unit_of_work
from engine.registry import Registry
from tests.builders import BPMN_DIR, engine_system
from web.app import create_app

PASSWORD = "correct horse battery"
LINEAR = (BPMN_DIR / "linear.bpmn").read_text()
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


@pytest.fixture
def api(config):
    reg = Registry()
    reg.handler("greet")(lambda ctx: {"greeting": "hi"})
    system = engine_system(config, reg)
    with unit_of_work(system.session_factory) as s:
        create_user(s, "ana", PASSWORD, ["analyst"])
        create_user(s, "alice", PASSWORD, ["customer"])
    app = create_app(system)
    app.config["TESTING"] = True
    client = app.test_client()

    def login(name: str) -> dict[str, str]:
        r = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        return {"Authorization": f"Bearer {r.json['token']}"}

    client.login = login
    return client


def post_diagram(api, data: bytes):
    return api.post(
        "/api/v1/process-definitions",
        data=data,
        content_type="application/xml",
        headers=api.login("ana"),
    )


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1"])
def test_a_diagram_in_another_encoding_deploys_and_reads_back_as_utf8(api, encoding):
    text = LINEAR.replace(DECLARATION, f'<?xml version="1.0" encoding="{encoding}"?>').replace(
        'name="Linear test"', 'name="Prüfung"'
    )
    r = post_diagram(api, text.encode(encoding))
    assert r.status_code == 201, r.json
    xml = api.get("/api/v1/process-definitions/linear/xml", headers=api.login("ana"))
    assert xml.status_code == 200
    assert xml.text.startswith(DECLARATION) and 'name="Prüfung"' in xml.text


def test_a_utf16_doctype_is_refused_with_a_problem(api):
    text = LINEAR.replace(
        DECLARATION,
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "aaaa">]>',
    )
    r = post_diagram(api, text.encode("utf-16"))
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert "DOCTYPE" in r.json["problems"][0]["message"]


def test_a_diagram_whose_flows_have_no_ids_deploys_and_its_user_task_opens(api):
    anonymous = re.sub(r'<bpmn:sequenceFlow id="f\d" ', "<bpmn:sequenceFlow ", LINEAR)
    assert post_diagram(api, anonymous.encode()).status_code == 201
    customer = api.login("alice")
    started = api.post("/api/v1/process-instances", json={"process": "linear"}, headers=customer)
    assert started.status_code == 201
    tasks = api.get(f"/api/v1/tasks?instance_id={started.json['id']}", headers=customer).json
    assert [t["name"] for t in tasks] == ["ask_name"]


def test_warnings_come_back_with_a_201_and_errors_with_their_severity_in_a_422(api):
    warned = LINEAR.replace("<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", "")
    r = post_diagram(api, warned.encode())
    assert r.status_code == 201
    assert r.json["warnings"] == [
        {
            "element": "review",
            "file": "upload.bpmn",
            "message": "user task has no lane and no assignment, so only admins may complete it",
            "severity": "warning",
        }
    ]
    broken = warned.replace('name="support"', "")
    refused = post_diagram(api, broken.encode())
    assert refused.status_code == 422
    severities = {(p["element"], p["severity"]) for p in refused.json["problems"]}
    assert severities == {("Lane_support", "error"), ("review", "warning")}
