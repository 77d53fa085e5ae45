from __future__ import annotations

from engine.parser import build_parser, read_file
from engine.persistence import Specs

PARENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d1"
  targetNamespace="t">
  <bpmn:process id="parent" isExecutable="true">
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ask" />
    <bpmn:userTask id="ask" /><bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="child" />
    <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="e" /><bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""
CHILD = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d2"
  targetNamespace="t">
  <bpmn:process id="child" isExecutable="true">
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ask" />
    <bpmn:userTask id="ask" /><bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="only" />
    <bpmn:userTask id="only" /><bpmn:sequenceFlow id="f3" sourceRef="only" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_user_task_is_found_by_element_id_unless_the_bundle_uses_the_id_twice():
    parser = build_parser([read_file("p.bpmn", PARENT), read_file("c.bpmn", CHILD)])
    specs = Specs(parser.get_spec("parent"), parser.get_subprocess_specs("parent"))
    assert specs.user_task("only").bpmn_id == "only"
    assert specs.user_task("ask") is None  # in both processes: the caller loads the workflow
    assert specs.user_task("nowhere") is None
