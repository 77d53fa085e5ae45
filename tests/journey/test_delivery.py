"""The sandbox carrier delivers on its own: the worker follows each parcel and the
process hears `token_delivered` the way it would from a real carrier's tracking."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.orders.models import SalesOrder
from domain.shipping.models import TrackingEvent
from domain.shipping.tracking import tracking_events
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import AuditEvent
from engine.registry import Registry
from service_layer.config import Config, ConfigError
from tests.builders import journey_system
from tests.journey.builders_purchase import buy
from tests.journey.builders_tokens import stock_tokens
from tokenflow.demo import in_words, load_demo
from tokenflow.system import build_system
from tokenflow.worker import Worker, follow_parcels


def statuses(system, number: str) -> list[str]:
    with unit_of_work(system.session_factory) as s:
        return [event["status"] for event in tracking_events(s, number)]


def correlations(system, instance_id: str) -> int:
    with unit_of_work(system.session_factory) as s:
        return s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.instance_id == instance_id, AuditEvent.event == "message.correlated")
        )


@pytest.fixture
def shipped(config):
    system = journey_system(config)
    stock_tokens(system, 1)
    journey = buy(system)
    assert "token_delivered_event" in journey.active
    return system, journey, journey.view()["business_key"]


def test_an_order_is_delivered_by_the_carrier_with_no_message_sent_by_hand(shipped):
    system, journey, number = shipped
    clock.advance(timedelta(days=3))

    Worker(system).tick()  # what `tokenflow worker` does every second

    assert "token_delivered_event" not in journey.active
    assert journey.variables["delivered_at"]
    assert statuses(system, number) == ["in_transit", "out_for_delivery", "delivered"]
    with unit_of_work(system.session_factory) as s:
        order = s.scalars(select(SalesOrder).where(SalesOrder.order_number == number)).one()
        assert order.delivered_at is not None


def test_the_parcel_is_on_its_way_until_the_delivery_time_has_passed(shipped):
    system, journey, number = shipped
    clock.advance(timedelta(days=1))
    assert follow_parcels(system) == 0
    assert statuses(system, number) == ["in_transit"]
    clock.advance(timedelta(days=1, hours=12))
    assert follow_parcels(system) == 0
    assert statuses(system, number) == ["in_transit", "out_for_delivery"]
    assert "token_delivered_event" in journey.active


def test_a_repeated_report_changes_nothing(shipped):
    system, journey, _ = shipped
    clock.advance(timedelta(days=4))
    assert follow_parcels(system) == 1
    clock.advance(timedelta(days=1))
    assert follow_parcels(system) == 0
    assert correlations(system, journey.instance_id) == 1
    with unit_of_work(system.session_factory) as s:
        assert s.scalar(select(func.count()).select_from(TrackingEvent)) == 3


def test_a_delivery_already_reported_by_hand_ends_the_parcel_quietly(shipped):
    system, journey, number = shipped
    journey.message("token_delivered", {"carrier_status": "delivered"})
    clock.advance(timedelta(days=3))
    assert follow_parcels(system) == 0
    assert statuses(system, number) == ["in_transit", "out_for_delivery", "delivered"]
    assert correlations(system, journey.instance_id) == 1


def test_a_carrier_that_fails_is_asked_again_later(shipped, monkeypatch):
    system, journey, _ = shipped
    carrier = system.services.adapters.carrier

    def down(tracking_number, now):
        raise ConnectionError("carrier API unavailable")

    monkeypatch.setattr(carrier, "track", down)
    clock.advance(timedelta(days=3))
    assert follow_parcels(system) == 0
    monkeypatch.undo()
    assert follow_parcels(system) == 0  # not due yet: the carrier is left alone a while
    clock.advance(timedelta(minutes=5))
    assert follow_parcels(system) == 1
    assert "token_delivered_event" not in journey.active


def test_a_system_without_a_carrier_follows_no_parcels(config):
    system = build_system(config, registry=Registry(), services={})
    assert follow_parcels(system) == 0


def test_the_sandbox_delivery_time_is_read_as_an_iso_8601_duration(tmp_path):
    env = {"TOKENFLOW_INSTANCE_DIR": str(tmp_path)}
    assert Config.from_env(env).sandbox_delivery_after == timedelta(days=3)
    quick = {**env, "TOKENFLOW_SANDBOX_DELIVERY_AFTER": "PT2M"}
    assert Config.from_env(quick).sandbox_delivery_after == timedelta(minutes=2)
    with pytest.raises(ConfigError, match="TOKENFLOW_SANDBOX_DELIVERY_AFTER"):
        Config.from_env({**env, "TOKENFLOW_SANDBOX_DELIVERY_AFTER": "three days"})


def test_the_demo_says_how_soon_the_sandbox_carrier_delivers(config):
    system = journey_system(replace(config, sandbox_delivery_after=timedelta(minutes=2)))
    lines = list(load_demo(system))
    assert (
        "The sandbox carrier delivers a shipped token 2 minutes after shipping"
        " (TOKENFLOW_SANDBOX_DELIVERY_AFTER)." in lines
    )


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(days=3), "3 days"),
        (timedelta(days=1, hours=12), "1 day 12 hours"),
        (timedelta(minutes=2), "2 minutes"),
        (timedelta(seconds=1), "1 second"),
    ],
)
def test_a_duration_is_put_in_words(duration, words):
    assert in_words(duration) == words
