"""Deploy-time checks of Camunda 7 attributes: what cannot run here, said clearly.

Camunda runs Java delegates (`camunda:class`, `camunda:delegateExpression`, a service
task's `camunda:expression`), Camunda Connect connectors and JSR-223 scripts in any
language. SpiffWorkflow ignores most of them, so a diagram using one would deploy and
then do nothing where it should act. Each is refused with the element's id (the caller
adds it) and what to write instead: an external task whose Python handler does the work.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from . import call_variables, form_checks, io_mapping, task_attributes
from .parser import BPMN_NS

_B = f"{{{BPMN_NS}}}"
_C = f"{{{CAMUNDA_MODEL_NS}}}"
INSTEAD = 'use camunda:type="external" with a camunda:topic whose Python handler does the work'
# Elements whose `camunda:expression` Camunda evaluates as the work itself (a Java call).
_ACTIVITIES = tuple(f"{_B}{tag}" for tag in ("serviceTask", "sendTask", "businessRuleTask"))
# Elements that may carry a Java delegate; on a message event definition a
# `camunda:expression` is SpiffWorkflow's message payload and stays allowed.
_DELEGATE_HOLDERS = (*_ACTIVITIES, f"{_B}messageEventDefinition")
_LISTENERS = (f"{_C}executionListener", f"{_C}taskListener")
PYTHON = "python"


def check(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """(element, message) for each Camunda construct in `proc` that cannot run here."""
    yield from _delegates(proc)
    yield from _connectors(proc)
    yield from _listeners(proc)
    yield from _script_formats(proc)
    for task in proc.iter(f"{_B}userTask"):
        for name, text in task_attributes.read(task).items():
            message = task_attributes.check(name, text)
            if message:
                yield task, message
        yield from ((task, message) for message in form_checks.check(task))
    yield from _start_forms(proc)
    yield from _mappings(proc)


def _start_forms(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """A start form is shown when a person starts the process: on its none start event."""
    for start in proc.iter(f"{_B}startEvent"):
        if start.find(f"{_B}extensionElements/{_C}formData") is None:
            continue
        if start.getparent() is not proc or any(
            child.tag.endswith("EventDefinition") for child in start if isinstance(child.tag, str)
        ):
            yield (
                start,
                (
                    "camunda:formData on this start event is never shown: a start form belongs"
                    " on the process's none start event (a person starts the process there)"
                ),
            )
        for prop in start.iter(f"{_C}property"):
            if prop.get("id") == "sensitive" and (prop.get("value") or "").lower() == "true":
                yield (
                    start,
                    (
                        "a start form cannot have sensitive fields: nothing runs before the"
                        " values would be stored; ask for them in a user task"
                    ),
                )
        yield from ((start, message) for message in form_checks.check(start))


def _mappings(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """Input/output mappings and call activities' in/out that cannot run here."""
    for extensions in proc.iter(f"{_B}extensionElements"):
        element = extensions.getparent()
        yield from ((element, message) for message in io_mapping.check(element))
        yield from ((element, message) for message in call_variables.check(element))


def is_java_bound(element: etree._Element) -> bool:
    """Does `element` name Java (or a connector) for its work instead of a topic?"""
    if any(element.get(f"{_C}{a}") is not None for a in ("class", "delegateExpression")):
        return True
    if element.find(f"{_B}extensionElements/{_C}connector") is not None:
        return True
    return element.tag in _ACTIVITIES and element.get(f"{_C}expression") is not None


def is_python(script_holder: etree._Element) -> bool:
    """Is the script of this script task (or `camunda:script`) Python or unspecified?"""
    return (script_holder.get("scriptFormat") or PYTHON).strip().lower() == PYTHON


def _delegates(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    for element in proc.iter(*_DELEGATE_HOLDERS):
        owner = element.getparent() if element.tag == f"{_B}messageEventDefinition" else element
        java_class = element.get(f"{_C}class")
        if java_class is not None:
            yield owner, f"camunda:class {java_class!r} is Java, which cannot run here: {INSTEAD}"
        bean = element.get(f"{_C}delegateExpression")
        if bean is not None:
            yield (
                owner,
                f"camunda:delegateExpression {bean!r} names a Java bean, which cannot run "
                f"here: {INSTEAD}",
            )
        expression = element.get(f"{_C}expression")
        if expression is not None and element.tag in _ACTIVITIES:
            yield (
                owner,
                f"camunda:expression {expression!r} on a {etree.QName(element).localname} "
                f"calls Java, which cannot run here: {INSTEAD}",
            )


def _connectors(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    for connector in proc.iter(f"{_C}connector"):
        ids = [(n.text or "").strip() for n in connector.iter(f"{_C}connectorId")]
        owner = _owner(connector)
        yield (
            owner,
            f"connector {ids[0] if ids else ''!r} (Camunda Connect) cannot run here: "
            f"{INSTEAD}, calling the service from Python",
        )


def _listeners(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    for listener in proc.iter(*_LISTENERS):
        kind = etree.QName(listener).localname
        # A listener's attributes carry no namespace (`class`, not `camunda:class`).
        if any(listener.get(a) is not None for a in ("class", "delegateExpression", "expression")):
            yield (
                _owner(listener),
                f"{kind} ({listener.get('event') or 'any event'}) calls Java, which cannot "
                f"run here: {INSTEAD}, or a script task in Python",
            )


def _script_formats(proc: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    for holder in (*proc.iter(f"{_B}scriptTask"), *proc.iter(f"{_C}script")):
        if not is_python(holder):
            owner = holder if holder.tag == f"{_B}scriptTask" else _owner(holder)
            yield (
                owner,
                f"script format {holder.get('scriptFormat')!r} cannot run here: write the "
                f"script in Python, or {INSTEAD}",
            )


def _owner(node: etree._Element) -> etree._Element:
    """The flow element an extension element belongs to (it has the id to report)."""
    current = node.getparent()
    while current is not None and (current.get("id") is None or current.tag.startswith(_C)):
        current = current.getparent()
    return current if current is not None else node
