"""What a diagram's data does between its elements, checked before it is deployed.

- Names read by diagram code (conditions, scripts, timer and multi-instance expressions)
  that nothing in the deployed files sets: no form field, script, message (its payload
  arrives under the message's name), multi-instance element variable, Camunda input/output
  mapping, call activity `camunda:in`/`camunda:out` target or handler output. A warning:
  data can also come from an admin's start data.
- Sensitive form fields that no service task receives. The engine hands them to the first
  service task that runs in the step which completes their form, then forgets them. So on
  every path from the form, a service task must come before anything that waits.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import textwrap
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, cast

from lxml import etree

from . import juel
from .assignment import split_written as juel_parts
from .errors import WARNING, Problem
from .expression_checks import looks_iso
from .parser import BPMN_NS, ParsedFile
from .scripting import is_juel

_B = f"{{{BPMN_NS}}}"
_C = "{http://camunda.org/schema/1.0/bpmn}"
TASK_EXPRESSIONS = (
    "assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority",
)  # fmt: skip

# Names diagram code finds without any data: the helpers RestrictedEnvironment provides
# beside the builtins.
_PROVIDED = frozenset(dir(builtins)) | {"now", "timedelta"}

# Where a token goes on in the same step; anything else that is not a service task waits
# (user and receive tasks, catch events, event-based gateways) or leaves this diagram.
_PASSING = frozenset(
    f"{_B}{tag}"
    for tag in (
        "exclusiveGateway", "parallelGateway", "inclusiveGateway", "complexGateway",
        "task", "manualTask", "scriptTask", "businessRuleTask", "intermediateThrowEvent",
    )
)  # fmt: skip
_WAITING = frozenset(
    f"{_B}{tag}"
    for tag in ("userTask", "receiveTask", "intermediateCatchEvent", "eventBasedGateway")
)


def check(file: str, proc: etree._Element, available: Collection[str]) -> list[Problem]:
    """Findings about `proc`'s data; `available` are the names something sets (names_set)."""
    found = [
        Problem(message, element=element, file=file)
        for element, message in _lost_sensitive_fields(proc)
    ]
    for element, name in _names_read(proc):
        if name not in available:
            found.append(
                Problem(
                    f"reads {name!r}, which no form field, script, message or handler of "
                    "these diagrams sets",
                    element=element,
                    file=file,
                    severity=WARNING,
                )
            )
    return found


# -- sensitive fields --------------------------------------------------------------------


def _lost_sensitive_fields(proc: etree._Element) -> Iterator[tuple[str, str]]:
    nodes = {n.get("id"): n for n in proc.iter() if isinstance(n.tag, str) and n.get("id")}
    targets: dict[str | None, list[str | None]] = {}
    for flow in proc.iter(f"{_B}sequenceFlow"):
        targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for form in proc.iter(f"{_B}userTask"):
        sensitive = [f.get("id") for f in form.iter(f"{_C}formField") if _is_sensitive(f)]
        if not sensitive:
            continue
        for waiting in _waits_before_a_service_task(form.get("id"), nodes, targets):
            yield (
                form.get("id"),
                f"sensitive field(s) {', '.join(map(str, sensitive))} of {form.get('id')!r} "
                f"are lost at {waiting!r}: they are kept only until the next service task "
                f"runs, and {waiting!r} waits before one does; put the service task that "
                f"needs them right after {form.get('id')!r}",
            )


def _is_sensitive(field: etree._Element) -> bool:
    return any(
        (p.get("id") or p.get("name")) == "sensitive" and (p.get("value") or "").lower() == "true"
        for p in field.iter(f"{_C}property")
    )


def _waits_before_a_service_task(
    start: str | None,
    nodes: dict[str | None, etree._Element],
    targets: dict[str | None, list[str | None]],
) -> list[str]:
    """The waiting elements some path from `start` reaches before any service task. An end
    event or a call activity ends the search: the first uses nothing, the second hands the
    data to another diagram."""
    waits, seen = [], set()
    pending = list(targets.get(start, []))
    while pending:
        current = pending.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        node = nodes[current]
        if node.tag in _WAITING:
            waits.append(current)
        elif node.tag in _PASSING:
            pending.extend(targets.get(current, []))
        elif node.tag in (f"{_B}subProcess", f"{_B}transaction"):
            starts = [c.get("id") for c in node.iterchildren(f"{_B}startEvent")]
            pending.extend(t for s in starts for t in targets.get(s, []))
    return sorted(cast(list[str], waits))  # ids of elements in `nodes`


# -- names read and set ------------------------------------------------------------------


def _names_read(proc: etree._Element) -> Iterator[tuple[str | None, str]]:
    for element, source, mode in _code_of(proc):
        for name in sorted(_free_names(source, mode)):
            yield element, name


