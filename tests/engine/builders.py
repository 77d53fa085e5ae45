"""Builders of the engine tests:

- diagrams written inline for the mapping tests, and a registry whose handlers record
  what each service task saw (`diagram`, `Recorder`);
- the registry for tests/bpmn/'s diagrams with a flaky payment handler, and a `linear`
  instance walked to its timer (durability and the worker's job batches);
- one element between a start and an end event, and what the deploy-time checks say of
  it (`task_diagram`, `problems`, `form`);
- a process with starter attributes (`starter_diagram`)."""

from __future__ import annotations

import itertools
from typing import Any

from engine.actors import SYSTEM
from engine.parser import read_file
from engine.registry import Registry
from engine.validation import Known, validate
from tests.builders import CUSTOMER, SUPPORT, only_task

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d_{pid}"'
    ' targetNamespace="http://tokenflow.test">'
)


def diagram(pid: str, *elements: str, starters: str = "customer") -> bytes:
    """A process whose elements run one after the other from a start to an end event."""
    own_start = elements[0].startswith("<bpmn:startEvent") if elements else False
    ids = [*([] if own_start else ["start"]), *(_id_of(e) for e in elements), "end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
        for i, (a, b) in enumerate(itertools.pairwise(ids))
    )
    body = "".join(elements)
    start = "" if own_start else '<bpmn:startEvent id="start" />'
    return (
        HEAD.format(pid=pid)
        + f'<bpmn:process id="{pid}" isExecutable="true"'
        + f' camunda:candidateStarterGroups="{starters}">'
        + start
        + body
        + flows
        + '<bpmn:endEvent id="end" /></bpmn:process></bpmn:definitions>'
    ).encode()


def _id_of(element: str) -> str:
    return element.split('id="', 1)[1].split('"', 1)[0]


def service(element_id: str, mapping: str = "", topic: str = "look") -> str:
    return (
        f'<bpmn:serviceTask id="{element_id}" camunda:type="external" camunda:topic="{topic}">'
        f"<bpmn:extensionElements>{mapping}</bpmn:extensionElements></bpmn:serviceTask>"
    )


def io(inputs: str = "", outputs: str = "") -> str:
    return f"<camunda:inputOutput>{inputs}{outputs}</camunda:inputOutput>"


def param(kind: str, name: str, content: str) -> str:
    return f'<camunda:{kind}Parameter name="{name}">{content}</camunda:{kind}Parameter>'


class Recorder:
    """Handlers that record the data each service task saw and return what a test says."""

    def __init__(self) -> None:
        self.seen: dict[str, list[dict[str, Any]]] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.registry = Registry()
        for topic in ("look", "produce", "child_look"):
            self.registry.handler(topic)(self._handler(topic))

    def _handler(self, topic: str):
        def handle(ctx):
            self.seen.setdefault(ctx.element, []).append(dict(ctx.data))
            return dict(self.returns.get(ctx.element, {}))

        return handle

    def saw(self, element: str) -> dict[str, Any]:
        return self.seen[element][-1]


def deploy(system: Any, *files: tuple[str, bytes]) -> Any:
    return system.engine.deploy(list(files), SYSTEM)


# -- durability and the worker: tests/bpmn/'s diagrams ------------------------------


def flaky_registry(flaky: dict | None = None) -> Registry:
    """Handlers for tests/bpmn/'s diagrams (greet sets the business key); charge fails
    while `flaky["failures_left"]` is above zero, counting it down, as a flaky payment
    processor would."""
    reg = Registry()

    @reg.handler()
    def greet(ctx):
        ctx.set_business_key(ctx.data["name"])
        return {"greeting": "hi"}

    @reg.handler()
    def charge(ctx):
        if flaky is not None and flaky["failures_left"] > 0:
            flaky["failures_left"] -= 1
            raise ConnectionError("payment processor unreachable")
        return {"charged": True}

    reg.handler("tick")(lambda ctx: {})
    return reg


def walk_to_timer(system, name: str) -> str:
    """A `linear` instance of `name` walked to its one-hour timer; its id."""
    view = system.engine.start("linear", CUSTOMER)
    task = only_task(system, CUSTOMER, instance_id=view["id"])
    system.engine.complete_task(task["id"], {"name": name}, CUSTOMER)
    review = only_task(system, SUPPORT, instance_id=view["id"])
    system.engine.complete_task(review["id"], {"ok": True}, SUPPORT)
    return view["id"]


# -- deploy-time checks: one element between a start and an end event --------------

KNOWN = Known(topics={"work"}, validators=set(), roles={"customer", "support"}, process_keys=set())


def task_diagram(body: str) -> str:
    """A process in the support lane whose one element, `body` (id `it`), runs between a start
    and an end event; with a message `done` to refer to."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="support">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>it</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="it" />
    {body}
    <bpmn:sequenceFlow id="f2" sourceRef="it" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
  <bpmn:message id="m" name="done" />
</bpmn:definitions>"""


def problems(body: str) -> list[str]:
    """The errors deploying `task_diagram(body)` would meet, without the file name."""
    found = validate([read_file("x.bpmn", task_diagram(body).encode())], KNOWN)
    return [str(p).removeprefix("x.bpmn:") for p in found if p.is_error]


def form(field: str) -> str:
    """A user task `it` whose form holds `field`."""
    return (
        '<bpmn:userTask id="it"><bpmn:extensionElements><camunda:formData>'
        f"{field}</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
    )


# -- who may start a process --------------------------------------------------------

STRAIGHT = """
    <bpmn:startEvent id="start"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>"""


def starter_diagram(key: str, attributes: str = "", body: str = STRAIGHT) -> bytes:
    """Process `key` with `attributes` (the starter attributes, say) on its process element."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d_{key}" targetNamespace="t">
  <bpmn:process id="{key}" isExecutable="true" {attributes}>{body}
  </bpmn:process>
</bpmn:definitions>""".encode()
