"""Diagrams written inline for the mapping tests, and a registry whose handlers record
what each service task saw."""

from __future__ import annotations

import itertools
from typing import Any

from engine.actors import SYSTEM
from engine.registry import Registry

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
