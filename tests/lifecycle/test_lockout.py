"""Lockout after repeated failures; unlocking by the customer's resync or support's reset."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import clock
from engine.errors import InvalidInput
from tests.builders import Journey
from tests.lifecycle.builders import Life, code_now, issue_credential, lock, token_row


def resync(life: Life, serial: str, codes: tuple[str, str], username: str = "alice") -> object:
    return life.post(
        username,
        "/api/v1/tokens/resync",
        json={"serial": serial, "code1": codes[0], "code2": codes[1]},
    )


def test_ten_failures_in_a_row_lock_the_token_and_then_nothing_verifies(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token, 9)
    assert token_row(life, "TOK001").status == "active"
    lock(life, token, 1)
    row = token_row(life, "TOK001")
    assert (row.status, row.failures) == ("locked", 10)
    answer = life.verify("aerospace-portal", "alice", code_now(token))
    assert answer == {"valid": False, "credential": None, "reason": "locked"}
    # Waiting does not help: a lockout ends only by resync or support.
    clock.advance(timedelta(days=2))
    assert life.verify("aerospace-portal", "alice", code_now(token))["reason"] == "locked"


def test_a_success_resets_the_failure_count(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token, 9)
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"] is True
    assert token_row(life, "TOK001").failures == 0
    lock(life, token, 9)
    assert token_row(life, "TOK001").status == "active"


def test_the_lockout_threshold_is_a_setting(life: Life) -> None:
    life.system.services.settings["otp_max_failures"] = 3
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token, 3)
    assert token_row(life, "TOK001").status == "locked"


def test_resync_with_two_consecutive_codes_unlocks_the_token(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token)
    # The token's clock has run 20 steps (ten minutes) ahead: far outside sign-in reach.
    answer = resync(life, "tok 001", (code_now(token, 19), code_now(token, 20)))
    assert answer.status_code == 200, answer.json
    assert answer.json == {"serial": "TOK001", "status": "active"}
    row = token_row(life, "TOK001")
    assert (row.status, row.failures, row.drift_steps) == ("active", 0, 20)
    assert life.verify("aerospace-portal", "alice", code_now(token, 21))["valid"] is True


def test_resync_outside_the_window_is_refused_and_points_to_support(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token)
    answer = resync(life, "TOK001", (code_now(token, 99), code_now(token, 100)))
    assert answer.status_code == 422
    assert "contact support" in answer.json["detail"]
    assert "code2" in answer.json["errors"]
    assert token_row(life, "TOK001").status == "locked"


def test_resync_needs_codes_that_follow_each_other(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    answer = resync(life, "TOK001", (code_now(token), code_now(token, 2)))
    assert answer.status_code == 422


def test_repeated_failed_resyncs_are_rate_limited(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    far = (code_now(token, 99), code_now(token, 100))
    for _ in range(5):
        assert resync(life, "TOK001", far).status_code == 422
    assert resync(life, "TOK001", (code_now(token), code_now(token, 1))).status_code == 429


def test_a_customer_cannot_resync_someone_elses_token(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    answer = resync(life, "TOK001", (code_now(token), code_now(token, 1)), username="bob")
    assert answer.status_code == 404


def test_support_resets_a_locked_token(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token)
    assert life.post("alice", "/api/v1/tokens/TOK001/reset").status_code == 403
    answer = life.post("sam", "/api/v1/tokens/TOK001/reset")
    assert answer.status_code == 200, answer.json
    assert (token_row(life, "TOK001").status, token_row(life, "TOK001").failures) == ("active", 0)
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"] is True


def test_support_resets_a_token_whose_clock_ran_off_even_the_resync_window(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token)
    far = (code_now(token, 599), code_now(token, 600))  # five hours ahead
    assert resync(life, "TOK001", far).status_code == 422
    answer = life.post(
        "sam", "/api/v1/tokens/TOK001/reset", json={"code1": far[0], "code2": far[1]}
    )
    assert answer.status_code == 200, answer.json
    assert token_row(life, "TOK001").drift_steps == 600
    assert life.verify("aerospace-portal", "alice", code_now(token, 601))["valid"] is True


def test_a_revoked_token_cannot_be_resynced_or_reset(life: Life) -> None:
    from engine.db import unit_of_work

    token = issue_credential(life, "alice", "TOK001")
    with unit_of_work(life.system.session_factory) as s:
        s.merge(token_row(life, "TOK001")).status = "revoked"
    assert resync(life, "TOK001", (code_now(token), code_now(token, 1))).status_code == 409
    assert life.post("sam", "/api/v1/tokens/TOK001/reset").status_code == 409


def test_support_resets_a_locked_token_from_a_support_task(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    lock(life, token)
    case = Journey(life.system, life.actor("sam"))
    case.start("token_reset")
    assert case.tasks(life.actor("alice")) == []
    with pytest.raises(InvalidInput) as refused:
        case.complete("reset_token", {"serial_number": "NOSUCH"})
    assert "serial_number" in refused.value.errors
    case.complete("reset_token", {"serial_number": "tok001", "notes": "called back"})
    assert case.view()["status"] == "completed"
    assert token_row(life, "TOK001").status == "active"
    assert life.verify("aerospace-portal", "alice", code_now(token))["valid"] is True
