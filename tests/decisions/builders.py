"""DMN and BPMN documents for decision tests, written as Camunda Modeler writes them."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from engine.actors import SYSTEM
from engine.db import unit_of_work
from engine.queries import list_incidents
from tests.builders import ADMIN

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def table(
    rules: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    inputs: Sequence[str] = ("amount",),
    outputs: Sequence[str] = ("result",),
    hit_policy: str = "UNIQUE",
    aggregation: str | None = None,
    decision_id: str = "decide",
    output_values: str | None = None,
    output_type: str | None = None,
) -> bytes:
    """A DMN 1.3 document of one decision table; each rule is (input cells, output cells)."""
    aggregate = f" aggregation={quoteattr(aggregation)}" if aggregation else ""
    values = (
        f"<outputValues><text>{escape(output_values)}</text></outputValues>"
        if output_values
        else ""
    )
    typed = f" typeRef={quoteattr(output_type)}" if output_type else ""
    columns = "".join(
        f'<input id="in{n}" label="In {n}"><inputExpression typeRef="string">'
        f"<text>{escape(text)}</text></inputExpression></input>"
        for n, text in enumerate(inputs)
    ) + "".join(
        f'<output id="out{n}" name={quoteattr(name)}{typed}>{values}</output>'
        for n, name in enumerate(outputs)
    )
    rows = "".join(
        f'<rule id="r{n}">'
        + "".join(
            f'<inputEntry id="r{n}i{k}"><text>{escape(c)}</text></inputEntry>'
            for k, c in enumerate(ins)
        )
        + "".join(
            f'<outputEntry id="r{n}o{k}"><text>{escape(c)}</text></outputEntry>'
            for k, c in enumerate(outs)
        )
        + "</rule>"
        for n, (ins, outs) in enumerate(rules, 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="{DMN13}" id="defs" '
        f'name="d" namespace="http://camunda.org/schema/1.0/dmn">'
        f'<decision id="{decision_id}" name="Decide">'
        f'<decisionTable id="t" hitPolicy="{hit_policy}"{aggregate}>{columns}{rows}'
        "</decisionTable></decision></definitions>"
    ).encode()


def process(
    decision_ref: str = "decide",
    *,
    result_variable: str | None = "outcome",
    mapping: str | None = None,
    process_id: str = "decider",
    extra: str = "",
) -> bytes:
    """start -> business rule task `rule` -> user task `look` (for admins) -> end."""
    attributes = f'camunda:decisionRef="{decision_ref}"' if decision_ref else ""
    if result_variable:
        attributes += f' camunda:resultVariable="{result_variable}"'
    if mapping:
        attributes += f' camunda:mapDecisionResult="{mapping}"'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_{process_id}"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rule"/>
    <bpmn:businessRuleTask id="rule" name="Decide" {attributes} {extra}/>
    <bpmn:sequenceFlow id="f2" sourceRef="rule" targetRef="look"/>
    <bpmn:userTask id="look" name="Look"/>
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy(system, *sources: tuple[str, bytes]):
    return system.engine.deploy(list(sources), SYSTEM)


def decided(system, data: dict, process_id: str = "decider"):
    """Start the process with `data`; the result variable the decision left."""
    view = system.engine.start(process_id, ADMIN, data, owner_id=ADMIN.user_id)
    return view["variables"]


def incidents(system):
    with unit_of_work(system.session_factory) as s:
        return list_incidents(s)
