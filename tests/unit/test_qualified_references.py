"""References BPMN types as QNames (`messageRef="tns:newInvoice"`) read as plain ids when
their prefix names the file's own target namespace."""

from __future__ import annotations

from engine.parser import BPMN_NS, read_file

DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN_NS}" xmlns:tns="urn:here" xmlns:other="urn:elsewhere"
    targetNamespace="urn:here">
  <message id="invoice" name="invoice" />
  <process id="p" isExecutable="true">
    <startEvent id="own"><messageEventDefinition messageRef="tns:invoice" /></startEvent>
    <startEvent id="foreign"><messageEventDefinition messageRef="other:invoice" /></startEvent>
    <startEvent id="plain"><messageEventDefinition messageRef="invoice" /></startEvent>
  </process>
</definitions>"""


def refs() -> dict[str, str]:
    root = read_file("x.bpmn", DIAGRAM.encode()).root
    return {
        d.getparent().get("id"): d.get("messageRef")
        for d in root.iter(f"{{{BPMN_NS}}}messageEventDefinition")
    }


def test_a_reference_prefixed_with_the_target_namespace_becomes_its_plain_id():
    assert refs()["own"] == "invoice"


def test_a_reference_into_another_namespace_and_a_plain_one_stay_as_written():
    assert refs()["foreign"] == "other:invoice"
    assert refs()["plain"] == "invoice"
