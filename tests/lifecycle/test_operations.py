"""What operators do around verification: register applications (API, CLI, demo) and
import token seed files through the API."""

from __future__ import annotations

import io
from typing import Any

import pytest

from service_layer.config import Config
from tests.builders import journey_system
from tests.journey.builders_tokens import pskc_file
from tests.lifecycle.builders import Life
from tokenflow.cli import main
from tokenflow.demo import load_demo


def upload(life: Life, data: bytes, username: str = "root", **form: str) -> Any:
    return life.post(
        username,
        "/api/v1/tokens/import",
        data={"file": (io.BytesIO(data), "vendor-batch.pskc"), **form},
        content_type="multipart/form-data",
    )


def test_a_seed_file_is_imported_through_the_api_all_or_nothing(life: Life) -> None:
    answer = upload(life, pskc_file(["IMP000001", "IMP000002"]))
    assert answer.status_code == 200, answer.json
    assert answer.json == {"imported": 2, "serials": ["IMP000001", "IMP000002"]}
    again = upload(life, pskc_file(["IMP000003", "IMP000002"]))
    assert again.status_code == 422
    assert "already in the inventory" in again.json["detail"]
    assert "vendor-batch.pskc" in again.json["detail"]
    broken = upload(life, b"<KeyContainer>not a seed file")
    assert broken.status_code == 422 and broken.content_type == "application/problem+json"
    assert upload(life, pskc_file(["IMP000009"]), psk="not hex").status_code == 422
    assert upload(life, pskc_file(["IMP000009"]), username="alice").status_code == 403
    listed = upload(life, pskc_file(["IMP000003"]))
    assert listed.json["serials"] == ["IMP000003"]


def test_admins_register_applications_and_see_the_key_only_once(life: Life) -> None:
    created = life.post(
        "root", "/api/v1/apps", json={"name": "Payroll", "accepts": ["phone", "hardware_token"]}
    )
    assert created.status_code == 201, created.json
    assert created.json["name"] == "payroll"
    assert created.json["accepts"] == ["hardware_token", "phone"]
    key = created.json["api_key"]
    listed = life.client.get("/api/v1/apps", headers=life.headers("root")).json
    assert {app["name"] for app in listed} == {"aerospace-portal", "intranet", "payroll"}
    assert key not in str(listed)
    answer = life.client.post(
        "/api/v1/otp/verify",
        json={"username": "alice", "code": "123456"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.json["reason"] == "no_credential"
    for body in ({"name": "payroll", "accepts": ["phone"]}, {"name": "x", "accepts": ["sms"]}):
        assert life.post("root", "/api/v1/apps", json=body).status_code == 422
    assert life.post("alice", "/api/v1/apps", json={"name": "mine", "accepts": []}).status_code == (
        403
    )


@pytest.fixture
def env(config: Config, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("TOKENFLOW_INSTANCE_DIR", str(config.instance_dir))
    monkeypatch.setenv("TOKENFLOW_DATABASE_URL", config.database_url)
    return config


def test_the_cli_registers_an_application_and_prints_its_key_once(
    env: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apps", "create", "portal", "--accepts", "hardware_token"]) == 0
    out = capsys.readouterr().out
    assert "accepts hardware_token" in out and "API key (shown only now): tfk_" in out
    assert main(["apps", "create", "portal", "--accepts", "hardware_token"]) == 2
    assert capsys.readouterr().err.strip() == (
        "tokenflow: An application named 'portal' exists already."
    )
    assert main(["apps", "create", "other", "--accepts", "fax"]) == 2
    assert "--accepts takes a comma list of" in capsys.readouterr().err
    assert main(["apps", "list"]) == 0
    assert capsys.readouterr().out.strip() == "portal: accepts hardware_token"


def test_the_demo_registers_its_applications_once_and_shows_their_keys_once(
    config: Config,
) -> None:
    system = journey_system(config)
    first = [line for line in load_demo(system) if "accepts" in line]
    assert [line.split()[0] for line in first] == ["aerospace-portal", "intranet"]
    assert all("(shown only now)" in line and "tfk_" in line for line in first)
    again = [line for line in load_demo(system) if "accepts" in line]
    assert again == [
        "  aerospace-portal accepts hardware_token: API key shown when it was created",
        "  intranet         accepts hardware_token,phone: API key shown when it was created",
    ]
