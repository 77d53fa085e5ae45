"""Audit chains per subject: a verification joins the chain of the person it is about, so
verifications of different people never wait on one chain head."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from domain.credentials import verification
from domain.relying_apps.apps import app_for_key
from domain.relying_apps.models import RelyingApp
from engine import audit
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import AuditChain, AuditEvent
from service_layer.config import Config
from tests.lifecycle.builders import Life, code_now, issue_credential


def chains_of(life: Life, event: str) -> list[str]:
    with unit_of_work(life.system.session_factory) as s:
        query = select(AuditEvent.chain).where(AuditEvent.event == event).order_by(AuditEvent.id)
        return list(s.scalars(query))


def test_each_persons_verifications_go_to_that_persons_chain_and_unknown_names_to_the_apps(
    life: Life,
) -> None:
    alice, bob = (
        issue_credential(life, "alice", "TOK001"),
        issue_credential(life, "bob", "TOK002", order_number="SO-10002"),
    )
    assert life.verify("aerospace-portal", "alice", code_now(alice))["valid"]
    assert life.verify("aerospace-portal", "bob", code_now(bob))["valid"]
    assert not life.verify("aerospace-portal", "nobody", "123456")["valid"]
    with unit_of_work(life.system.session_factory) as s:
        app_id = app_for_key(s, life.keys["aerospace-portal"]).id  # type: ignore[union-attr]
    assert chains_of(life, "otp.verified") == [
        f"user:{life.users['alice']}",
        f"user:{life.users['bob']}",
        f"app:{app_id}",
    ]


def test_a_lockout_is_audited_in_the_chain_of_the_verification_that_caused_it(
    life: Life,
) -> None:
    life.system.services.settings["otp_max_failures"] = 1
    token = issue_credential(life, "alice", "TOK001")
    wrong = "000000" if code_now(token) != "000000" else "111111"
    assert life.verify("aerospace-portal", "alice", wrong)["reason"] == "invalid_code"
    assert chains_of(life, "token.locked") == [f"user:{life.users['alice']}"]


def test_a_resync_and_a_support_reset_join_the_owners_chain(
    life: Life,
) -> None:
    token = issue_credential(life, "alice", "TOK001")
    body = {"serial": "TOK001", "code1": code_now(token, 1), "code2": code_now(token, 2)}
    assert life.post("alice", "/api/v1/tokens/resync", json=body).status_code == 200
    assert life.post("sam", "/api/v1/tokens/TOK001/reset").status_code == 200
    alice = f"user:{life.users['alice']}"
    assert chains_of(life, "token.resynced") + chains_of(life, "token.reset") == [alice, alice]


def test_audit_verify_checks_every_chain_and_finds_an_edit_in_a_persons_chain(
    life: Life,
) -> None:
    token = issue_credential(life, "alice", "TOK001")
    life.verify("aerospace-portal", "alice", code_now(token))
    chain = f"user:{life.users['alice']}"  # user.created, then otp.verified
    with unit_of_work(life.system.session_factory) as s:
        assert audit.verify(s) == []
        s.execute(
            update(AuditEvent)
            .where(AuditEvent.chain == chain, AuditEvent.event == "otp.verified")
            .values(details={"username": "mallory", "valid": True})
        )
    with unit_of_work(life.system.session_factory) as s:
        assert [str(b) for b in audit.verify(s)] == [f"{chain}#2: content was changed"]


def test_two_first_events_of_one_new_chain_in_two_sessions_both_commit(
    config: Config, life: Life
) -> None:
    if config.database_url.startswith("sqlite"):
        pytest.skip("SQLite lets one writer in at a time")
    factory = life.system.session_factory
    with unit_of_work(factory) as first:
        audit.record(first, "probe.first", subject="probe:1")
        audit.write_pending(first)
        # The second finds no head either and must wait for the first's, not fail on it.
        done: list[str] = []

        def second() -> None:
            with unit_of_work(factory) as s:
                audit.record(s, "probe.second", subject="probe:1")
            done.append("ok")

        racer = threading.Thread(target=second)
        racer.start()
        racer.join(0.5)
        assert done == []  # waiting on the first's head
    racer.join(10)
    assert done == ["ok"]
    with unit_of_work(factory) as s:
        head = s.get(AuditChain, "probe:1")
        assert head is not None and head.length == 2
        assert audit.verify(s) == []


def test_two_concurrent_verifications_of_different_people_hold_no_common_row_lock(
    config: Config, life: Life
) -> None:
    if config.database_url.startswith("sqlite"):
        pytest.skip("SQLite locks the whole database for a writer; row locks are PostgreSQL's")
    alice = issue_credential(life, "alice", "TOK001")
    bob = issue_credential(life, "bob", "TOK002", order_number="SO-10002")
    factory, services = life.system.session_factory, life.system.services
    with unit_of_work(factory) as s:
        app = app_for_key(s, life.keys["aerospace-portal"])
    assert app is not None
    with unit_of_work(factory) as first:
        outcome = verification.verify(first, services, app, "alice", code_now(alice), clock.now())
        assert outcome.valid
        audit.write_pending(first)  # alice's token row and chain head are locked now
        with unit_of_work(factory) as second:
            # Any row alice's transaction holds would make this fail, not wait.
            second.execute(text("SET LOCAL lock_timeout = '1s'"))
            outcome = verification.verify(second, services, app, "bob", code_now(bob), clock.now())
            assert outcome.valid
    with unit_of_work(factory) as s:
        assert audit.verify(s) == []


def test_a_deactivated_application_is_refused_at_once_here_and_within_seconds_elsewhere(
    life: Life,
) -> None:
    token = issue_credential(life, "alice", "TOK001")
    body = {"username": "alice", "code": code_now(token)}
    intranet = {"Authorization": f"Bearer {life.keys['intranet']}"}
    portal = {"Authorization": f"Bearer {life.keys['aerospace-portal']}"}
    assert life.client.post("/api/v1/otp/verify", json=body, headers=intranet).status_code == 200
    assert life.client.post("/api/v1/otp/verify", json=body, headers=portal).status_code == 200

    answer = life.post("root", "/api/v1/apps/intranet/deactivate")
    assert (answer.status_code, answer.json["active"]) == (200, False)
    assert life.client.post("/api/v1/otp/verify", json=body, headers=intranet).status_code == 401

    # Another web process deactivates the portal: this one remembers the key a little while.
    with unit_of_work(life.system.session_factory) as s:
        s.execute(
            update(RelyingApp).where(RelyingApp.name == "aerospace-portal").values(active=False)
        )
    assert life.client.post("/api/v1/otp/verify", json=body, headers=portal).status_code == 200
    clock.advance(timedelta(seconds=6))
    assert life.client.post("/api/v1/otp/verify", json=body, headers=portal).status_code == 401


def test_a_clock_set_back_does_not_stretch_how_long_a_key_is_remembered(life: Life) -> None:
    key = life.keys["aerospace-portal"]
    with unit_of_work(life.system.session_factory) as s:
        assert app_for_key(s, key) is not None  # remembered from now
        s.execute(
            update(RelyingApp).where(RelyingApp.name == "aerospace-portal").values(active=False)
        )
    clock.advance(timedelta(hours=-1))
    with unit_of_work(life.system.session_factory) as s:
        assert app_for_key(s, key) is None
