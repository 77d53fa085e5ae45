"""Token and phone registration through the real `registration` diagram."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from domain.credentials.models import Credential
from domain.phone.models import PhoneCredential
from domain.tokens.models import HardwareToken
from domain.tokens.otp import Match
from engine.db import unit_of_work
from engine.errors import InvalidInput
from service_layer.config import Config
from service_layer.system import System
from tests.builders import CUSTOMER, Journey, journey_system
from tests.journey.builders_proofing import emails, outbox_files, sms_code
from tests.journey.builders_tokens import TestToken, add_token, token_row

ORDER = "SO-10001"
PAID_AT = "2026-01-15T10:00:00+00:00"


def start_registration(system: System, token: TestToken) -> Journey:
    journey = Journey(system)
    journey.start(
        "registration",
        data={"order_number": ORDER, "token_serial": token.serial, "paid_at": PAID_AT},
    )
    assert journey.active == ["register_token"]
    return journey


def register(journey: Journey, serial: str, codes: tuple[str, str]) -> None:
    journey.complete(
        "register_token", {"serial_number": serial, "code1": codes[0], "code2": codes[1]}
    )


def refused(journey: Journey, serial: str, codes: tuple[str, str]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        register(journey, serial, codes)
    assert journey.active == ["register_token"]
    return caught.value.errors


@pytest.mark.parametrize(
    ("kind", "digits", "period", "algorithm"),
    [("totp", 6, 30, "SHA1"), ("totp", 8, 60, "SHA256"), ("hotp", 6, None, "SHA1")],
    ids=["totp-30s-6digits", "totp-60s-8digits", "hotp"],
)
def test_a_token_registers_with_two_consecutive_codes_and_the_credential_runs_a_year(
    config: Config, kind: str, digits: int, period: int | None, algorithm: str
) -> None:
    system = journey_system(config)
    token = add_token(
        system,
        "FT0000001",
        kind=kind,
        digits=digits,
        period=period,
        algorithm=algorithm,
        order_number=ORDER,
    )
    journey = start_registration(system, token)
    # A TOTP token whose clock runs two steps ahead, or an HOTP token pressed twice in
    # the box: both inside the registration window.
    step = token.current_step() if kind == "totp" else 0
    # Printed serials are read with spaces and in either case.
    register(journey, " ft000 0001 ", (token.code_at(step + 1), token.code_at(step + 2)))
    journey.complete("register_phone", {"skip": True})
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["credential_expires_at"] == "2027-01-15T10:00:00+00:00"
    row = token_row(system, token.serial)
    assert (row.status, row.owner_id) == ("active", CUSTOMER.user_id)
    if kind == "hotp":
        assert row.counter == 3
    else:
        assert row.last_time_step == step + 2 and row.drift_steps in (1, 2)
    with unit_of_work(system.session_factory) as s:
        credential = s.scalars(select(Credential)).one()
        assert (credential.token_serial, credential.owner_id) == (token.serial, 101)
        assert s.scalars(select(PhoneCredential)).all() == []
    assert any(
        "Your token is ready to use" in text and "15 January 2027" in text
        for text in emails(system)
    )


def test_a_serial_other_than_the_shipped_token_is_refused(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    other = add_token(system, "FT0000002")
    journey = start_registration(system, token)
    errors = refused(journey, other.serial, other.consecutive_codes())
    assert "serial number of the token we sent you" in errors["serial_number"]
    assert token_row(system, other.serial).status == "available"


def test_codes_that_are_not_consecutive_are_refused(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    step = token.current_step()
    errors = refused(journey, token.serial, (token.code_at(step - 2), token.code_at(step)))
    assert "not two consecutive codes" in errors["code2"]
    errors = refused(journey, token.serial, (token.code_at(step), token.code_at(step - 1)))
    assert "code2" in errors
    assert token_row(system, token.serial).status == "allocated"


def test_codes_that_were_already_used_once_are_refused(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    codes = token.consecutive_codes()
    with unit_of_work(system.session_factory) as s:
        # As if these two codes had been seen and accepted before (say, by a resync).
        row = s.scalars(select(HardwareToken)).one()
        row.record_match(Match(token.current_step(), 0, 0))
    assert "code2" in refused(journey, token.serial, codes)
    register(journey, token.serial, token.consecutive_codes(offset=2))
    assert journey.active == ["register_phone"]


def test_repeated_wrong_codes_lock_registration_for_a_while(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    for _ in range(5):
        refused(journey, token.serial, ("000000", "000001"))
    errors = refused(journey, token.serial, token.consecutive_codes())
    assert "Too many attempts" in errors["code2"]
    journey.advance(minutes=16)
    register(journey, token.serial, token.consecutive_codes())
    assert journey.active == ["register_phone"]


def test_a_phone_is_registered_with_the_code_sent_by_sms(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    register(journey, token.serial, token.consecutive_codes())
    journey.complete("register_phone", {"phone_number": "+14155550123", "channel": "sms"})
    assert "verify_phone" in journey.active
    code = sms_code(system)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidInput) as caught:
        journey.complete("verify_phone", {"code": wrong})
    assert "not right" in caught.value.errors["code"]
    journey.complete("verify_phone", {"code": code})
    assert journey.view()["status"] == "completed"
    with unit_of_work(system.session_factory) as s:
        phone = s.scalars(select(PhoneCredential)).one()
        assert (phone.phone_number, phone.channel, phone.owner_id) == ("+14155550123", "sms", 101)
    assert code not in str(journey.variables)


def test_a_phone_code_not_confirmed_in_ten_minutes_leads_back_to_a_new_code(
    config: Config,
) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    register(journey, token.serial, token.consecutive_codes())
    journey.complete("register_phone", {"phone_number": "+14155550123", "channel": "voice"})
    old = sms_code(system, "voice")
    journey.advance(minutes=11)
    assert journey.active == ["register_phone"]
    journey.complete("register_phone", {"phone_number": "+14155550123", "channel": "voice"})
    with pytest.raises(InvalidInput) as caught:
        journey.complete("verify_phone", {"code": old})
    assert "not right" in caught.value.errors["code"]
    journey.complete("verify_phone", {"code": sms_code(system, "voice")})
    assert journey.view()["status"] == "completed"


def test_a_number_the_provider_refuses_asks_for_another_number(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    register(journey, token.serial, token.consecutive_codes())
    journey.complete("register_phone", {"phone_number": "+15005550001", "channel": "sms"})
    assert journey.active == ["register_phone"]
    assert "not a valid phone number" in journey.variables["phone_error"]
    journey.complete("register_phone", {"phone_number": "+14155550123", "channel": "sms"})
    assert "verify_phone" in journey.active
    assert journey.variables["phone_error"] is None


def test_skipping_the_phone_still_activates_the_credential(config: Config) -> None:
    system = journey_system(config)
    token = add_token(system, "FT0000001", order_number=ORDER)
    journey = start_registration(system, token)
    register(journey, token.serial, token.consecutive_codes())
    journey.complete("register_phone", {"skip": True})
    assert journey.view()["status"] == "completed"
    assert outbox_files(system, "sms") == [] and outbox_files(system, "voice") == []
    expires = datetime.fromisoformat(journey.variables["credential_expires_at"])
    assert expires.year == 2027