def _code_of(proc: etree._Element) -> Iterator[tuple[str | None, str, str]]:
    """(element id, source, ast mode) of every piece of diagram code in `proc`."""
    for cond in proc.iter(f"{_B}conditionExpression"):
        yield cond.getparent().get("id"), cond.text or "", "eval"
    for cond in proc.iter(f"{_B}condition"):  # a conditional event's
        yield cond.getparent().getparent().get("id"), cond.text or "", "eval"
    for message in proc.iter(f"{_B}messageEventDefinition"):
        if message.get(f"{_C}expression"):
            yield message.getparent().get("id"), message.get(f"{_C}expression"), "eval"
    for script in proc.iter(f"{_B}script"):
        yield script.getparent().get("id"), script.text or "", "exec"
    for timer in proc.iter(f"{_B}timeDuration", f"{_B}timeDate", f"{_B}timeCycle"):
        event = timer.getparent().getparent()
        if not looks_iso((timer.text or "").strip()):  # an unquoted PT1H is an error already
            yield event.get("id") if event is not None else None, timer.text or "", "eval"
    for loop in proc.iter(f"{_B}multiInstanceLoopCharacteristics"):
        element = loop.getparent().get("id")
        for node in loop.iterfind(f"{_B}loopCardinality"):
            yield element, node.text or "", "eval"
        for node in loop.iterfind(f"{_B}completionCondition"):
            yield element, node.text or "", "eval"
        if loop.get(f"{_C}collection"):
            yield element, loop.get(f"{_C}collection"), "eval"
    yield from _camunda_expressions(proc)


def _camunda_expressions(proc: etree._Element) -> Iterator[tuple[str | None, str, str]]:
    """JUEL in input parameters, a call activity's `camunda:in` and a user task's
    assignment and attributes: read over the variables the activity inherits."""
    for parameter in proc.iter(f"{_C}inputParameter"):
        holder = parameter.getparent().getparent().getparent()
        for text in parameter.itertext():
            if juel.is_juel(text):
                yield holder.get("id"), text, "eval"
    for passing in proc.iter(f"{_C}in"):
        if passing.get("sourceExpression"):
            holder = passing.getparent().getparent()
            yield holder.get("id"), passing.get("sourceExpression"), "eval"
    for task in proc.iter(f"{_B}userTask"):
        for attribute in TASK_EXPRESSIONS:
            text = task.get(f"{_C}{attribute}") or ""
            if juel.is_juel(text):
                for part in juel_parts(text):
                    yield task.get("id"), part, "eval"


def _free_names(source: str, mode: str) -> set[str]:
    """Names `source` reads that it does not set itself; nothing if it does not parse
    (the code checks report that)."""
    if mode == "eval" and is_juel(source):
        return juel.free_names(source)
    try:
        tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    loaded: set[str] = set()
    stored: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
    return loaded - stored - _PROVIDED


def names_set(
    files: Iterable[ParsedFile], topics: Collection[str], validators: Collection[str]
) -> set[str]:
    """Every name that something in `files`, or a handler or validator, can set."""
    names: set[str] = set()
    for f in files:
        names.update(_names_set_in(f.root))
    for handler in (*_functions(topics), *_functions(validators)):
        names.update(handler_outputs(handler))
    return names


def _names_set_in(root: etree._Element) -> Iterator[str]:
    for field in root.iter(f"{_C}formField"):
        yield field.get("id") or ""
    for script in root.iter(f"{_B}script"):
        yield from _stored_names(script.text or "")
    for message in root.iter(f"{_B}message"):
        yield message.get("name") or ""
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in ("resultVariable", "elementVariable", "collection",
                          "errorCodeVariable", "errorMessageVariable"):  # fmt: skip
            yield node.get(f"{_C}{attribute}") or ""
    for parameter in root.iter(f"{_C}inputParameter", f"{_C}outputParameter"):
        yield parameter.get("name") or ""
    for passing in root.iter(f"{_C}in", f"{_C}out"):  # a call activity's in/out
        yield passing.get("target") or ""
    for data in root.iter(f"{_B}dataObject", f"{_B}dataObjectReference"):
        yield data.get("id") or ""
        yield data.get("name") or ""


def _stored_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    return {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }


def _functions(table: Any) -> Iterator[Callable[..., Any]]:
    # The topics and validators are the registry's tables, or just names in tests.
    values = table.values() if hasattr(table, "values") else ()
    yield from (fn for fn in values if callable(fn))


@functools.lru_cache(maxsize=512)
def handler_outputs(handler: Callable[..., Any], depth: int = 2) -> frozenset[str]:
    """The keys a handler or validator can return, read from its source and that of the
    functions of its own module it calls (`depth` calls deep): every constant key of a
    dict display and every keyword of a `dict(...)` call. More than it returns, which suits
    a warning; empty when the source cannot be read."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(handler)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return frozenset()
    keys: set[object] = set()  # constant keys of any type: only the strings count
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys.update(k.value for k in node.keys if isinstance(k, ast.Constant))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "dict":
                keys.update(k.arg for k in node.keywords if k.arg)
            elif depth > 0:
                keys.update(_outputs_of_helper(handler, node.func.id, depth - 1))
    return frozenset(k for k in keys if isinstance(k, str))


def _outputs_of_helper(handler: Callable[..., Any], name: str, depth: int) -> frozenset[str]:
    helper = getattr(handler, "__globals__", {}).get(name)
    same_module = inspect.isfunction(helper) and helper.__module__ == handler.__module__
    return handler_outputs(helper, depth) if same_module else frozenset()
