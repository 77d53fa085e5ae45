"""The credential's life in the pages: a customer resynchronises a locked token, an
admin registers a relying application and sees its key once."""

from __future__ import annotations

import re

import pytest

from tests.lifecycle.builders import (
    PASSWORD,
    Life,
    code_now,
    issue_credential,
    lock,
    token_row,
    wire,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def life(config) -> Life:
    return wire(config)


def logged_in(life: Life, username: str):
    client = life.client.application.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)},
    )
    return client


def post_form(client, page_url: str, url: str, data: dict):
    page = client.get(page_url).get_data(as_text=True)
    return client.post(
        url, data={**data, "csrf_token": CSRF.search(page).group(1)}, follow_redirects=True
    )


def lock_out(life: Life, token) -> None:
    lock(life, token)
    assert token_row(life, token.serial).status == "locked"


def test_a_customer_resynchronises_a_locked_token_on_the_credentials_page(life):
    token = issue_credential(life, "alice", "TOK001")
    lock_out(life, token)
    alice = logged_in(life, "alice")
    assert "Token out of step or locked?" in alice.get("/credentials").get_data(as_text=True)
    wrong = post_form(
        alice,
        "/credentials",
        "/credentials/resync",
        {"serial": "TOK001", "code1": code_now(token, 10), "code2": code_now(token, 9)},
    )
    assert "contact support" in wrong.get_data(as_text=True)
    assert token_row(life, "TOK001").status == "locked"
    done = post_form(
        alice,
        "/credentials",
        "/credentials/resync",
        {"serial": "TOK001", "code1": code_now(token, 9), "code2": code_now(token, 10)},
    )
    assert "Token TOK001 is in step again and unlocked." in done.get_data(as_text=True)
    assert token_row(life, "TOK001").status == "active"


def test_a_form_without_its_csrf_token_is_refused(life):
    issue_credential(life, "alice", "TOK001")
    alice = logged_in(life, "alice")
    answer = alice.post(
        "/credentials/resync", data={"serial": "TOK001", "code1": "1", "code2": "2"}
    )
    assert answer.status_code == 400


def test_an_admin_registers_an_application_and_sees_its_key_once(life):
    root = logged_in(life, "root")
    page = post_form(
        root, "/admin/apps", "/admin/apps", {"name": "partner-portal", "accepts": "hardware_token"}
    )
    text = page.get_data(as_text=True)
    key = re.search(r'<code class="secret">([^<]+)</code>', text).group(1)
    assert "shown this once" in text and "partner-portal" in text
    assert key not in root.get("/admin/apps").get_data(as_text=True)
    token = issue_credential(life, "alice", "TOK009")
    answer = life.client.post(
        "/api/v1/otp/verify",
        json={"username": "alice", "code": code_now(token)},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200 and answer.json["valid"] is True
    refused = post_form(
        root, "/admin/apps", "/admin/apps", {"name": "partner-portal", "accepts": "hardware_token"}
    )
    assert "exists already" in refused.get_data(as_text=True)


def test_customers_and_support_cannot_open_the_applications_page(life):
    assert logged_in(life, "alice").get("/admin/apps").status_code == 403
    assert logged_in(life, "sam").get("/admin/apps").status_code == 403
