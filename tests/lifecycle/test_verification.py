"""`POST /api/v1/otp/verify`: relying applications check their users' codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.audit import verify as verify_audit_chain
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import AuditEvent
from tests.builders import Journey
from tests.journey.builders_tokens import add_token
from tests.lifecycle.builders import (
    Life,
    code_now,
    credential_row,
    issue_credential,
    token_row,
)

FAR_FUTURE = datetime(2700, 1, 1, tzinfo=UTC)
RFC6238_SECRETS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238 Appendix B: time, then the 8-digit code for SHA1, SHA256, SHA512.
RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


def test_the_rfc_6238_vectors_verify_through_the_api_at_their_timestamps(life: Life) -> None:
    users = {"SHA1": "alice", "SHA256": "bob", "SHA512": "sam"}
    for number, (algorithm, username) in enumerate(users.items(), 1):
        issue_credential(
            life,
            username,
            f"RFC{algorithm}",
            digits=8,
            algorithm=algorithm,
            secret=RFC6238_SECRETS[algorithm],
            expires_at=FAR_FUTURE,
            order_number=f"SO-1000{number}",
        )
    for moment, *codes in RFC6238_VECTORS:
        # Half a second into the vector's second, so the running clock stays inside it.
        clock.set(datetime.fromtimestamp(moment + 0.5, UTC))
        for (algorithm, username), code in zip(users.items(), codes, strict=True):
            answer = life.verify("aerospace-portal", username, code)
            assert answer == {"valid": True, "credential": "hardware_token", "reason": None}, (
                moment,
                algorithm,
            )
            assert token_row(life, f"RFC{algorithm}").drift_steps == 0


def test_a_valid_code_is_refused_when_replayed(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    code = code_now(token)
    assert life.verify("aerospace-portal", "alice", code)["valid"] is True
    assert life.verify("aerospace-portal", "alice", code) == {
        "valid": False,
        "credential": None,
        "reason": "replayed",
    }
    # Nor at another application: the token, not the application, spent it.
    assert life.verify("intranet", "alice", code)["reason"] == "replayed"


def test_a_code_three_steps_ahead_is_accepted_and_the_drift_learned(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    assert life.verify("aerospace-portal", "alice", code_now(token, 3))["valid"] is True
    assert token_row(life, "TOK001").drift_steps == 3
    # The window now centres on the token's clock: six steps ahead is within reach,
    # which it never was for a token without learnt drift.
    assert life.verify("aerospace-portal", "alice", code_now(token, 6))["valid"] is True


def test_a_code_beyond_the_drift_window_is_refused(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    for steps in (4, -4):
        answer = life.verify("aerospace-portal", "alice", code_now(token, steps))
        assert answer == {"valid": False, "credential": None, "reason": "invalid_code"}


def test_an_hotp_code_a_few_presses_ahead_is_accepted_and_the_counter_learned(
    life: Life,
) -> None:
    token = issue_credential(life, "alice", "HOTP01", kind="hotp")
    assert life.verify("aerospace-portal", "alice", token.code_at(3))["valid"] is True
    assert token_row(life, "HOTP01").counter == 4
    # Presses before the one used are gone for good.
    assert life.verify("aerospace-portal", "alice", token.code_at(1))["valid"] is False
    assert life.verify("aerospace-portal", "alice", token.code_at(4))["valid"] is True


def test_each_token_verifies_with_its_own_period_digits_and_hash(life: Life) -> None:
    token = issue_credential(life, "alice", "FEITIAN1", digits=8, period=60, algorithm="SHA256")
    code = code_now(token)
    assert len(code) == 8
    assert life.verify("aerospace-portal", "alice", code)["valid"] is True
    assert token_row(life, "FEITIAN1").last_time_step == token.current_step()


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "12 34 567"])
def test_malformed_codes_are_simply_invalid(life: Life, code: str) -> None:
    issue_credential(life, "alice", "TOK001")
    assert life.verify("aerospace-portal", "alice", code)["reason"] == "invalid_code"


def test_an_expired_credential_is_refused_with_reason_expired(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    answer = life.verify("aerospace-portal", "alice", code_now(token))
    assert answer == {"valid": False, "credential": None, "reason": "expired"}
    # Refusing an expired credential is no guess at the code: nothing is counted.
    assert token_row(life, "TOK001").failures == 0


def test_a_revoked_token_is_refused_with_reason_revoked(life: Life) -> None:
    token = issue_credential(life, "alice", "TOK001")
    with unit_of_work(life.system.session_factory) as s:
        s.merge(token_row(life, "TOK001")).status = "revoked"
    answer = life.verify("aerospace-portal", "alice", code_now(token))
    assert answer == {"valid": False, "credential": None, "reason": "revoked"}


def test_a_code_longer_than_any_token_shows_is_bad_input(life: Life) -> None:
    answer = life.client.post(
        "/api/v1/otp/verify",
        json={"username": "alice", "code": "1" * 33},
        headers={"Authorization": f"Bearer {life.keys['intranet']}"},
    )
    assert answer.status_code == 422


def test_someone_without_a_credential_and_a_stranger_look_the_same(life: Life) -> None:
    assert life.verify("intranet", "bob", "123456")["reason"] == "no_credential"
    assert life.verify("intranet", "nobody", "123456")["reason"] == "no_credential"


def test_only_an_application_key_opens_the_verify_api(life: Life) -> None:
    body = {"username": "alice", "code": "123456"}
    assert life.client.post("/api/v1/otp/verify", json=body).status_code == 401
    # A person's login is not an application's key.
    person = life.post("alice", "/api/v1/otp/verify", json=body)
    assert person.status_code == 401
    assert person.content_type == "application/problem+json"
    forged = {"Authorization": "Bearer tfk_not-a-key"}
    assert life.client.post("/api/v1/otp/verify", json=body, headers=forged).status_code == 401


def test_every_verification_is_audited_with_its_application_and_never_the_code(
    life: Life,
) -> None:
    token = issue_credential(life, "alice", "TOK001")
    good, bad = code_now(token), "000000" if code_now(token) != "000000" else "111111"
    life.verify("aerospace-portal", "alice", good)
    life.verify("intranet", "alice", bad)
    with unit_of_work(life.system.session_factory) as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.event == "otp.verified").order_by(AuditEvent.id)
        ).all()
        assert [
            (r.details["application"], r.details["valid"], r.details["reason"]) for r in rows
        ] == [
            ("aerospace-portal", True, None),
            ("intranet", False, "invalid_code"),
        ]
        assert all(r.details["username"] == "alice" for r in rows)
        assert not any(good in str(r.details) or bad in str(r.details) for r in rows)
        assert verify_audit_chain(s) == []


def test_a_token_registered_through_the_journey_verifies_at_the_application(
    life: Life,
) -> None:
    token = add_token(life.system, "FT0000001", order_number="SO-10001")
    journey = Journey(life.system, life.actor("alice"))
    journey.start(
        "registration",
        data={
            "order_number": "SO-10001",
            "token_serial": token.serial,
            "paid_at": clock.now().isoformat(),
        },
    )
    codes = token.consecutive_codes()
    journey.complete(
        "register_token", {"serial_number": token.serial, "code1": codes[0], "code2": codes[1]}
    )
    journey.complete("register_phone", {"skip": True})
    assert credential_row(life).token_serial == token.serial
    # The codes registration used are spent; the next one signs in.
    assert life.verify("aerospace-portal", "alice", codes[1])["reason"] == "replayed"
    assert life.verify("aerospace-portal", "alice", code_now(token, 1))["valid"] is True
