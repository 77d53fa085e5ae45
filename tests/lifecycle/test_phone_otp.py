"""Phone codes: sent on an application's request, valid minutes, single use, and only
for applications whose policy accepts a phone."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import clock
from tests.journey.builders_proofing import outbox_files
from tests.lifecycle.builders import Life, issue_credential, newest_sms_code

PHONE = "+14155550123"


def test_a_phone_code_sent_for_an_application_verifies_once(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    sent = life.phone_code("intranet", "alice")
    assert sent.status_code == 200, sent.json
    assert sent.json["sent"] is True and sent.json["channel"] == "sms"
    [message] = outbox_files(life.system, "sms")
    assert PHONE in message.read_text()
    code = newest_sms_code(life.system)
    assert life.verify("intranet", "alice", code) == {
        "valid": True,
        "credential": "phone",
        "reason": None,
    }
    assert life.verify("intranet", "alice", code)["valid"] is False


def test_an_application_that_accepts_only_hardware_tokens_refuses_a_phone_code(
    life: Life,
) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    refused = life.phone_code("aerospace-portal", "alice")
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    # A code the intranet had sent is worth nothing at the portal...
    life.phone_code("intranet", "alice")
    code = newest_sms_code(life.system)
    answer = life.verify("aerospace-portal", "alice", code)
    assert answer["valid"] is False and answer["credential"] is None
    # ...and still works where it was asked for.
    assert life.verify("intranet", "alice", code)["credential"] == "phone"


def test_a_phone_code_expires_after_five_minutes(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    life.phone_code("intranet", "alice")
    clock.advance(timedelta(minutes=5, seconds=1))
    answer = life.verify("intranet", "alice", newest_sms_code(life.system))
    assert answer == {"valid": False, "credential": None, "reason": "code_expired"}


def test_a_phone_code_allows_three_wrong_tries(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    life.phone_code("intranet", "alice")
    code = newest_sms_code(life.system)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(3):
        assert life.verify("intranet", "alice", wrong)["reason"] == "invalid_code"
    answer = life.verify("intranet", "alice", code)
    assert answer == {"valid": False, "credential": None, "reason": "too_many_attempts"}


def test_only_the_newest_phone_code_counts(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    life.phone_code("intranet", "alice")
    first = newest_sms_code(life.system)
    clock.advance(timedelta(seconds=2))  # outbox files are named by the second
    life.phone_code("intranet", "alice")
    second = newest_sms_code(life.system)
    if first != second:
        assert life.verify("intranet", "alice", first)["valid"] is False
    assert life.verify("intranet", "alice", second)["valid"] is True


def test_someone_without_a_phone_or_credential_gets_no_code(life: Life) -> None:
    issue_credential(life, "alice", "TOK001")
    assert life.phone_code("intranet", "alice").json == {
        "sent": False,
        "channel": None,
        "expires_at": None,
        "reason": "no_phone",
    }
    assert life.phone_code("intranet", "bob").json["reason"] == "no_credential"
    assert outbox_files(life.system, "sms") == []


def test_codes_sent_to_one_person_are_rate_limited(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    for _ in range(5):
        assert life.phone_code("intranet", "alice").status_code == 200
    assert life.phone_code("intranet", "alice").status_code == 429
    clock.advance(timedelta(minutes=16))
    assert life.phone_code("intranet", "alice").status_code == 200
