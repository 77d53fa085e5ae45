"""The `lost_token` process: revoke at once, authenticate, replace, register."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.credentials.models import TokenReplacement
from domain.proofing.models import ProofingAttempt
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import InvalidInput
from engine.models import AuditEvent
from tests.builders import Journey
from tests.journey.builders_proofing import emails, outbox_files, try_experian
from tests.journey.builders_tokens import TestToken, seed_of, stock_tokens
from tests.lifecycle.builders import (
    Life,
    code_now,
    credential_row,
    issue_credential,
    newest_sms_code,
    token_row,
)
from tokenflow.worker import follow_parcels

PHONE = "+14155550123"
ADDRESS = {
    "ship_name": "Alice Doe",
    "ship_street": "1 Main Street",
    "ship_city": "Springfield",
    "ship_postal_code": "62704",
    "ship_country": "US",
}
PROOFING_STEPS = {"choose_proofing_method", "experian_identity", "confirm_identity_details"}


def report_loss(life: Life, serial: str = "TOK001") -> Journey:
    journey = Journey(life.system, life.actor("alice"))
    journey.start("lost_token")
    journey.complete(
        "report_lost_token", {"serial_number": serial, "circumstances": "lost", **ADDRESS}
    )
    return journey


def elements_visited(life: Life, journey: Journey) -> set[str]:
    with unit_of_work(life.system.session_factory) as s:
        return set(
            s.scalars(
                select(AuditEvent.element).where(AuditEvent.instance_id == journey.instance_id)
            )
        )


def replacement_token(life: Life) -> TestToken:
    with unit_of_work(life.system.session_factory) as s:
        serial = s.scalars(select(TokenReplacement)).one().replacement_serial
    assert serial is not None
    return TestToken(serial, "totp", 6, 30, "SHA1", seed_of(serial))


def deliver_and_register(life: Life, journey: Journey) -> TestToken:
    assert journey.active == ["replacement_delivered"]
    assert any("Your token is on its way" in text for text in emails(life.system))
    clock.advance(timedelta(days=3))  # the sandbox carrier brings the replacement
    assert follow_parcels(life.system) == 1
    new = replacement_token(life)
    first, second = new.consecutive_codes()
    journey.complete(
        "register_token", {"serial_number": new.serial, "code1": first, "code2": second}
    )
    assert journey.view()["status"] == "completed"
    return new


def test_a_lost_token_is_revoked_at_once_and_replaced_without_proofing_after_a_phone_code(
    life: Life,
) -> None:
    old = issue_credential(life, "alice", "TOK001", phone=PHONE)
    stock_tokens(life.system, 1, prefix="RP")
    journey = report_loss(life)
    # Blocked in the very step that took the report, before any code was confirmed.
    assert token_row(life, "TOK001").status == "revoked"
    assert life.verify("aerospace-portal", "alice", code_now(old))["reason"] == "revoked"
    assert journey.view()["business_key"] == "SO-10001"
    assert "verify_loss_code" in journey.active
    assert journey.variables["loss_code_phone"] == "•••23"
    with pytest.raises(InvalidInput):
        journey.complete("verify_loss_code", {"code": "000000"})
    journey.complete("verify_loss_code", {"code": newest_sms_code(life.system)})
    new = deliver_and_register(life, journey)
    assert not PROOFING_STEPS & elements_visited(life, journey)
    assert credential_row(life).token_serial == new.serial
    row = token_row(life, new.serial)
    assert (row.status, row.owner_id) == ("active", life.users["alice"])
    assert life.verify("aerospace-portal", "alice", code_now(new, 1))["valid"] is True
    assert life.verify("aerospace-portal", "alice", code_now(old, 2))["valid"] is False
    with unit_of_work(life.system.session_factory) as s:
        assert s.scalars(select(ProofingAttempt)).all() == []
    assert any("is registered and ready to use" in text for text in emails(life.system))


def test_a_lost_token_without_a_phone_repeats_identity_proofing(life: Life) -> None:
    old = issue_credential(life, "alice", "TOK001")
    stock_tokens(life.system, 1, prefix="RP")
    journey = report_loss(life)
    assert token_row(life, "TOK001").status == "revoked"
    assert journey.active == ["confirm_identity_details"]
    journey.complete(
        "confirm_identity_details",
        {"legal_first_name": "Jane", "legal_last_name": "Doe", "country": "US"},
    )
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey)
    assert journey.variables["proofing_result"] == "passed"
    new = deliver_and_register(life, journey)
    assert credential_row(life).token_serial == new.serial
    assert life.verify("aerospace-portal", "alice", code_now(new, 1))["valid"] is True
    assert life.verify("aerospace-portal", "alice", code_now(old, 2))["valid"] is False
    assert outbox_files(life.system, "sms") == []


def test_a_customer_who_cannot_receive_the_code_proves_identity_instead(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    journey = report_loss(life)
    journey.complete("verify_loss_code", {"cannot_receive": True})
    assert journey.active == ["confirm_identity_details"]


def test_an_unconfirmed_code_is_followed_by_a_new_one(life: Life) -> None:
    issue_credential(life, "alice", "TOK001", phone=PHONE)
    journey = report_loss(life)
    first = newest_sms_code(life.system)
    journey.advance(minutes=6)
    assert "verify_loss_code" in journey.active
    assert len(outbox_files(life.system, "sms")) == 2
    second = newest_sms_code(life.system)
    if first != second:
        with pytest.raises(InvalidInput):
            journey.complete("verify_loss_code", {"code": first})
    journey.complete("verify_loss_code", {"code": second})
    assert journey.active == ["allocate_replacement_token"]  # out of stock: retried


def test_only_ones_own_registered_token_can_be_reported(life: Life) -> None:
    issue_credential(life, "bob", "BOB001", order_number="SO-10002")
    journey = Journey(life.system, life.actor("alice"))
    journey.start("lost_token")
    for serial in ("BOB001", "NOSUCH"):
        with pytest.raises(InvalidInput) as refused:
            journey.complete(
                "report_lost_token", {"serial_number": serial, "circumstances": "stolen", **ADDRESS}
            )
        assert "serial_number" in refused.value.errors
    assert token_row(life, "BOB001").status == "active"
