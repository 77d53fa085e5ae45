"""Server-side sessions: logout ends the session itself (not just the cookie), "log out
everywhere", password and role changes end the other sessions, idle and absolute
lifetimes, the account page's list, and API tokens stored hashed and revocable."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from domain.accounts import users as accounts
from domain.accounts.models import LoginSession
from domain.accounts.sessions import device_of
from engine.clock import clock
from engine.db import unit_of_work
from service_layer.config import Config
from tests.web.builders_pages import PASSWORD, Browser, ui_app, ui_system

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
def system(config):
    return ui_system(config, tokens=0)


@pytest.fixture
def app(system):
    return ui_app(system)


def browser(app, user_agent: str = FIREFOX) -> Browser:
    made = Browser(app)
    made.client.environ_base["HTTP_USER_AGENT"] = user_agent
    return made


def api_token(app, username: str = "alice", password: str = PASSWORD) -> str:
    response = app.test_client().post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        headers={"User-Agent": "python-requests/2.32.3"},
    )
    assert response.status_code == 200, response.json
    return response.json["token"]


def api_status(app, token: str) -> int:
    return (
        app.test_client()
        .get("/api/v1/process-instances", headers={"Authorization": f"Bearer {token}"})
        .status_code
    )


def buttons(person: Browser, label: str) -> list[str]:
    """Where the forms of the last page with a button `label` post to."""
    form = r'action="([^"]+)">\s*<input[^>]*>\s*<button[^>]*>' + re.escape(label) + "<"
    return re.findall(form, person.page)


def logged_in(person: Browser) -> bool:
    status = person.get("/credentials").status_code
    assert status in (200, 302), status
    return status == 200


def test_the_cookie_saved_before_logout_no_longer_opens_the_credentials_page(app):
    alice = browser(app).login("alice")
    saved = alice.client.get_cookie("tokenflow_session").value
    alice.get("/")
    assert alice.post("/logout").status_code == 302
    thief = Browser(app)
    thief.client.set_cookie("tokenflow_session", saved, domain="localhost")
    response = thief.get("/credentials")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_session_secret_is_random_per_login_and_stored_only_as_its_hash(app, system):
    first = browser(app).login("alice").client.get_cookie("tokenflow_session").value
    second = browser(app).login("alice").client.get_cookie("tokenflow_session").value
    token = api_token(app)
    with app.test_request_context():
        interface = app.session_interface
        serializer = interface.get_signing_serializer(app)
        secrets = [serializer.loads(first)["sid"], serializer.loads(second)["sid"], token]
    assert len(set(secrets)) == 3 and all(len(s) >= 40 for s in secrets)
    with unit_of_work(system.session_factory) as s:
        stored = set(s.scalars(select(LoginSession.secret_hash)))
    assert stored == {hashlib.sha256(x.encode()).hexdigest() for x in secrets}


def test_logging_out_everywhere_ends_every_session_and_api_token(app):
    here, there = browser(app).login("alice"), browser(app, IPHONE).login("alice")
    token = api_token(app)
    bob = browser(app).login("bob")
    here.get("/account")
    response = here.post("/account/logout-everywhere")
    assert response.headers["Location"] == "/login"
    assert not logged_in(here) and not logged_in(there)
    assert api_status(app, token) == 401
    assert logged_in(bob)


def test_logging_out_everywhere_needs_the_forms_csrf_token(app):
    alice = browser(app).login("alice")
    assert alice.post("/account/logout-everywhere", csrf=False).status_code == 400
    assert logged_in(alice)


def test_a_password_change_ends_the_other_sessions_and_tokens_but_keeps_this_one(app):
    alice, other = browser(app).login("alice"), browser(app, IPHONE).login("alice")
    token = api_token(app)
    alice.get("/account")
    response = alice.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert response.headers["Location"] == "/account"
    assert logged_in(alice)
    assert not logged_in(other)
    assert api_status(app, token) == 401
    assert api_status(app, api_token(app, password=NEW_PASSWORD)) == 200
    stale = app.test_client().post(
        "/api/v1/auth/token", json={"username": "alice", "password": PASSWORD}
    )
    assert stale.status_code == 401


def test_a_wrong_current_password_changes_nothing_and_ends_nothing(app):
    alice, other = browser(app).login("alice"), browser(app, IPHONE).login("alice")
    alice.get("/account")
    response = alice.post(
        "/account/password",
        {
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "The current password is wrong." in alice.text()
    assert NEW_PASSWORD not in alice.page
    assert logged_in(other)


def test_a_role_change_ends_every_session_of_that_user(app, system):
    sam = browser(app).login("sam")
    token = api_token(app, "sam")
    with unit_of_work(system.session_factory) as s:
        accounts.set_roles(s, "sam", ["support", "finance"], actor="root")
    assert not logged_in(sam)
    assert api_status(app, token) == 401
    sam.login("sam")
    assert sam.get("/inbox/finance").status_code == 200


@pytest.fixture
def short_lived(system):
    """Sessions idle for 30 minutes or 2 hours old end."""
    system.config = dataclasses.replace(
        system.config, session_idle=timedelta(minutes=30), session_max=timedelta(hours=2)
    )
    return ui_app(system)


def test_a_session_left_idle_longer_than_the_idle_lifetime_ends(short_lived):
    alice = browser(short_lived).login("alice")
    token = api_token(short_lived)
    clock.advance(timedelta(minutes=29))
    assert logged_in(alice)
    assert api_status(short_lived, token) == 200
    clock.advance(timedelta(minutes=31))
    assert not logged_in(alice)
    assert api_status(short_lived, token) == 401


def test_a_session_in_use_ends_at_its_absolute_lifetime(short_lived):
    alice = browser(short_lived).login("alice")
    for _ in range(5):
        clock.advance(timedelta(minutes=20))
        assert logged_in(alice)
    clock.advance(timedelta(minutes=21))  # 2 h 1 min after the login, 21 min idle
    assert not logged_in(alice)
    assert logged_in(alice.login("alice"))


def test_the_account_page_lists_sessions_and_tokens_marks_this_one_and_ends_another(app):
    alice, phone = browser(app).login("alice"), browser(app, IPHONE).login("alice")
    api_token(app)
    browser(app).login("bob")
    alice.get("/account")
    text = alice.text()
    assert "Firefox on Linux" in text and "Safari on iPhone" in text
    assert text.count("This browser") == 1
    assert "python-requests" in text
    assert text.count("End this session") == 1  # bob's session is not alice's to see
    [end_phone] = buttons(alice, "End this session")
    assert alice.post(end_phone, page="/account").status_code == 302
    assert not logged_in(phone)
    assert logged_in(alice)


def test_api_tokens_end_with_delete_and_from_the_account_page(app):
    token = api_token(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert api_status(app, token) == 401
    other = api_token(app)
    alice = browser(app).login("alice")
    alice.get("/account")
    [revoke] = buttons(alice, "Revoke")
    alice.post(revoke, page="/account")
    assert api_status(app, other) == 401
    assert logged_in(alice)


def test_a_request_costs_one_read_and_last_seen_is_written_at_most_once_a_minute(app, system):
    alice = browser(app).login("alice")
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "login_sessions" in statement:
            statements.append(statement.split()[0])

    event.listen(system.db, "before_cursor_execute", count)
    try:
        alice.get("/credentials")
        alice.get("/credentials")
        clock.advance(timedelta(seconds=61))
        alice.get("/credentials")
    finally:
        event.remove(system.db, "before_cursor_execute", count)
    assert statements == ["SELECT", "SELECT", "SELECT", "UPDATE"]


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (FIREFOX, "Firefox on Linux"),
        (IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_a_device_is_named_as_its_owner_knows_it(agent, device):
    assert device_of(agent) == device


def test_session_lifetimes_are_iso_8601_durations_and_a_bad_one_names_its_variable(tmp_path):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path), "TOKENFLOW_SESSION_IDLE": "PT15M"}
    config = Config.from_env(env)
    assert config.session_idle == timedelta(minutes=15)
    assert config.session_max == timedelta(hours=12)
    with pytest.raises(ValueError, match="TOKENFLOW_SESSION_MAX"):
        Config.from_env({**env, "TOKENFLOW_SESSION_MAX": "12 hours"})
