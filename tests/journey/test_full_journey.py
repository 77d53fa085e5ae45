"""The whole `hardware_token` journey end to end, and what it leaves behind."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import ProcessInstance
from tests.builders import AGENT, Journey, journey_system
from tests.journey.builders_proofing import (
    SSN_LAST4,
    book_first_slot,
    interview,
    order_to_proofing,
    try_experian,
)
from tests.journey.builders_purchase import (
    APPROVED_CARD,
    emails,
    license_keys_emailed,
    stored_text,
    text_of,
)
from tests.journey.builders_tokens import deliver_and_register


def test_a_token_without_proofing_goes_from_purchase_to_an_active_credential(config):
    system = journey_system(config)
    journey = order_to_proofing(system, product="token_without_proofing")
    journey.complete("activate_token", {})
    deliver_and_register(journey)
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["credential_expires_at"]
    assert {"order_number", "product", "token_serial", "tracking_number"} <= set(
        journey.engine.instance(journey.instance_id, journey.actor)["variables"]
    )
    # The credential's term is now watched by a renewal instance of the same customer.
    renewal = Journey(system)
    with unit_of_work(system.session_factory) as s:
        [renewal.instance_id] = s.scalars(
            select(ProcessInstance.id).where(ProcessInstance.process_key == "renewal")
        ).all()
    watching = renewal.view()
    assert watching["business_key"] == view["business_key"]
    assert watching["status"] == "running"
    assert (
        watching["variables"]["credential_expires_at"] == view["variables"]["credential_expires_at"]
    )
    assert journey.engine.instance(renewal.instance_id, journey.actor)["id"]  # the owner sees it


def test_after_a_full_proofing_journey_no_secret_is_stored_logged_or_mailed(config, caplog):
    caplog.set_level(logging.DEBUG)
    system = journey_system(config)
    journey = order_to_proofing(system, product="token_with_proofing")
    order = journey.view()["business_key"]
    [license_key] = license_keys_emailed(system, order)
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, wrong=3)
    try_experian(journey, wrong=3)  # two failures: on to video
    book_first_slot(journey)
    journey.advance(days=14)
    interview(journey)
    activation_code = journey.notices["activation_code"]
    journey.complete("activate_token", {"activation_code": activation_code})
    deliver_and_register(journey)
    assert journey.view()["status"] == "completed"

    secrets = {
        "card number": APPROVED_CARD,
        "SSN digits": SSN_LAST4,
        "license key": license_key,
        "activation code": activation_code,
    }
    dump = stored_text(system)  # every table, audit trail included
    logs = caplog.text
    mails = [(str(m["Subject"]), text_of(m)) for m in emails(system)]
    for name, value in secrets.items():
        # Whole tokens only: four digits turn up inside random hex by chance.
        found = re.compile(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])")
        assert not found.search(dump), f"{name} stored in the database"
        assert not found.search(logs), f"{name} logged"
        carriers = [subject for subject, body in mails if found.search(subject + body)]
        if name == "license key":
            assert len(carriers) == 1 and "license key" in carriers[0].lower(), carriers
        else:
            assert carriers == [], f"{name} emailed in {carriers}"
    assert AGENT.name in dump  # the interview is audited with who did it


def test_the_whole_journey_runs_with_every_step_loaded_back_from_the_database(config):
    """No workflow kept in memory between steps: each step reads what the last one saved,
    so anything the persistence lost would derail the journey."""
    system = journey_system(config)
    system.engine.cache.capacity = 0
    journey = order_to_proofing(system, product="token_with_proofing")
    journey.complete("choose_proofing_method", {"method": "experian"})
    try_experian(journey, wrong=3)
    try_experian(journey, wrong=3)
    book_first_slot(journey)
    journey.advance(days=14)
    interview(journey)
    journey.complete("activate_token", {"activation_code": journey.notices["activation_code"]})
    deliver_and_register(journey)
    view = journey.view()
    assert view["status"] == "completed"
    assert view["variables"]["proofing_result"] == "passed"
