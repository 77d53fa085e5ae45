"""Camunda 7's input/output mappings (`camunda:inputOutput`), read from a diagram and
evaluated over task data.

A parameter's value is text (a literal, or JUEL: `${order.total}`, `Dear ${name}`), a
`camunda:list` of values, a `camunda:map` of keyed entries, or these nested; an empty
parameter is null. `camunda:script` values are refused at deploy: diagram code belongs in
a script task. What the values mean for the activity's variables (inputs are its local
variables, outputs go to the enclosing scope) is `scopes.py`'s business.

JUEL goes through the same evaluator, guards and budgets as every other diagram
expression (`juel.py`); nothing here evaluates Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from SpiffWorkflow.task import Task

from . import juel

_B = f"{{{BPMN_MODEL_NS}}}"
_C = f"{{{CAMUNDA_MODEL_NS}}}"
# The activities whose mappings run here: tasks and call activities.
HOLDERS = tuple(
    f"{_B}{tag}"
    for tag in (
        "userTask",
        "serviceTask",
        "scriptTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "task",
        "manualTask",
        "callActivity",
    )
)
NO_SCRIPTS = (
    "camunda:script values are not supported in input/output mappings: compute the value"
    " in a script task before this element, or write it as an expression (${...})"
)

Evaluate = Callable[[str, Mapping[str, Any]], Any]


class MappingError(ValueError):
    """A mapping that cannot be read; the message says what and where."""


@dataclass(frozen=True)
class Value:
    """A parameter's value as written: `kind` is text, list, map or null."""

    kind: str
    text: str = ""
    items: tuple[Value, ...] = ()
    keys: tuple[str, ...] = ()  # a map's keys, in the order of `items`

    def texts(self) -> Iterator[str]:
        """Every text in it, nested ones included (for the deploy checks)."""
        if self.kind == "text":
            yield self.text
        for item in self.items:
            yield from item.texts()


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Value


@dataclass(frozen=True)
class IoMapping:
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[Parameter, ...] = ()


def read(element: etree._Element) -> IoMapping | None:
    """The mapping an activity carries, or None. Raises MappingError when malformed."""
    found = element.findall(f"{_B}extensionElements/{_C}inputOutput")
    if not found:
        return None
    if len(found) > 1:
        raise MappingError("an element may have one camunda:inputOutput")
    inputs, outputs = [], []
    for child in found[0]:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{_C}inputParameter":
            inputs.append(_parameter(child))
        elif child.tag == f"{_C}outputParameter":
            outputs.append(_parameter(child))
        else:
            raise MappingError(f"camunda:inputOutput may not contain {_local(child)}")
    return IoMapping(tuple(inputs), tuple(outputs))


def _parameter(node: etree._Element) -> Parameter:
    kind = _local(node)
    name = (node.get("name") or "").strip()
    if not name:
        raise MappingError(f"a {kind} has no name")
    if not name.isidentifier() or name.startswith("_"):
        raise MappingError(
            f"{kind} {name!r}: a variable name is a letter or _ and then letters, digits"
            " or _, and does not start with _"
        )
    try:
        return Parameter(name, _value(node))
    except MappingError as exc:
        raise MappingError(f"{kind} {name!r}: {exc}") from None


def _value(node: etree._Element) -> Value:
    """The value held by a parameter, a list's `camunda:value` or a map's `camunda:entry`."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        text = node.text or ""
        return Value("text", text) if text.strip() else Value("null")
    if len(children) > 1 or (node.text or "").strip():
        raise MappingError("a value is text or one camunda:list, camunda:map")
    return _structure(children[0])


def _structure(node: etree._Element) -> Value:
    if node.tag == f"{_C}script":
        raise MappingError(NO_SCRIPTS)
    if node.tag == f"{_C}list":
        items = []
        for child in node:
            if not isinstance(child.tag, str):
                continue
            items.append(_value(child) if child.tag == f"{_C}value" else _structure(child))
        return Value("list", items=tuple(items))
    if node.tag == f"{_C}map":
        keys, items = [], []
        for entry in node:
            if not isinstance(entry.tag, str):
                continue
            if entry.tag != f"{_C}entry" or entry.get("key") is None:
                raise MappingError("a camunda:map holds camunda:entry elements with a key")
            keys.append(entry.get("key"))
            items.append(_value(entry))
        return Value("map", items=tuple(items), keys=tuple(keys))
    raise MappingError(f"{_local(node)} is not a value: use text, camunda:list or camunda:map")


def _local(node: etree._Element) -> str:
    prefix = "camunda:" if node.tag.startswith(_C) else ""
    return prefix + cast(str, etree.QName(node).localname)


def check(element: etree._Element) -> Iterator[str]:
    """Why the element's mapping cannot run here, in sentences; nothing if it can."""
    try:
        mapping = read(element)
    except MappingError as exc:
        yield str(exc)
        return
    if mapping is None:
        return
    if element.tag not in HOLDERS:
        yield (
            f"camunda:inputOutput on a {etree.QName(element).localname} is not supported:"
            " put the mapping on a task or a call activity"
        )
    if element.find(f"{_B}multiInstanceLoopCharacteristics") is not None:
        yield (
            "camunda:inputOutput on a multi-instance activity is not supported: map the"
            " values on an activity before it"
        )
    for parameter in (*mapping.inputs, *mapping.outputs):
        for text in parameter.value.texts():
            if juel.is_juel(text):
                yield from (f"parameter {parameter.name!r}: {p}" for p in juel.check(text))


def evaluate(value: Value, data: Mapping[str, Any], run: Evaluate) -> Any:
    """The value over `data`; `run` evaluates JUEL text (the workflow's evaluator)."""
    if value.kind == "null":
        return None
    if value.kind == "text":
        return run(value.text, data) if juel.is_juel(value.text) else value.text
    found = [evaluate(item, data, run) for item in value.items]
    return dict(zip(value.keys, found, strict=True)) if value.kind == "map" else found


def runner(task: Task) -> Evaluate:
    """JUEL over a dict of variables, with the workflow's budgets and clock."""
    environment = getattr(task.workflow.script_engine, "environment", None)
    limits = getattr(environment, "limits", None)
    now = getattr(environment, "globals", {}).get("now")

    def run(text: str, variables: Mapping[str, Any]) -> Any:
        return juel.evaluate(text, variables, limits, now)

    return run


def names_set(root: etree._Element) -> Iterator[str]:
    """Names the mappings in `root` set (inputs locally, outputs for the scope)."""
    for parameter in root.iter(f"{_C}inputParameter", f"{_C}outputParameter"):
        if parameter.get("name"):
            yield parameter.get("name")
