"""Activation codes at `activate_token`, through the whole `hardware_token` journey."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.proofing.activation import grouped
from domain.proofing.models import ActivationCode
from engine.clock import clock
from engine.db import unit_of_work
from engine.errors import InvalidInput
from engine.registry import FieldErrors, HandlerContext
from handlers.activation import check_activation_code, issue
from service_layer.config import Config
from service_layer.system import System
from tests.builders import CUSTOMER, Journey, journey_system
from tests.journey.builders_proofing import (
    activation_code_in_letter,
    order_to_proofing,
    proven_by_video,
    try_experian,
)


def refusal(journey: Journey, code: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        journey.complete("activate_token", {"activation_code": code})
    assert "activate_token" in journey.active
    return caught.value.errors["activation_code"]


def partial_by_post(system: System) -> Journey:
    journey = order_to_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, wrong=1)
    assert "activate_token" in journey.active
    return journey


def test_a_code_sent_by_post_activates_the_token_typed_in_any_case(config: Config) -> None:
    system = journey_system(config)
    journey = partial_by_post(system)
    code = activation_code_in_letter(system)
    assert "not a valid activation code" in refusal(journey, "ABCDE-FGHJK")
    journey.complete("activate_token", {"activation_code": code.lower().replace("-", " ")})
    assert "activate_token" not in journey.active
    assert journey.variables.get("activation_code") is None
    with unit_of_work(system.session_factory) as s:
        row = s.scalars(select(ActivationCode)).one()
        assert row.used_at is not None and row.channel == "mail"


def test_an_activation_code_is_refused_once_it_has_expired(config: Config) -> None:
    system = journey_system(config)
    journey = partial_by_post(system)
    code = activation_code_in_letter(system)
    journey.advance(days=31)
    assert "has expired" in refusal(journey, code)


def test_the_code_the_agent_read_out_activates_the_token(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system)
    code = proven_by_video(journey)
    journey.complete("activate_token", {"activation_code": code})
    assert "activate_token" not in journey.active


def test_an_experian_pass_activates_the_token_without_asking_for_anything(
    config: Config,
) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey)
    assert "activate_token" not in journey.active
    assert "fulfilment_join" in journey.active  # waiting for the token only
    assert journey.variables["activated_at"]
    assert journey.variables["proofing_result"] == "passed"
    journey.message("token_delivered")
    assert "register_token" in journey.active


def test_without_proofing_a_plain_confirmation_activates_the_token(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system, product="token_without_proofing")
    journey.complete("activate_token", {})
    assert "activate_token" not in journey.active


def test_repeated_wrong_codes_lock_activation_for_a_while(config: Config) -> None:
    system = journey_system(config)
    journey = partial_by_post(system)
    code = activation_code_in_letter(system)
    for _ in range(5):
        refusal(journey, "00000-00000")
    assert "Too many attempts" in refusal(journey, code)
    journey.advance(minutes=16)
    journey.complete("activate_token", {"activation_code": code})
    assert "activate_token" not in journey.active


def context(system: System, session: object, **data: object) -> HandlerContext:
    return HandlerContext(
        session=session,  # type: ignore[arg-type]
        instance_id="instance-1",
        element="issue_activation_code",
        task_id="task-1",
        business_key="SO-10001",
        owner_id=CUSTOMER.user_id,
        now=clock.now(),
        data=data,
        services=system.services,
    )


def test_a_code_works_once_and_only_for_its_own_order(config: Config) -> None:
    system = journey_system(config)
    with unit_of_work(system.session_factory) as s:
        code, _ = issue(context(system, s), "video")
    required = {"activation_code_required": True}
    with unit_of_work(system.session_factory) as s:
        other = context(system, s, **required)
        other.business_key, other.instance_id = "SO-10002", "instance-2"
        with pytest.raises(FieldErrors) as caught:
            check_activation_code(other, {"activation_code": grouped(code)})
        assert "not a valid" in caught.value.errors["activation_code"]
    with unit_of_work(system.session_factory) as s:
        accepted = check_activation_code(context(system, s, **required), {"activation_code": code})
    assert accepted["activation_code"] is None
    with unit_of_work(system.session_factory) as s, pytest.raises(FieldErrors) as caught:
        check_activation_code(context(system, s, **required), {"activation_code": code})
    assert "already been used" in caught.value.errors["activation_code"]
