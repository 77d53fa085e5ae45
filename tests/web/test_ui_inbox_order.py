"""Staff inboxes: the interview's appointment time as a sortable column, today's
interviews first in the proofing inbox, filters by due date and appointment time, and
finance's home counting the invoices that wait for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from domain.accounts.models import User
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from tests.builders import Journey
from tests.journey.builders_proofing import order_to_proofing
from tests.web.builders_pages import CHECKOUT, Browser, buy


def customer(system, name: str) -> Actor:
    with unit_of_work(system.session_factory) as s:
        user_id = s.scalar(select(User.id).where(User.username == name))
    return Actor(name, frozenset({"customer"}), user_id=user_id)


def book(system, name: str, slot: str) -> Journey:
    journey = order_to_proofing(system, actor=customer(system, name), country="DE")
    journey.complete("schedule_video_proofing", {"slot": slot})
    return journey


def two_interviews(system) -> tuple[Journey, Journey]:
    """Bob's interview is yesterday's (not yet run), Alice's today's; the clock stands on
    Alice's day, two hours before it, with both interviews ready for the agent."""
    free = system.services.adapters.appointments.free_slots(clock.now(), 14)
    earlier = free[0]
    day = datetime.fromisoformat(earlier).date()
    later = next(s for s in free if datetime.fromisoformat(s).date() > day)
    bob = book(system, "bob", earlier)
    alice = book(system, "alice", later)
    start = datetime.fromisoformat(later)
    alice.advance(seconds=(start - timedelta(hours=2) - clock.now()).total_seconds())
    assert "video_proofing_interview" in alice.active and "video_proofing_interview" in bob.active
    return alice, bob


def numbers_in_order(page: str, *journeys: Journey) -> list[str]:
    keys = [j.view()["business_key"] for j in journeys]
    return sorted(keys, key=page.index)


def test_the_proofing_inbox_shows_todays_interviews_first_with_their_time(system, app) -> None:
    alice, bob = two_interviews(system)
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent")
    [a, b] = [j.view()["business_key"] for j in (alice, bob)]
    assert numbers_in_order(pat.page, alice, bob) == [a, b]
    assert f'<time datetime="{alice.variables["appointment_at"]}">' in pat.page
    assert "Today ·" in pat.text()
    assert 'aria-sort="ascending">Appointment' in pat.page
    pat.get("/inbox/proofing_agent?sort=due")  # the interview is due at its appointment
    assert numbers_in_order(pat.page, alice, bob) == [b, a]


def test_column_headers_link_to_each_order_and_keep_the_filters(system, app) -> None:
    two_interviews(system)
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent?appointment=today")
    for key in ("due", "created", "follow_up", "priority"):
        assert f'href="/inbox/proofing_agent?sort={key}&amp;appointment=today"' in pat.page


def test_inboxes_filter_by_appointment_day_and_due_date(system, app) -> None:
    alice, bob = two_interviews(system)
    [a, b] = [j.view()["business_key"] for j in (alice, bob)]
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent?appointment=today")
    assert a in pat.text() and b not in pat.text()
    pat.get("/inbox/proofing_agent?due=overdue")
    assert b in pat.text() and a not in pat.text()
    pat.get("/inbox/proofing_agent?appointment=none")
    assert "No task matches these filters." in pat.text()
    pat.get("/inbox/proofing_agent?due=whenever&sort=nonsense")  # unknown: all, default order
    assert numbers_in_order(pat.page, alice, bob) == [a, b]


def test_the_assigned_inbox_sorts_and_filters_too(system, app) -> None:
    two_interviews(system)
    root = Browser(app).login("root")
    response = root.get("/inbox?sort=appointment&due=today")
    assert response.status_code == 200
    assert '<input type="hidden" name="sort" value="appointment">' in root.page
    assert '<option value="today" selected>Today</option>' in root.page
    assert "No task matches these filters." in root.text()


def test_finance_home_counts_an_invoice_awaiting_payment(system, app, alice) -> None:
    no_card = {k: "" for k in CHECKOUT if k.startswith("card_")}
    buy(alice, payment_method="invoice", **no_card)
    fran = Browser(app).login("fran")
    fran.get("/")
    assert "Finance inbox · 1 waiting (1 invoice awaiting payment)" in fran.text()
