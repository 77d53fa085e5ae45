"""Helper actions for proofing, activation and registration journeys.

Called processes are started on their own with the data the main journey would have
collected by then; where a test needs `activate_token` (which lives in the main process)
it walks the whole journey from purchase with `order_to_proofing`.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from domain.tokens.models import HardwareToken
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from service_layer.system import System
from tests.builders import AGENT, CUSTOMER, Journey
from tests.journey.builders_purchase import buy, license_keys_emailed
from tests.journey.builders_tokens import stock_tokens

SSN_LAST4 = "7395"
HOME = {
    "street": "12 Birch Road",
    "city": "Springfield",
    "postal_code": "62704",
    "phone": "(415) 555-0123",  # as US residents write it: no +1
    "date_of_birth": "1980-02-03",
}
# What the sandbox bureau knows to be true of HOME, question by question.
RIGHT_ANSWERS = {"street": "12 Birch Road", "birth_year": "1980", "phone": "0123"}
PROFILE = {"legal_first_name": "Jane", "legal_last_name": "Doe", "country": "US"}
INTERVIEW_PASSED = {
    "customer_attended": True,
    "id_document_type": "passport",
    "id_unexpired": True,
    "name_matches_id": True,
    "answers_correct": True,
    "approved": True,
    "notes": "",
}


def start_proofing(system: System, order_number: str = "SO-10001", **data: Any) -> Journey:
    journey = Journey(system)
    journey.start(
        "identity_proofing",
        data={"order_number": order_number, **PROFILE, **data},
    )
    return journey


def try_experian(journey: Journey, wrong: int = 0, ssn_last4: str = SSN_LAST4) -> None:
    """One Experian attempt from the details form on, with `wrong` answers wrong."""
    journey.complete("experian_identity", {**HOME, "ssn_last4": ssn_last4})
    if "experian_questions" not in journey.active:
        return  # not located
    task = journey.task("experian_questions")
    answers = {}
    for number, field in enumerate(task["fields"], 1):
        question_id = journey.variables[f"question_{number}_id"]
        right = RIGHT_ANSWERS[question_id]
        choices = [option["id"] for option in field["options"]]
        answers[field["id"]] = right if number > wrong else next(c for c in choices if c != right)
    journey.complete("experian_questions", answers)


def book_first_slot(journey: Journey) -> str:
    slot = journey.task("schedule_video_proofing")["fields"][0]["options"][0]["id"]
    journey.complete("schedule_video_proofing", {"slot": slot})
    return slot


def reach_interview(journey: Journey) -> None:
    """Book the first free slot and let the clock run to the reminder."""
    book_first_slot(journey)
    due = datetime.fromisoformat(journey.variables["appointment_reminder_at"])
    journey.advance(seconds=max(0.0, (due - clock.now()).total_seconds()) + 1)
    assert "video_proofing_interview" in journey.active


def interview(journey: Journey, **outcome: Any) -> None:
    journey.complete("video_proofing_interview", {**INTERVIEW_PASSED, **outcome}, actor=AGENT)


def proven_by_video(journey: Journey) -> str:
    """From the choice of proofing method through an approved interview: the activation
    code the agent was shown to read out."""
    journey.complete("choose_proofing_method", {"method": "video"})
    reach_interview(journey)
    interview(journey)
    return journey.notices["activation_code"]


def outbox_files(system: System, kind: str) -> list[Path]:
    """Messages of one kind in the outbox: email, letter, sms or voice. Sorted by name,
    which orders by the second they were sent, not within a second."""
    return sorted(system.config.outbox_dir.glob(f"*-{kind}-*"))


def emails(system: System) -> list[str]:
    """Each email in the outbox as its subject and plain-text body."""
    texts = []
    for path in outbox_files(system, "email"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        texts.append(f"{message['Subject']}\n{body.get_content()}")
    return texts


def sms_code(system: System, channel: str = "sms") -> str:
    """The code in the newest message sent (messages are seconds or minutes apart here)."""
    text = outbox_files(system, channel)[-1].read_text()
    match = re.search(r"code is (\d{6})", text)
    assert match, text
    return match.group(1)


def activation_code_in_letter(system: System) -> str:
    [letter] = outbox_files(system, "letter")
    match = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", letter.read_text())
    assert match, letter.read_text()
    return match.group(1)


def order_to_proofing(
    system: System,
    product: str = "token_with_proofing",
    actor: Actor = CUSTOMER,
    **profile: str,
) -> Journey:
    """The main journey from purchase to the first proofing (or activation) task, with
    `profile` over PROFILE (e.g. `country="DE"`)."""
    with unit_of_work(system.session_factory) as s:
        in_stock = s.scalar(select(func.count()).select_from(HardwareToken)) or 0
    stock_tokens(system, 1, prefix=f"PT{in_stock}-")
    journey = buy(system, actor, product=product)
    [key] = license_keys_emailed(system, journey.view()["business_key"])
    journey.complete("enter_license_key", {"license_key": key})
    journey.complete("confirm_profile", {**PROFILE, **profile})
    return journey
