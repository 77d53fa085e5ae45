"""Identity proofing journeys through the real `identity_proofing` diagram."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.license_keys.models import LicenseKey
from domain.proofing.models import ActivationCode, ProofingAttempt
from engine.db import unit_of_work
from engine.errors import InvalidInput
from handlers import activation
from service_layer.config import Config
from tests.builders import AGENT, journey_system
from tests.journey.builders_proofing import (
    HOME,
    INTERVIEW_PASSED,
    SSN_LAST4,
    book_first_slot,
    emails,
    interview,
    outbox_files,
    reach_interview,
    start_proofing,
    try_experian,
)

INTERVIEW_NOT_PASSED = "Your video interview did not confirm your identity"


def attempts(system, journey) -> list[tuple[str, str]]:
    with unit_of_work(system.session_factory) as s:
        rows = s.scalars(
            select(ProofingAttempt)
            .where(ProofingAttempt.instance_id == journey.instance_id)
            .order_by(ProofingAttempt.id)
        )
        return [(row.method, row.outcome) for row in rows]


def test_experian_pass_proves_the_identity_without_an_activation_code(config: Config) -> None:
    system = journey_system(config)
    journey = start_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey)
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["proofing_result"] == "passed"
    assert view["variables"]["proofing_outcome"] == "pass"
    assert view["variables"]["activation_code_required"] is False
    assert attempts(system, journey) == [("experian", "pass")]


def test_experian_partial_posts_a_letter_with_an_activation_code(config: Config) -> None:
    system = journey_system(config)
    journey = start_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, wrong=1)
    variables = journey.variables
    assert variables["proofing_result"] == "passed"
    assert variables["proofing_outcome"] == "partial"
    assert variables["activation_code_required"] is True
    [letter] = outbox_files(system, "letter")
    assert "12 Birch Road" in letter.read_text() and "Jane Doe" in letter.read_text()
    assert any("Your activation code is in the post" in text for text in emails(system))
    with unit_of_work(system.session_factory) as s:
        [code] = s.scalars(select(ActivationCode)).all()
        assert code.channel == "mail" and code.order_number == "SO-10001"
        assert (code.expires_at - code.issued_at).days == 30


def test_an_identity_the_bureau_cannot_locate_is_a_failed_attempt(config: Config) -> None:
    system = journey_system(config)
    journey = start_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, ssn_last4="0000")
    assert journey.active == ["experian_identity"]
    assert journey.variables["proofing_failures"] == 1
    assert attempts(system, journey) == [("experian", "not_located")]


def test_a_bureau_call_that_had_to_be_retried_asks_for_the_details_again_without_a_failure(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = journey_system(config)
    journey = start_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    bureau = system.services.adapters.identity
    real_locate = bureau.locate

    def unreachable(*args, **kwargs):
        raise ConnectionError("credit bureau unreachable")

    monkeypatch.setattr(bureau, "locate", unreachable)
    journey.complete("experian_identity", {**HOME, "ssn_last4": SSN_LAST4})
    assert journey.active[0] == "locate_identity"  # waiting for its retry
    monkeypatch.setattr(bureau, "locate", real_locate)
    journey.advance(minutes=5)  # the retry runs without the SSN digits: they are gone
    assert journey.active == ["experian_identity"]
    assert "once more" in journey.variables["proofing_message"]
    assert journey.variables["proofing_failures"] == 0
    try_experian(journey)
    assert journey.view()["status"] == "completed"


def test_two_failed_experian_attempts_move_the_customer_to_video(config: Config) -> None:
    system = journey_system(config)
    journey = start_proofing(system)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, wrong=2)
    assert journey.active == ["experian_identity"]
    try_experian(journey, wrong=3)
    assert journey.active == ["schedule_video_proofing"]
    assert journey.variables["experian_failures"] == 2
    assert journey.variables["free_slots"]
    assert attempts(system, journey) == [("experian", "fail"), ("experian", "fail")]


def test_a_third_failed_attempt_ends_proofing_and_deactivates_the_license_key(
    config: Config,
) -> None:
    system = journey_system(config)
    journey = start_proofing(system)
    with unit_of_work(system.session_factory) as s:
        s.add(
            LicenseKey(
                order_number="SO-10001",
                sequence=1,
                instance_id=journey.instance_id,
                issued_by_task="seeded-by-test",
                key_hash="0" * 64,
                status="used",
                used_in_instance_id=journey.instance_id,
            )
        )
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, wrong=2)
    try_experian(journey, wrong=2)
    reach_interview(journey)
    interview(journey, approved=False, answers_correct=False)
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["proofing_result"] == "failed"
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(LicenseKey.status)).one() == "inactive"
    assert any(
        "license key for order SO-10001 has been deactivated" in text for text in emails(system)
    )
    assert not any(INTERVIEW_NOT_PASSED in text for text in emails(system))  # no booking left
    assert attempts(system, journey)[-1] == ("video", "fail")


def test_an_approved_video_interview_shows_the_activation_code_to_the_agent_once(
    config: Config,
) -> None:
    system = journey_system(config)
    journey = start_proofing(system, country="DE")
    assert journey.active == ["schedule_video_proofing"]
    reach_interview(journey)
    interview(journey)
    code = journey.notices["activation_code"]
    assert len(code) == 11 and code[5] == "-"
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["proofing_result"] == "passed"
    assert view["variables"]["activation_code_required"] is True
    assert code not in str(view["variables"]) and code.replace("-", "") not in str(view)
    with unit_of_work(system.session_factory) as s:
        [row] = s.scalars(select(ActivationCode)).all()
        assert row.channel == "video" and code.replace("-", "") not in row.code_hash
    assert attempts(system, journey) == [("video", "pass")]


def test_a_code_that_could_not_be_made_in_the_agents_step_is_handed_over_by_an_agent(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code made by a background retry would be shown to nobody: instead an agent gets a
    task, and completing it makes the code and shows it to that agent."""
    system = journey_system(config)
    journey = start_proofing(system, country="DE")
    reach_interview(journey)
    real, hiccups = activation.issue, [ConnectionError("database hiccup")]

    def flaky(ctx, channel):
        if hiccups:
            raise hiccups.pop()
        return real(ctx, channel)

    monkeypatch.setattr(activation, "issue", flaky)
    interview(journey)
    assert journey.notices == {}
    journey.advance(seconds=600)  # the retry, in a worker
    assert journey.active == ["hand_over_activation_code"]
    with unit_of_work(system.session_factory) as s:
        assert s.scalars(select(ActivationCode)).all() == []
    assert journey.task("hand_over_activation_code", AGENT)["lane"] == "proofing_agent"
    journey.complete("hand_over_activation_code", {"customer_reached": True}, actor=AGENT)
    code = journey.notices["activation_code"]
    with unit_of_work(system.session_factory) as s:
        [row] = s.scalars(select(ActivationCode)).all()
        assert row.channel == "video" and code.replace("-", "") not in row.code_hash
    assert journey.view()["variables"]["proofing_result"] == "passed"
    assert attempts(system, journey) == [("video", "pass")]


