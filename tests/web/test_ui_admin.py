"""The operator's pages: instance list with filters and paging, one instance with its
variables, audit trail, jobs and incidents, and the actions on it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from domain.accounts.users import find_user
from engine.clock import clock
from engine.db import unit_of_work
from engine.retention import purge_expired
from tests.builders import ADMIN
from tests.journey.builders_tokens import stock_tokens
from tests.web.builders_pages import Browser, buy, ui_system


@pytest.fixture
def system(config):
    return ui_system(config, tokens=0)


@pytest.fixture
def root(app):
    return Browser(app).login("root")


def start_for(system, username: str, count: int) -> list[str]:
    with unit_of_work(system.session_factory) as s:
        owner = find_user(s, username).id
    return [
        system.engine.start("hardware_token", ADMIN, {}, owner_id=owner)["id"] for _ in range(count)
    ]


def test_the_instance_list_pages_through_instances_newest_first(system, root):
    ids = start_for(system, "alice", 30)
    root.get("/admin/instances?limit=25")
    text = root.text()
    assert "30 instances, showing 1\u201325" in text
    assert len(re.findall(r'href="/admin/instances/[0-9a-f-]{36}"', root.page)) == 25
    assert f"/admin/instances/{ids[-1]}" in root.page  # newest first
    assert 'rel="next"' in root.page and 'rel="prev"' not in root.page
    next_url = re.search(r'href="([^"]+)" rel="next"', root.page).group(1).replace("&amp;", "&")
    root.get(next_url)
    assert "showing 26\u201330" in root.text()
    assert f"/admin/instances/{ids[0]}" in root.page
    assert 'rel="prev"' in root.page and 'rel="next"' not in root.page


def test_the_instance_list_filters_by_process_status_order_number_and_date(system, root):
    first, second = start_for(system, "alice", 2)
    system.engine.set_status(first, "suspend", ADMIN)
    root.get("/admin/instances?status=suspended")
    assert "1 instance," in root.text() and first in root.page and second not in root.page
    root.get("/admin/instances?process=registration")
    assert "0 instances" in root.text()
    today = clock.now().date()  # rows are stamped by the engine's clock
    root.get(f"/admin/instances?from={today}&to={today}")
    assert "2 instances" in root.text()
    root.get(f"/admin/instances?to={today - timedelta(days=1)}")
    assert "0 instances" in root.text()
    root.get(f"/admin/instances?from={today + timedelta(days=1)}")
    assert "0 instances" in root.text()
    root.get("/admin/instances?business_key=SO-99999&from=not-a-date&limit=x")
    assert "0 instances" in root.text()
    assert 'value="SO-99999"' in root.page


def test_the_instance_page_shows_variables_without_secrets_and_the_audit_trail(system, app):
    stock_tokens(system, 1)
    alice = Browser(app).login("alice")
    order_url = buy(alice)
    instance_id = order_url.rsplit("/", 1)[1]
    root = Browser(app).login("root")
    root.get(f"/admin/instances/{instance_id}")
    text = root.text()
    assert re.search(r"SO-\d{5}", text)
    assert "order_number" in text and "tracking_number" in text
    assert "4242424242424242" not in root.page
    assert not re.search(r"(?<![0-9A-Za-z])737(?![0-9A-Za-z])", text)  # the CVC, as a word
    assert "Audit trail" in text and "alice started hardware_token" in text
    assert (
        "alice completed Check out (fields: billing address, billing same as shipping, "
        "disclaimer accepted, payment method, po number, quantity, shipping address); "
        "card details passed on, not kept"
    ) in text
    assert "Token shipped (Ship token) · Order number SO-" in text
    assert '"fields"' not in root.page and "&#34;fields&#34;" not in root.page  # no JSON
    assert "enter_license_key" in text  # where it stands
    assert 'data-markers-url="/admin/instances/' in root.page  # the diagram, marked


def test_the_audit_trail_pages_fifty_events_newest_first(system, root):
    [instance_id] = start_for(system, "alice", 1)
    for _ in range(30):  # each suspend and resume is an event
        system.engine.set_status(instance_id, "suspend", ADMIN)
        system.engine.set_status(instance_id, "resume", ADMIN)
    url = f"/admin/instances/{instance_id}"
    root.get(url)
    text = root.text()
    assert re.search(r"6\d events, newest first · page 1 of 2", text), text[-3000:]
    assert text.count("Instance resumed by root") + text.count("Instance suspended by root") == 50
    assert "started hardware_token" not in text  # the oldest event is on page 2
    assert f'href="{url}?events_page=2#audit-title">Older events' in root.page
    root.get(f"{url}?events_page=2")
    assert "started hardware_token" in root.text() and "Newer events" in root.text()
    assert root.get(f"{url}?events_page=99").status_code == 200


def test_an_admin_suspends_resumes_and_terminates_an_instance(system, root):
    [instance_id] = start_for(system, "alice", 1)
    url = f"/admin/instances/{instance_id}"
    root.get(url)
    root.follow(root.post(f"{url}/suspend"))
    assert "Suspended." in root.text() and "Resume" in root.text()
    root.follow(root.post(f"{url}/resume"))
    assert "Resumed." in root.text()
    root.follow(root.post(f"{url}/terminate"))
    assert "Terminated." in root.text()
    assert "Terminate…" not in root.text()
    root.follow(root.post(f"{url}/resume"))
    assert "The instance is terminated." in root.text()


def test_a_terminated_instance_is_listed_as_terminated(system, root):
    [instance_id] = start_for(system, "alice", 1)
    url = f"/admin/instances/{instance_id}"
    root.get(url)
    root.follow(root.post(f"{url}/terminate"))
    assert "status-terminated" in root.page


def test_an_admin_runs_a_retry_now_and_retries_the_incident(system, app):
    alice = Browser(app).login("alice")
    order_url = buy(alice)  # no token in stock: allocation fails and is retried
    instance_id = order_url.rsplit("/", 1)[1]
    root = Browser(app).login("root")
    url = f"/admin/instances/{instance_id}"
    for _ in range(2):
        root.get(url)
        assert "allocate_token" in root.text()
        job = re.search(r'action="(/admin/jobs/\d+/run)"', root.page)
        if job is None:
            break
        root.follow(root.post(job.group(1), {"instance_id": instance_id}))
    root.get(url)
    assert "Incident" in root.text() and "Retry" in root.text()
    stock_tokens(system, 1)
    retry = re.search(r'action="(/admin/incidents/\d+/retry)"', root.page).group(1)
    root.follow(root.post(retry, {"instance_id": instance_id}))
    assert "Incident retried." in root.text()
    alice.get(order_url)
    assert "Tracking number" in alice.text()


def test_an_admin_runs_a_timer_now(system, app):
    stock_tokens(system, 1)
    alice = Browser(app).login("alice")
    order_url = buy(alice, payment_method="invoice", card_number="", card_expiry="", card_cvc="")
    instance_id = order_url.rsplit("/", 1)[1]
    root = Browser(app).login("root")
    root.get(f"/admin/instances/{instance_id}")
    assert "payment_or_reminder timer" in root.text() and "payment_deadline timer" in root.text()
    run = re.search(r'action="(/admin/jobs/\d+/run)"', root.page).group(1)
    root.follow(root.post(run, {"instance_id": instance_id}))
    assert "Job run." in root.text()
    assert "payment_reminders_sent" in root.text()


def test_admin_pages_are_for_admins_only(system, app):
    [instance_id] = start_for(system, "alice", 1)
    for name in ("pat", "sam", "fran", "alice"):
        browser = Browser(app).login(name)
        assert browser.get("/admin/instances").status_code == 403
        assert browser.get(f"/admin/instances/{instance_id}").status_code == 403
        browser.get("/")
        assert browser.post(f"/admin/instances/{instance_id}/terminate").status_code == 403


def test_an_admin_sends_a_message_the_instance_waits_for_with_its_key_filled_in(system, app):
    stock_tokens(system, 1)
    alice = Browser(app).login("alice")
    instance_id = buy(alice).rsplit("/", 1)[1]
    root = Browser(app).login("root")
    url = f"/admin/instances/{instance_id}"
    root.get(url)
    number = re.search(r"SO-\d{5}", root.text()).group(0)
    assert "Waiting for messages" in root.text()
    assert 'name="name" value="token_delivered"' in root.page
    assert f'name="correlation_key" value="{number}"' in root.page
    root.follow(
        root.post(
            f"{url}/messages",
            {
                "name": "token_delivered",
                "correlation_key": number,
                "data": '{"carrier_status": "delivered"}',
            },
        )
    )
    assert "Message token_delivered sent." in root.text()
    assert "delivered_at" in root.text() and "carrier_status" in root.text()
    assert 'value="token_delivered"' not in root.page  # nothing waits for it any more


def test_a_message_whose_data_is_no_json_object_is_refused_and_not_sent(system, app):
    stock_tokens(system, 1)
    alice = Browser(app).login("alice")
    instance_id = buy(alice).rsplit("/", 1)[1]
    root = Browser(app).login("root")
    url = f"/admin/instances/{instance_id}"
    root.get(url)
    number = re.search(r"SO-\d{5}", root.text()).group(0)
    for data in ("{not json", "[1, 2]"):
        form = {"name": "token_delivered", "correlation_key": number, "data": data}
        root.follow(root.post(f"{url}/messages", form))
        assert "The data must be a JSON object" in root.text()
        assert 'value="token_delivered"' in root.page  # still waiting
    root.follow(root.post(f"{url}/messages", {"name": "nothing_waits", "correlation_key": number}))
    assert "is waiting for message 'nothing_waits'" in root.text()


def test_only_admins_send_messages_from_the_instance_page(system, app):
    [instance_id] = start_for(system, "alice", 1)
    for name in ("pat", "sam", "fran", "alice"):
        browser = Browser(app).login(name)
        browser.get("/")
        answer = browser.post(
            f"/admin/instances/{instance_id}/messages",
            {"name": "token_delivered", "correlation_key": "SO-10001"},
        )
        assert answer.status_code == 403


def test_an_admin_sees_when_an_instance_s_personal_data_was_removed(system, root):
    [instance_id] = start_for(system, "alice", 1)
    url = f"/admin/instances/{instance_id}"
    root.get(url)
    root.follow(root.post(f"{url}/terminate"))
    assert "Personal data" not in root.text()
    clock.advance(timedelta(days=3651))  # hardware_token keeps ten years
    assert purge_expired(system.session_factory, system.config.history_ttl_days) == 1
    root.get(url)
    assert "Personal data" in root.text() and "Removed" in root.text()
    assert "personal data removed after the retention period" in root.text()
    assert root.client.get(f"{url}/elements.json").status_code == 200
