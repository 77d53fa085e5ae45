"""Staff pages: inboxes by lane, claim and release, a task beside its context, the
activation code shown once, finance's payments and support's SLA breaches."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from domain.accounts.users import create_user
from engine.clock import clock
from engine.db import unit_of_work
from engine.jobs import run_due_jobs
from tests.journey.builders_purchase import license_keys_emailed
from tests.web.builders_pages import (
    CHECKOUT,
    PASSWORD,
    Browser,
    buy,
    order_number,
    submit_task,
)

INTERVIEW = {
    "customer_attended": "true",
    "id_document_type": "passport",
    "id_unexpired": "true",
    "name_matches_id": "true",
    "answers_correct": "true",
    "approved": "true",
    "notes": "Passport checked on camera.",
}


def to_interview(system, alice: Browser) -> tuple[str, str]:
    """Alice buys with proofing, books a video interview, and the reminder fires."""
    order_url = buy(alice, product="token_with_proofing")
    alice.get(order_url)
    number = order_number(alice)
    [key] = license_keys_emailed(system, number)
    profile = submit_task(alice, alice.task_url(), {"license_key": key}).headers["Location"]
    response = submit_task(
        alice,
        profile,
        {"legal_first_name": "Jane", "legal_last_name": "<i>Doe</i>", "country": "DE"},
    )
    booking = response.headers["Location"]
    alice.get(booking)
    assert "Book video interview" in alice.text()
    slot = re.search(r'<option value="(\d{4}-[^"]+)"', alice.page).group(1)
    alice.post(booking, {"slot": slot})
    alice.get(order_url)
    assert "Video interview booked for" in alice.text()
    due = datetime.fromisoformat(slot) - timedelta(hours=24)
    clock.advance(max(timedelta(0), due - clock.now()) + timedelta(seconds=1))
    run_due_jobs(system.engine, "test-worker")
    return order_url, number


def test_the_proofing_inbox_lists_ready_interviews_with_their_age(system, app, alice):
    _order_url, number = to_interview(system, alice)
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent")
    text = pat.text()
    assert "Identity proofing inbox" in text and "1 task ready" in text
    assert re.search(rf"Run video interview {number} (just now|\d+ (min|h|d))", text)


def test_an_agent_claims_runs_the_interview_and_sees_the_activation_code_once(system, app, alice):
    order_url, number = to_interview(system, alice)
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent")
    task_url = pat.task_url()
    response = pat.post(f"{task_url}/claim", {"next": "/inbox/proofing_agent"})
    assert response.headers["Location"] == "/inbox/proofing_agent"
    pat.get("/inbox/proofing_agent")
    assert "pat" in pat.text() and "Release" in pat.text()
    pat.get(task_url)
    text = pat.text()
    assert "Run video interview" in text and f"Order number {number}" in text
    assert "alice · alice@example.com" in text
    assert "task.claimed" in text and "instance.started" in text
    assert "&lt;i&gt;Doe&lt;/i&gt;" in pat.page and "<i>Doe</i>" not in pat.page
    response = pat.post(task_url, INTERVIEW)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    code = re.search(r'id="activation-code">([^<]+)<', pat.page).group(1)
    assert "shown only once" in pat.text()
    # Never again: the task is done, and the code is nowhere to be seen.
    response = pat.get(task_url)
    assert response.status_code == 302
    pat.follow(response)
    assert "already done" in pat.text() and code not in pat.page
    alice.get(order_url)
    assert code not in alice.page
    assert "Your identity is proven." in alice.text()
    activate = alice.task_url()
    alice.get(activate)
    assert 'name="activation_code"' in alice.page  # a code was issued: the form asks for it
    response = submit_task(alice, activate, {"activation_code": code.lower()})
    assert response.status_code == 302, alice.text()[:800]
    alice.follow(response)
    assert "Your token is activated." in alice.text()


def test_an_agent_cannot_work_another_lanes_task(system, app, alice):
    to_interview(system, alice)
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent")
    task_url = pat.task_url()
    sam = Browser(app).login("sam")
    assert sam.get(task_url).status_code == 403
    assert "proofing_agent lane" in sam.text()
    sam.get("/")
    assert sam.post(task_url, INTERVIEW).status_code == 403
    assert sam.post(f"{task_url}/claim").status_code == 403
    assert sam.get("/inbox/proofing_agent").status_code == 403


def test_a_task_claimed_by_someone_else_cannot_be_completed(system, app, alice):
    to_interview(system, alice)
    with unit_of_work(system.session_factory) as s:
        create_user(s, "quinn", PASSWORD, ["proofing_agent"])
    pat = Browser(app).login("pat")
    pat.get("/inbox/proofing_agent")
    task_url = pat.task_url()
    pat.post(f"{task_url}/claim")
    quinn = Browser(app).login("quinn")
    quinn.get(task_url)
    assert "Claimed by pat: only they can complete it." in quinn.text()
    response = quinn.post(task_url, INTERVIEW)
    quinn.follow(response)
    assert "This task is claimed by pat." in quinn.text()


def test_finance_records_an_invoice_payment_and_the_order_is_paid(system, app, alice):
    no_card = {k: "" for k in CHECKOUT if k.startswith("card_")}
    order_url = buy(alice, payment_method="invoice", po_number="PO-4711", **no_card)
    alice.get(order_url)
    number = order_number(alice)
    assert "Waiting for payment of invoice" in alice.text()
    fran = Browser(app).login("fran")
    fran.get("/inbox/finance")
    text = fran.text()
    assert "Invoices awaiting payment" in text and number in text and "PO-4711" in text
    response = fran.post("/finance/payments", {"order_number": number, "reference": "BANK-1"})
    fran.follow(response)
    assert f"Payment recorded for {number}." in fran.text()
    assert "No invoice is waiting for payment." in fran.text()
    response = fran.post("/finance/payments", {"order_number": number})
    fran.follow(response)
    assert "Not recorded:" in fran.text()
    alice.get(order_url)
    assert "Paid by invoice on" in alice.text()


def test_support_sees_a_license_key_sla_breach_and_resends_the_key(system, app, alice, monkeypatch):
    import handlers.license_keys

    real_send = handlers.license_keys.send_email

    def failing(ctx, template, **kw):
        raise ConnectionError("mail server down")

    monkeypatch.setattr(handlers.license_keys, "send_email", failing)
    order_url = buy(alice)
    alice.get(order_url)
    number = order_number(alice)
    assert license_keys_emailed(system, number) == []
    clock.advance(timedelta(hours=25))
    run_due_jobs(system.engine, "test-worker")
    sam = Browser(app).login("sam")
    sam.get("/inbox/support")
    assert "License key SLA breaches" in sam.text()
    assert number in sam.text()
    monkeypatch.setattr(handlers.license_keys, "send_email", real_send)
    task_url = sam.task_url()
    sam.get(task_url)
    assert "Handle late license key email" in sam.text()
    response = sam.post(task_url, {"resolution": "resend", "notes": "Mail server was down."})
    assert response.status_code == 302, sam.text()[:800]
    assert len(license_keys_emailed(system, number)) == 1


def test_support_resends_a_license_key_on_request_and_the_old_one_stops_working(system, app, alice):
    order_url = buy(alice)
    alice.get(order_url)
    number = order_number(alice)
    [old_key] = license_keys_emailed(system, number)
    sam = Browser(app).login("sam")
    sam.get("/inbox/support")
    sam.follow(sam.post("/support/resend-license-key", {"order_number": number}))
    assert f"A new license key is on its way for {number}." in sam.text()
    sam.follow(sam.post("/support/resend-license-key", {"order_number": number}))
    assert f"A new license key is on its way for {number}." in sam.text()
    keys = license_keys_emailed(system, number)
    assert len(keys) == 3 and len(set(keys)) == 3  # every request sends a new key
    sam.follow(sam.post("/support/resend-license-key", {"order_number": "SO-99999"}))
    assert "Not sent:" in sam.text()
    # The customer's key entry opens afresh and takes the newest key only.
    alice.get(order_url)
    task_url = alice.task_url()
    response = submit_task(alice, task_url, {"license_key": old_key})
    assert response.status_code == 422
    response = submit_task(alice, task_url, {"license_key": keys[1]})
    assert response.status_code == 422
    response = submit_task(alice, task_url, {"license_key": keys[2]})
    assert response.status_code == 302
