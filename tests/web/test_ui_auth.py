"""Accounts in the HTML UI: sign-up, log-in, log-out, session cookie, CSRF, brute force,
and which pages anonymous visitors reach."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from domain.accounts.users import find_user
from engine.clock import clock
from engine.db import unit_of_work
from tests.web.builders_pages import PASSWORD, Browser, ui_app, ui_system


@pytest.fixture
def app(config):
    return ui_app(ui_system(config))


@pytest.fixture
def browser(app):
    return Browser(app)


def session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "tokenflow_session=" in c]
    return cookie


def test_a_visitor_signs_up_as_a_customer_and_is_logged_in(browser):
    response = browser.post(
        "/signup",
        {
            "username": "carol",
            "email": "carol@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        page="/signup",
    )
    assert response.headers["Location"] == "/"
    browser.follow(response)
    assert "Hello, carol" in browser.text()
    assert "Get a token" in browser.text()
    assert "My credentials" in browser.text()


def test_sign_up_errors_are_shown_inline_and_keep_what_was_typed_except_passwords(browser):
    response = browser.post(
        "/signup",
        {
            "username": "alice",
            "email": "not-an-email",
            "password": "short",
            "password_confirm": "short",
        },
        page="/signup",
    )
    assert response.status_code == 422
    text = browser.text()
    assert "Enter an email address" in text
    assert "at least 10 characters" in text
    assert 'value="not-an-email"' in browser.page
    assert "short" not in browser.page
    browser.post(
        "/signup",
        {
            "username": "alice",
            "email": "a@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert "That username is taken." in browser.text()


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_only_over_https(app):
    plain = Browser(app)
    cookie = session_cookie(
        plain.post("/login", {"username": "alice", "password": PASSWORD}, page="/login")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    tls = Browser(app, base_url="https://localhost")
    cookie = session_cookie(
        tls.post("/login", {"username": "alice", "password": PASSWORD}, page="/login")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_logging_in_opens_the_page_asked_for_and_logging_out_ends_the_session(browser):
    response = browser.get("/credentials")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/credentials")
    browser.get(response.headers["Location"])
    response = browser.post(
        "/login", {"username": "alice", "password": PASSWORD, "next": "/credentials"}
    )
    assert response.headers["Location"] == "/credentials"
    assert browser.get("/credentials").status_code == 200
    browser.get("/")
    response = browser.post("/logout")
    assert response.headers["Location"] == "/login"
    assert browser.get("/credentials").status_code == 302


def test_login_never_redirects_to_another_site(browser):
    browser.get("/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = browser.post(
            "/login", {"username": "alice", "password": PASSWORD, "next": target}, page="/login"
        )
        assert response.headers["Location"] == "/", target
        browser.post("/logout", page="/")


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(browser):
    response = browser.post("/login", {"username": "alice", "password": "nope"}, page="/login")
    assert response.status_code == 401
    assert "Wrong username or password." in browser.text()
    assert 'value="alice"' in browser.page
    unknown = browser.post("/login", {"username": "nobody", "password": "nope"}, page="/login")
    assert unknown.status_code == 401
    assert "Wrong username or password." in browser.text()


def test_a_successful_login_forgets_earlier_failures(browser):
    browser.post("/login", {"username": "alice", "password": "nope"}, page="/login")
    clock.advance(timedelta(seconds=2))
    assert (
        browser.post(
            "/login", {"username": "alice", "password": PASSWORD}, page="/login"
        ).status_code
        == 302
    )
    browser.post("/logout", page="/")
    assert (
        browser.post("/login", {"username": "alice", "password": "nope"}, page="/login").status_code
        == 401
    )
    assert (
        browser.post("/login", {"username": "alice", "password": "nope"}, page="/login").status_code
        == 429
    )  # only one failure counted again


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/login", {"username": "alice", "password": PASSWORD}),
        (
            "/signup",
            {
                "username": "dave",
                "email": "d@example.com",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
        ),
    ],
)
def test_a_form_posted_without_its_csrf_token_is_refused(browser, url, data):
    response = browser.post(url, data, csrf=False)
    assert response.status_code == 400
    assert "CSRF" in browser.text()


def test_forms_of_a_logged_in_user_need_the_csrf_token_too(browser):
    browser.login("alice")
    assert browser.post("/orders", csrf=False).status_code == 400
    assert browser.post("/logout", csrf=False).status_code == 400
    assert browser.post("/logout", {"csrf_token": "forged"}, csrf=False).status_code == 400


def test_anonymous_visitors_reach_no_page_but_sign_up_log_in_terms_health_and_static_files(
    app, browser
):
    reachable = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        # Pages live in blueprints; the API has its own test, and app-level endpoints
        # (health, metrics) belong to operations.
        if "." not in endpoint or endpoint.startswith("api.") or endpoint.endswith(".static"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", "x")
            url = re.sub(rf"<int(\([^)]*\))?:{arg}>", "1", url)
        url = url.replace("<any(claim, unclaim):action>", "claim").replace(
            "<any(suspend, resume, terminate):action>", "suspend"
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "POST":
                browser.get("/login")
                response = browser.post(url)
            else:
                response = browser.get(url)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?next="), url
            elif response.status_code != 401 or response.mimetype == "text/html":
                reachable.append((method, url))  # (JSON routes of pages answer 401)
    assert sorted(reachable) == [
        ("GET", "/login"),
        ("GET", "/signup"),
        ("GET", "/terms"),
        ("POST", "/login"),
        ("POST", "/signup"),
    ]
    assert browser.get("/healthz").json == {"status": "ok"}
    assert browser.get("/static/tokenflow.css").status_code == 200


def test_pages_carry_the_security_headers_and_no_inline_script_or_style(browser):
    response = browser.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in browser.page and "style=" not in browser.page
    assert "<style" not in browser.page


def test_a_deactivated_account_ends_open_sessions(app):
    system = app.extensions["tokenflow"]
    bob = Browser(app).login("bob")
    assert bob.get("/").status_code == 200
    with unit_of_work(system.session_factory) as s:
        find_user(s, "bob").active = False
    assert bob.get("/").status_code == 302