def test_a_rejected_interview_lets_the_customer_book_again(config: Config) -> None:
    system = journey_system(config)
    journey = start_proofing(system, country="DE")
    reach_interview(journey)
    interview(journey, approved=False, name_matches_id=False, notes="name differs")
    assert journey.active == ["schedule_video_proofing"]
    assert journey.variables["proofing_failures"] == 1
    assert journey.notices == {}
    [told] = [text for text in emails(system) if INTERVIEW_NOT_PASSED in text]
    assert "book a new interview" in told
    assert "name differs" not in told  # the agent's notes stay inside
    assert attempts(system, journey) == [("video", "fail")]
    reach_interview(journey)
    interview(journey)
    assert journey.view()["variables"]["proofing_result"] == "passed"
    assert "activation_code" in journey.notices


def test_a_client_leaving_out_customer_attended_records_the_interview_as_attended(
    config: Config,
) -> None:
    """The form's default (ticked) holds for an API client, not false: leaving the box
    out must not turn an approved interview into a no-show that frees the slot."""
    system = journey_system(config)
    journey = start_proofing(system, country="DE")
    reach_interview(journey)
    answers = {k: v for k, v in INTERVIEW_PASSED.items() if k != "customer_attended"}
    journey.complete("video_proofing_interview", answers, actor=AGENT)
    assert journey.view()["variables"]["proofing_result"] == "passed"
    assert attempts(system, journey) == [("video", "pass")]


def test_a_no_show_frees_the_slot_and_invites_the_customer_to_book_again(
    config: Config,
) -> None:
    system = journey_system(config)
    journey = start_proofing(system, country="DE")
    reach_interview(journey)
    slot = journey.variables["appointment_at"]
    assert any("Reminder: your video appointment" in text for text in emails(system))
    interview(journey, customer_attended=False, approved=False)
    assert journey.active == ["schedule_video_proofing"]
    assert journey.variables["proofing_failures"] == 0
    options = journey.task("schedule_video_proofing")["fields"][0]["options"]
    assert slot in [option["id"] for option in options]
    assert any("You missed your video appointment" in text for text in emails(system))
    assert attempts(system, journey) == [("video", "no_show")]


def test_a_slot_booked_by_someone_else_meanwhile_is_refused(config: Config) -> None:
    system = journey_system(config)
    first = start_proofing(system, country="DE")
    second = start_proofing(system, order_number="SO-10002", country="FR")
    slot = book_first_slot(first)
    with pytest.raises(InvalidInput) as caught:
        second.complete("schedule_video_proofing", {"slot": slot})
    assert "no longer free" in caught.value.errors["slot"]
    assert second.active == ["schedule_video_proofing"]
    options = second.task("schedule_video_proofing")["fields"][0]["options"]
    second.complete("schedule_video_proofing", {"slot": options[1]["id"]})
    assert second.variables["appointment_at"] == options[1]["id"] != slot
