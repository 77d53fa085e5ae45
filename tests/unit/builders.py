"""Builders of the unit tests: a small checkout diagram whose gateway follows a
condition, run in plain SpiffWorkflow with the restricted script engine."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine.scripting import RestrictedScriptEngine

CLOCK_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def checkout_bpmn(condition):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs"
    targetNamespace="http://tokenflow.test/scripting">
  <bpmn:process id="checkout" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_count" sourceRef="start" targetRef="count_attempt"/>
    <bpmn:scriptTask id="count_attempt" scriptFormat="python">
      <bpmn:script>attempts = attempts + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_choose" sourceRef="count_attempt" targetRef="choose"/>
    <bpmn:exclusiveGateway id="choose" default="to_invoice"/>
    <bpmn:sequenceFlow id="to_card" sourceRef="choose" targetRef="card_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_invoice" sourceRef="choose" targetRef="invoice_end"/>
    <bpmn:endEvent id="card_end"/>
    <bpmn:endEvent id="invoice_end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def start_checkout(condition, **data):
    parser = CamundaParser()
    parser.add_bpmn_str(checkout_bpmn(condition))
    workflow = BpmnWorkflow(parser.get_spec("checkout"), script_engine=RestrictedScriptEngine())
    workflow.get_next_task(state=TaskState.READY).data.update(data)
    return workflow


def completed(workflow, spec_name):
    return bool(workflow.get_tasks(state=TaskState.COMPLETED, spec_name=spec_name))
