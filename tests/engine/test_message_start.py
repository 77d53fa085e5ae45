"""A message that no waiting instance takes starts the process whose message start
event catches it, as Camunda does; the message's key becomes the business key."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput, NotFound, ProcessIncident
from engine.messages import start_messages
from engine.registry import Registry
from tests.builders import ADMIN, BPMN_DIR, FINANCE, engine_system, only_task


@pytest.fixture
def system(config):
    reg = Registry()
    reg.handler("greet")(lambda ctx: {"greeting": "hi"})
    return engine_system(config, reg, "message_start.bpmn", "linear.bpmn")


def test_a_message_nobody_waits_for_starts_its_process_with_the_key_and_the_data(system):
    delivered = system.engine.deliver("refund_requested", "SO-30001", {"amount": 5}, FINANCE)
    assert delivered.started
    view = system.engine.instance(delivered.instance_id, ADMIN)
    assert view["process"] == "refund"
    assert view["business_key"] == "SO-30001"
    assert view["active"] == ["review_refund"]
    assert view["variables"]["refund_requested"] == {"amount": 5}
    assert only_task(system, FINANCE)["name"] == "review_refund"


def test_a_message_that_neither_waits_nor_starts_anything_is_not_found(system):
    with pytest.raises(NotFound):
        system.engine.deliver("nobody_listens", "SO-30001", {}, FINANCE)


def test_a_process_started_by_a_message_that_then_fails_keeps_the_instance_and_its_incident(
    system,
):
    broken = (
        (BPMN_DIR / "message_start.bpmn")
        .read_bytes()
        .replace(
            b'<bpmn:sequenceFlow id="f1" sourceRef="requested" targetRef="review_refund" />',
            b'<bpmn:sequenceFlow id="f1" sourceRef="requested" targetRef="check" />'
            b'<bpmn:scriptTask id="check" name="Check the amount"><bpmn:script>ok = amount &gt; 0'
            b"</bpmn:script></bpmn:scriptTask>"
            b'<bpmn:sequenceFlow id="f0" sourceRef="check" targetRef="review_refund" />',
        )
    )
    system.engine.deploy([("message_start.bpmn", broken)], ADMIN)
    with pytest.raises(ProcessIncident) as caught:
        system.engine.deliver("refund_requested", "SO-30002", {"amount": 5}, FINANCE)
    view = system.engine.instance(caught.value.instance_id, ADMIN)
    assert (view["status"], view["active"], view["business_key"]) == (
        "incident",
        ["check"],
        "SO-30002",
    )


def test_only_a_process_s_own_start_events_count_as_message_starts():
    xml = (BPMN_DIR / "message_start.bpmn").read_text()
    assert start_messages(xml, "refund") == {"refund_requested"}
    assert start_messages((BPMN_DIR / "linear.bpmn").read_text(), "linear") == frozenset()


def test_a_key_too_long_to_be_a_business_key_is_refused_before_anything_starts(system):
    with pytest.raises(InvalidInput):
        system.engine.deliver("refund_requested", "K" * 101, {}, FINANCE)
