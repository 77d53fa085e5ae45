"""The customer moves or cancels the video interview through the process (messages
`appointment_move_requested`, `appointment_cancel_requested`), until an hour before it."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.proofing.appointments import TOO_LATE
from engine.clock import clock
from service_layer.config import Config
from tests.builders import AGENT, Journey, journey_system
from tests.journey.builders_proofing import emails, interview, order_to_proofing, reach_interview

MOVE = "appointment_move_requested"
CANCEL = "appointment_cancel_requested"


def options(journey: Journey) -> list[str]:
    return [o["id"] for o in journey.task("schedule_video_proofing")["fields"][0]["options"]]


def later_slot(journey: Journey, after: str, hours: float = 0) -> str:
    """A free slot after `after` and at least `hours` from now."""
    start = datetime.fromisoformat(after)
    free = journey.system.services.adapters.appointments.free_slots(clock.now(), 14)
    return next(
        slot
        for slot in free
        if datetime.fromisoformat(slot) > start
        and datetime.fromisoformat(slot) > clock.now() + timedelta(hours=hours)
    )


def book_video(journey: Journey, hours_ahead: float = 0) -> str:
    if "choose_proofing_method" in journey.active:
        journey.complete("choose_proofing_method", {"method": "video"})
    earliest = clock.now() + timedelta(hours=hours_ahead)
    slot = next(s for s in options(journey) if datetime.fromisoformat(s) > earliest)
    journey.complete("schedule_video_proofing", {"slot": slot})
    return slot


def test_moving_before_the_reminder_books_the_new_time_and_frees_the_old(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system)
    old = book_video(journey, hours_ahead=30)
    assert "video_proofing_interview" not in journey.active  # the reminder is not due yet
    old_link = journey.variables["appointment_join_url"]
    new = later_slot(journey, old)
    journey.message(MOVE, {"slot": new})
    variables = journey.variables
    assert variables["appointment_at"] == new
    assert variables["appointment_join_url"] != old_link
    assert variables["appointment_change_error"] is None
    free = system.services.adapters.appointments.free_slots(clock.now(), 14)
    assert old in free and new not in free
    [moved] = [text for text in emails(system) if "is moved to" in text]
    assert variables["appointment_join_url"] in moved
    assert f"{config.base_url}/orders/{journey.instance_id}" in moved
    # Still waiting for the (new) reminder, and still movable.
    assert "video_proofing_interview" not in journey.active


def test_moving_after_the_reminder_gives_the_agent_a_task_at_the_new_time(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system, country="DE")
    reach_interview(journey)
    [before] = journey.tasks(AGENT, "video_proofing_interview")
    new = later_slot(journey, journey.variables["appointment_at"], hours=30)
    journey.message(MOVE, {"slot": new})
    assert journey.variables["appointment_at"] == new
    assert "video_proofing_interview" not in journey.active  # its reminder is a day before
    due = datetime.fromisoformat(journey.variables["appointment_reminder_at"])
    journey.advance(seconds=(due - clock.now()).total_seconds() + 1)
    [after] = journey.tasks(AGENT, "video_proofing_interview")
    assert after["id"] != before["id"]
    assert after["due_at"] == datetime.fromisoformat(new).isoformat()
    reminders = [text for text in emails(system) if text.startswith("Reminder:")]
    assert len(reminders) == 2
    interview(journey)
    assert journey.variables["proofing_result"] == "passed"


def test_within_the_last_hour_a_move_or_cancel_is_refused_and_the_booking_stays(
    config: Config,
) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system, country="DE")
    reach_interview(journey)
    booked = journey.variables["appointment_at"]
    start = datetime.fromisoformat(booked)
    journey.advance(seconds=(start - timedelta(minutes=59) - clock.now()).total_seconds())
    journey.message(MOVE, {"slot": later_slot(journey, booked)})
    assert journey.variables["appointment_at"] == booked
    assert journey.variables["appointment_change_error"] == TOO_LATE
    assert "video_proofing_interview" in journey.active
    journey.message(CANCEL)
    assert journey.variables["appointment_at"] == booked
    assert "video_proofing_interview" in journey.active
    assert booked not in system.services.adapters.appointments.free_slots(clock.now(), 14)
    # One reminder only, although the timer ran again after each refusal.
    assert len([text for text in emails(system) if text.startswith("Reminder:")]) == 1


def test_a_move_to_a_time_someone_else_took_keeps_the_booking(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system, country="DE")
    old = book_video(journey, hours_ahead=30)
    taken = later_slot(journey, old)
    system.services.adapters.appointments.book(taken, "SO-99999", "someone-else")
    journey.message(MOVE, {"slot": taken})
    assert journey.variables["appointment_at"] == old
    assert "just been taken" in journey.variables["appointment_change_error"]
    journey.message(MOVE, {"slot": "tomorrow please"})
    assert journey.variables["appointment_change_error"].startswith("That time cannot be booked")


def test_cancelling_lets_a_us_customer_choose_the_proofing_method_again(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system)
    slot = book_video(journey)
    journey.message(CANCEL)
    assert "choose_proofing_method" in journey.active
    assert journey.variables["appointment_at"] is None
    assert slot in system.services.adapters.appointments.free_slots(clock.now(), 14)
    [cancelled] = [text for text in emails(system) if "is cancelled" in text]
    assert "book a new time" in cancelled
    assert f"{config.base_url}/orders/{journey.instance_id}" in cancelled


def test_cancelling_outside_the_us_offers_the_free_times_again(config: Config) -> None:
    system = journey_system(config)
    journey = order_to_proofing(system, country="DE")
    slot = book_video(journey, hours_ahead=30)
    journey.message(CANCEL)
    assert "schedule_video_proofing" in journey.active
    assert slot in options(journey)
    book_video(journey)
    assert journey.variables["appointment_cancelled"] is True
