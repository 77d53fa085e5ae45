"""The booked video interview on the order page: time (in the browser's zone), join
link, and "Move" / "Cancel interview" until an hour before, through the process."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domain.accounts.models import User
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from tests.builders import Journey
from tests.journey.builders_proofing import interview, order_to_proofing
from tests.web.builders_pages import Browser

SCRIPT = Path(__file__).resolve().parents[2] / "web" / "static" / "local-time.js"


def customer(system, name: str = "alice") -> Actor:
    with unit_of_work(system.session_factory) as s:
        user_id = s.scalar(select(User.id).where(User.username == name))
    return Actor(name, frozenset({"customer"}), user_id=user_id)


def booked(system, hours_ahead: float = 30, **profile: str) -> tuple[Journey, str]:
    """Alice's order with an interview booked at least `hours_ahead` from now."""
    journey = order_to_proofing(system, actor=customer(system), **profile)
    if "choose_proofing_method" in journey.active:
        journey.complete("choose_proofing_method", {"method": "video"})
    field = journey.task("schedule_video_proofing")["fields"][0]
    earliest = clock.now() + timedelta(hours=hours_ahead)
    slot = next(o["id"] for o in field["options"] if datetime.fromisoformat(o["id"]) > earliest)
    journey.complete("schedule_video_proofing", {"slot": slot})
    return journey, slot


def test_the_order_page_shows_the_interview_time_join_link_and_move_form(system, alice) -> None:
    journey, slot = booked(system)
    alice.get(f"/orders/{journey.instance_id}")
    link = journey.variables["appointment_join_url"]
    assert f'<time datetime="{slot}" data-local-time>' in alice.page
    assert link in alice.page
    assert (
        'id="move-appointment"' in alice.page
        and '<label for="new-time">New time</label>' in alice.page
    )
    assert ">Move</button>" in alice.page and ">Cancel interview</a>" in alice.page
    # Nothing chosen until the customer chooses: a stray "Move" must not take the earliest.
    first_option = re.search(r'<select id="new-time"[^>]*>\s*(<option[^>]*>[^<]*)', alice.page)
    assert first_option.group(1) == '<option value="">Choose a new time…'
    assert "local-time.js" in alice.page
    text = alice.text()
    assert "Your video interview" in text and "until" in text


def test_someone_else_sees_neither_the_order_nor_the_join_link(system, app) -> None:
    journey, _slot = booked(system)
    bob = Browser(app).login("bob")
    assert bob.get(f"/orders/{journey.instance_id}").status_code == 404
    assert bob.get(f"/orders/{journey.instance_id}/appointment/cancel").status_code == 404
    response = bob.post(f"/orders/{journey.instance_id}/appointment/cancel", page="/")
    assert response.status_code == 404
    assert journey.variables["appointment_id"]


def test_moving_from_the_order_page_books_the_new_time(system, alice) -> None:
    journey, slot = booked(system)
    page = f"/orders/{journey.instance_id}"
    alice.get(page)
    free = system.services.adapters.appointments.free_slots(clock.now(), 14)
    new = next(s for s in free if s > slot)
    response = alice.post(f"{page}/appointment/move", {"slot": new}, page=page)
    alice.follow(response)
    assert journey.variables["appointment_at"] == new
    assert "Your interview is moved to" in alice.text()
    assert f'<time datetime="{new}" data-local-time>' in alice.page


def test_a_taken_time_is_reported_and_the_interview_stays(system, alice) -> None:
    journey, slot = booked(system)
    page = f"/orders/{journey.instance_id}"
    alice.get(page)
    free = system.services.adapters.appointments.free_slots(clock.now(), 14)
    taken = next(s for s in free if s > slot)
    system.services.adapters.appointments.book(taken, "SO-99999", "another-customer")
    alice.follow(alice.post(f"{page}/appointment/move", {"slot": taken}, page=page))
    assert "just been taken" in alice.text()
    assert journey.variables["appointment_at"] == slot


def test_cancelling_from_the_order_page_offers_booking_again(system, alice) -> None:
    journey, _slot = booked(system, country="DE")
    page = f"/orders/{journey.instance_id}"
    alice.get(f"{page}/appointment/cancel")
    assert "Cancel your video interview?" in alice.text()
    assert "schedule_video_proofing" not in journey.active  # asking is not cancelling
    alice.follow(alice.post(f"{page}/appointment/cancel", page=f"{page}/appointment/cancel"))
    assert "Your interview is cancelled" in alice.text()
    assert "schedule_video_proofing" in journey.active
    assert 'id="move-appointment"' not in alice.page
    assert "Book video interview" in alice.text()


def test_within_the_last_hour_the_page_explains_and_refuses_a_change(system, alice) -> None:
    journey, slot = booked(system, hours_ahead=2)
    start = datetime.fromisoformat(slot)
    journey.advance(seconds=(start - timedelta(minutes=50) - clock.now()).total_seconds())
    page = f"/orders/{journey.instance_id}"
    alice.get(page)
    assert 'id="move-appointment"' not in alice.page
    assert "can no longer be moved or cancelled" in alice.text()
    alice.follow(alice.get(f"{page}/appointment/cancel"))
    assert "can no longer be moved or cancelled" in alice.text()
    alice.follow(alice.post(f"{page}/appointment/cancel", page=page))
    assert "can no longer be moved or cancelled" in alice.text()
    assert journey.variables["appointment_at"] == slot


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/Los_Angeles", "1:30"),  # 09:30 UTC in December is 01:30 PST
        ("Europe/Berlin", "10:30"),  # 10:30 CET
    ],
)
def test_the_script_shows_the_time_in_the_browsers_zone(zone: str, expected: str) -> None:
    """local-time.js, run with a minimal document in a browser-like zone."""
    harness = """
const fs = require('fs');
const el = {attrs: {datetime: '2026-12-08T09:30:00+00:00'},
  textContent: 'Tuesday 8 December 2026 at 09:30 UTC',
  getAttribute(n) { return this.attrs[n]; }};
global.document = {readyState: 'complete', querySelectorAll: () => [el]};
eval(fs.readFileSync(process.argv[1], 'utf8'));
console.log(JSON.stringify({text: el.textContent, title: el.title}));
"""
    run = subprocess.run(
        ["node", "-e", harness, str(SCRIPT)],
        capture_output=True,
        text=True,
        env={"TZ": zone, "PATH": "/usr/bin:/bin", "LANG": "en_US.UTF-8"},
        check=True,
        timeout=30,
    )
    shown = json.loads(run.stdout)
    assert expected in shown["text"] and zone.replace("_", " ") in shown["text"]
    assert "December" in shown["text"]
    assert shown["title"] == "Tuesday 8 December 2026 at 09:30 UTC"


def test_after_the_interview_the_order_page_no_longer_offers_changes(system, alice) -> None:
    journey, slot = booked(system, hours_ahead=2)
    due = datetime.fromisoformat(journey.variables["appointment_reminder_at"])
    journey.advance(seconds=max(0.0, (due - clock.now()).total_seconds()) + 1)
    interview(journey)
    alice.get(f"/orders/{journey.instance_id}")
    assert "Your video interview" not in alice.text()
    assert f'datetime="{slot}"' not in alice.page
