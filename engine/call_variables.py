"""`camunda:in` and `camunda:out` on call activities: which variables the called process
gets and which come back, as Camunda 7 writes them.

- `<camunda:in source="a" target="b"/>`: the called process starts with `b` = the caller's
  `a` (null when the caller has no `a`); `sourceExpression="${...}"` instead of `source`
  gives the value of a JUEL expression over the caller's variables.
- `<camunda:in variables="all"/>`: every variable of the caller; with `local="true"` only
  the call activity's own (its input parameters). `local="true"` on a `source` reads the
  call activity's own variable.
- `<camunda:out .../>` the same way back: `source` / `sourceExpression` read the called
  process's variables at its end, `variables="all"` takes them all. With `local="true"`
  the value stays a variable of the call activity (its output parameters may map it on).

Each direction on its own: a call activity without any `camunda:in` passes every variable
(Tokenflow's behaviour before these elements were read), and one without `camunda:out`
gets every variable back. `businessKey` is refused at deploy: the called instance runs
under the caller's instance here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from . import juel
from .io_mapping import Evaluate

_B = f"{{{BPMN_MODEL_NS}}}"
_C = f"{{{CAMUNDA_MODEL_NS}}}"


class CallVariablesError(ValueError):
    pass


@dataclass(frozen=True)
class Passing:
    """One `camunda:in` or `camunda:out`."""

    source: str | None = None
    expression: str | None = None
    target: str | None = None
    all: bool = False
    local: bool = False


@dataclass(frozen=True)
class CallVariables:
    ins: tuple[Passing, ...] = ()
    outs: tuple[Passing, ...] = ()


def read(element: etree._Element) -> CallVariables | None:
    """The in/out elements of a call activity, or None when it has none."""
    ins = element.findall(f"{_B}extensionElements/{_C}in")
    outs = element.findall(f"{_B}extensionElements/{_C}out")
    if not ins and not outs:
        return None
    return CallVariables(
        tuple(_passing(n, "camunda:in") for n in ins),
        tuple(_passing(n, "camunda:out") for n in outs),
    )


def _passing(node: etree._Element, kind: str) -> Passing:
    if node.get("businessKey") is not None:
        raise CallVariablesError(
            f"{kind} businessKey is not supported: the called process runs within the"
            " caller's instance and shares its business key"
        )
    local = (node.get("local") or "false").strip().lower() == "true"
    variables = node.get("variables")
    if variables is not None:
        if variables.strip() != "all":
            raise CallVariablesError(f'{kind} variables={variables!r}: only "all" is known')
        if node.get("source") or node.get("sourceExpression") or node.get("target"):
            raise CallVariablesError(f'{kind} variables="all" takes no source or target')
        return Passing(all=True, local=local)
    source = (node.get("source") or "").strip() or None
    expression = (node.get("sourceExpression") or "").strip() or None
    target = (node.get("target") or "").strip() or None
    if (source is None) == (expression is None):
        raise CallVariablesError(f"{kind} needs either source or sourceExpression")
    if target is None or not target.isidentifier() or target.startswith("_"):
        raise CallVariablesError(
            f"{kind} needs a target that is a variable name (letters, digits, _)"
        )
    if expression is not None and not juel.is_juel(expression):
        raise CallVariablesError(
            f"{kind} sourceExpression {expression!r} is no expression: write ${{...}}"
        )
    return Passing(source, expression, target, local=local)


def check(element: etree._Element) -> Iterator[str]:
    """Why the element's in/out cannot run here; nothing if they can."""
    try:
        found = read(element)
    except CallVariablesError as exc:
        yield str(exc)
        return
    if found is None:
        return
    if element.tag != f"{_B}callActivity":
        yield "camunda:in and camunda:out belong on a call activity"
    for passing in (*found.ins, *found.outs):
        if passing.expression is not None:
            yield from juel.check(passing.expression)


def warnings(element: etree._Element) -> Iterator[str]:
    """Where Tokenflow's default differs from Camunda's: a call activity that names only
    one direction passes every variable the other way (Camunda would pass none)."""
    try:
        found = read(element)
    except CallVariablesError:
        return  # refused by check()
    if found is None:
        return
    if found.ins and not found.outs:
        yield (
            "camunda:in without camunda:out: every variable of the called process comes"
            " back (Camunda would return none); add camunda:out to choose what returns"
        )
    if found.outs and not found.ins:
        yield (
            "camunda:out without camunda:in: the called process gets every variable (Camunda"
            " would pass none); add camunda:in to choose what it gets"
        )


def passed(
    passings: tuple[Passing, ...],
    variables: Mapping[str, Any],
    own: Mapping[str, Any],
    run: Evaluate,
) -> dict[str, Any]:
    """What the passings give from `variables`; `own` are the variables a `local` one
    reads (the call activity's own on the way in)."""
    found: dict[str, Any] = {}
    for p in passings:
        scope = own if p.local else variables
        if p.all:
            found.update(scope)
        elif p.expression is not None:
            found[str(p.target)] = run(p.expression, scope)
        else:
            found[str(p.target)] = scope.get(str(p.source))
    return found


def names_set(root: etree._Element) -> Iterator[str]:
    """Variables the `camunda:in` and `camunda:out` in `root` set (for the data checks)."""
    for node in root.iter(f"{_C}in", f"{_C}out"):
        if node.get("target"):
            yield node.get("target")
