"""TOKENFLOW_FORCE_HTTPS: plain HTTP is redirected, HTTPS answers carry HSTS, the session
cookie is always `Secure`; on by default unless the server listens on loopback only."""

from __future__ import annotations

import dataclasses

import pytest

from domain.accounts.users import create_user
from engine.db import unit_of_work
from service_layer.config import Config, ConfigError
from tests.web.builders_pages import PASSWORD, Browser, ui_app
from tokenflow.system import build_system


@pytest.fixture
def forced(config):
    system = build_system(dataclasses.replace(config, force_https=True))
    with unit_of_work(system.session_factory) as s:
        create_user(s, "alice", PASSWORD, ["customer"])
    return ui_app(system)


def test_plain_http_is_redirected_to_the_same_address_over_https(forced):
    client = forced.test_client()
    page = client.get("/login?next=/credentials", base_url="http://tokens.example")
    assert page.status_code == 308
    assert page.headers["Location"] == "https://tokens.example/login?next=/credentials"
    assert "Strict-Transport-Security" not in page.headers  # means nothing over HTTP
    api = client.post("/api/v1/auth/token", json={}, base_url="http://tokens.example")
    assert api.status_code == 308  # the method and body are kept for the second try


def test_load_balancer_probes_are_answered_over_plain_http(forced):
    client = forced.test_client()
    assert client.get("/healthz", base_url="http://10.0.0.7:5000").status_code == 200
    assert client.get("/readyz", base_url="http://10.0.0.7:5000").status_code == 200


def test_https_answers_carry_hsts_and_the_session_cookie_is_always_secure(forced):
    browser = Browser(forced, base_url="https://tokens.example")
    login_page = browser.get("/login")
    assert login_page.headers["Strict-Transport-Security"] == "max-age=31536000"
    response = browser.post("/login", {"username": "alice", "password": PASSWORD}, page="/login")
    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "tokenflow_session=" in c]
    assert "Secure" in cookie.split("; ")
    assert forced.config["SESSION_COOKIE_SECURE"] is True


def test_without_forcing_plain_http_is_served_without_hsts(config):
    app = ui_app(build_system(config))
    page = app.test_client().get("/login", base_url="http://localhost")
    assert page.status_code == 200
    assert "Strict-Transport-Security" not in page.headers


@pytest.mark.parametrize(
    ("host", "setting", "forced"),
    [
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
        ("0.0.0.0", None, True),  # noqa: S104  every interface: reachable from others
        ("", None, True),
        ("tokens.example", None, True),
        ("0.0.0.0", "0", False),  # noqa: S104  the operator's explicit choice
        ("127.0.0.1", "true", True),
    ],
)
def test_https_is_forced_unless_the_server_listens_on_loopback_or_is_told_not_to(
    tmp_path, host, setting, forced
):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path), "TOKENFLOW_HOST": host}
    if setting is not None:
        env["TOKENFLOW_FORCE_HTTPS"] = setting
    assert Config.from_env(env).force_https is forced


def test_a_force_https_value_that_is_not_a_yes_or_no_is_refused(tmp_path):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path), "TOKENFLOW_FORCE_HTTPS": "sometimes"}
    with pytest.raises(ConfigError, match="TOKENFLOW_FORCE_HTTPS must be 1 or 0"):
        Config.from_env(env)
