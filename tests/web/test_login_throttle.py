"""Failed logins are throttled per (account, address), per address and, much later, per
account, the same way for the HTML login and the API's token (NIST SP 800-63B 5.2.2):
guessing gets slow, and no stranger can lock the owner out."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from domain.accounts.login_throttle import ACCOUNT_THRESHOLD, duration_text
from engine.clock import clock
from tests.web.builders_pages import PASSWORD, Browser, ui_app, ui_system

STRANGER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def system(config):
    return ui_system(config, tokens=0)


@pytest.fixture
def app(system):
    return ui_app(system)


class Front:
    """One way in (the HTML login or the API's token) from one client address."""

    def __init__(self, app, way: str, address: str) -> None:
        self.app, self.way, self.address = app, way, address
        self.browser = Browser(app)
        self.browser.client.environ_base["REMOTE_ADDR"] = address

    def log_in(self, username: str, password: str = "wrong guess") -> tuple[int, str, str | None]:
        """(status, message, Retry-After) of one attempt."""
        if self.way == "html":
            response = self.browser.post(
                "/login", {"username": username, "password": password}, page="/login"
            )
            if response.status_code == 302:
                self.browser.post("/logout", page="/")
            message = self.browser.text()
        else:
            response = self.app.test_client().post(
                "/api/v1/auth/token",
                json={"username": username, "password": password},
                environ_base={"REMOTE_ADDR": self.address},
            )
            message = (response.json or {}).get("detail", "")
        return response.status_code, message, response.headers.get("Retry-After")


@pytest.fixture(params=["html", "api"])
def way(request) -> str:
    return request.param


def test_each_failure_from_one_address_doubles_the_wait_before_the_next(app, way):
    stranger = Front(app, way, STRANGER)
    assert stranger.log_in("alice")[0] == 401
    status, message, retry_after = stranger.log_in("alice", PASSWORD)
    assert (status, retry_after) == (429, "1")
    assert "Wait 1 second before trying again." in message
    for wait in (1, 2, 4, 8):
        clock.advance(timedelta(seconds=wait))
        assert stranger.log_in("alice")[0] == 401
        status, message, retry_after = stranger.log_in("alice")
        assert (status, retry_after) == (429, str(wait * 2))
        assert f"Wait {wait * 2} seconds" in message
    clock.advance(timedelta(seconds=16))
    assert stranger.log_in("alice", PASSWORD)[0] in (200, 302)


def test_a_stranger_failing_50_times_does_not_keep_the_admin_out_from_another_address(app, way):
    stranger, admin = Front(app, way, STRANGER), Front(app, way, OWNER)
    for _ in range(50):
        status, _, retry_after = stranger.log_in("root")
        if status == 429:
            clock.advance(timedelta(seconds=int(retry_after or 0)))
            status, _, _ = stranger.log_in("root")
        assert status == 401
    assert stranger.log_in("root", PASSWORD)[0] == 429
    assert admin.log_in("root", PASSWORD)[0] in (200, 302)


def test_one_address_failing_on_many_accounts_waits_15_minutes(app, way):
    sprayer = Front(app, way, STRANGER)
    for n in range(50):
        assert sprayer.log_in(f"user{n}")[0] == 401
    status, message, retry_after = sprayer.log_in("alice", PASSWORD)
    assert (status, retry_after) == (429, "900")
    assert "Wait 15 minutes before trying again." in message
    assert Front(app, way, OWNER).log_in("alice", PASSWORD)[0] in (200, 302)
    clock.advance(timedelta(minutes=15))
    assert sprayer.log_in("alice", PASSWORD)[0] in (200, 302)


def test_after_100_failures_the_owner_is_emailed_and_only_strangers_slow_down(app, system):
    owner = Front(app, "html", OWNER)
    assert owner.log_in("root", PASSWORD)[0] == 302  # the owner's address is known now
    for n in range(ACCOUNT_THRESHOLD):
        assert Front(app, "api", f"10.0.{n // 250}.{n % 250 + 1}").log_in("root")[0] == 401
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(system.config.outbox_dir.glob("*.eml"))
    ]
    [warning] = [m for m in mails if m["To"] == "root@example.com"]
    assert "Someone keeps trying to log in" in warning["Subject"]
    assert PASSWORD not in warning.as_string()
    newcomer = Front(app, "api", "192.0.2.200")
    status, message, retry_after = newcomer.log_in("root", PASSWORD)
    assert (status, retry_after) == (429, "60")
    assert "Wait 1 minute before trying again." in message
    assert owner.log_in("root", PASSWORD)[0] == 302
    # The owner's success resets the account's count: the next stranger is not slowed.
    assert newcomer.log_in("root")[0] == 401
    assert len(list(system.config.outbox_dir.glob("*.eml"))) == len(mails)


def test_behind_our_proxy_each_visitor_has_a_throttle_of_their_own(app):
    def through_proxy(visitor: str, username: str, password: str = "wrong guess") -> int:
        return (
            app.test_client()
            .post(
                "/api/v1/auth/token",
                json={"username": username, "password": password},
                headers={"X-Forwarded-For": f"{OWNER}, {visitor}"},  # the first one forged
                environ_base={"REMOTE_ADDR": "127.0.0.1", "gunicorn.socket": object()},
            )
            .status_code
        )

    for n in range(50):
        assert through_proxy(STRANGER, f"user{n}") == 401
    assert through_proxy(STRANGER, "root", PASSWORD) == 429
    assert through_proxy(OWNER, "root", PASSWORD) == 200


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (899, "15 minutes"),
        (900, "15 minutes"),
    ],
)
def test_waits_are_said_in_the_units_a_person_expects_never_too_short(seconds, text):
    assert duration_text(seconds) == text
