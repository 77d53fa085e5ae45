"""Reading DMN decision tables (DMN 1.1 to 1.3, as Camunda Modeler and dmn-js write them).

A DMN file is untrusted input, like a diagram: it is parsed without DTDs or entities
(`parser.parse_xml`), and every cell is compiled at deploy into plain Python tests and
values (`feel.py`); an input expression is a variable path (`country`, `order.total`) or
diagram code that the sandbox checks and runs (Python, or JUEL `${...}`). Whatever this
engine cannot run is a `Problem` naming the decision and what is not supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree

from . import feel
from .errors import Problem
from .scripting import check_expression

DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",  # DMN 1.3
    "http://www.omg.org/spec/DMN/20180521/MODEL/",  # DMN 1.2
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # DMN 1.1
)
HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "number": (int, float),
}
_EXPRESSION_LANGUAGES = ("", "feel", "juel", "python")
MAX_ID = 200  # the key's column, and the name's
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True)
class Input:
    label: str
    expression: str
    # A variable path (`order.total`) is looked up; anything else is diagram code.
    path: tuple[str, ...] | None


@dataclass(frozen=True)
class Output:
    name: str
    type_ref: str | None
    # PRIORITY: the output's values, most important first (its `outputValues`).
    priorities: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Rule:
    row: int
    id: str
    tests: tuple[feel.Test | None, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Decision:
    id: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    rules: tuple[Rule, ...]
    # A decision requirements graph: the decisions of the same file evaluated first, their
    # outputs then read by this one's inputs as variables (`requires` holds their ids).
    requires: tuple[str, ...] = ()
    required: tuple[Decision, ...] = ()


@dataclass
class DmnFile:
    name: str
    xml: bytes
    decisions: list[Decision] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def is_dmn(root: etree._Element) -> bool:
    return etree.QName(root).namespace in DMN_NAMESPACES


def read(name: str, xml: bytes, root: etree._Element) -> DmnFile:
    """Every decision of a DMN document compiled, or the problems that keep it from running."""
    found = DmnFile(name=name, xml=xml)
    ns = etree.QName(root).namespace
    decisions = list(root.iterfind(f"{{{ns}}}decision"))
    if not decisions:
        found.problems.append(Problem("no decision in this DMN file", file=name))
    read_ones: dict[str, Decision] = {}
    for element in decisions:
        reader = _DecisionReader(name, ns, element)
        decision = reader.read()
        if decision is not None and decision.id in read_ones:
            reader.problem("two decisions in this file have this id")
        found.problems.extend(reader.problems)
        if decision is not None and not reader.problems:
            read_ones[decision.id] = decision
    if not found.problems:
        linked: dict[str, Decision] = {}
        for decision in read_ones.values():
            if _link(decision, read_ones, linked, (), found) is None:
                break  # one sentence about a broken graph is enough
        found.decisions = [linked[d] for d in read_ones if d in linked]
    return found


def _link(
    decision: Decision,
    by_id: dict[str, Decision],
    linked: dict[str, Decision],
    path: tuple[str, ...],
    found: DmnFile,
) -> Decision | None:
    """`decision` with its required decisions attached (each once, cycles refused)."""
    if decision.id in linked:
        return linked[decision.id]
    required = []
    for ref in decision.requires:
        if ref in path or ref == decision.id:
            message = f"requires {ref!r}, which requires it in turn: a cycle"
            found.problems.append(Problem(message, element=decision.id, file=found.name))
            return None
        if ref not in by_id:
            message = f"requires decision {ref!r}, which is not a decision table of this file"
            found.problems.append(Problem(message, element=decision.id, file=found.name))
            return None
        done = _link(by_id[ref], by_id, linked, (*path, decision.id), found)
        if done is None:
            return None
        required.append(done)
    linked[decision.id] = replace(decision, required=tuple(required))
    return linked[decision.id]


class _DecisionReader:
    def __init__(self, file: str, ns: str, element: etree._Element) -> None:
        self.file, self.ns, self.element = file, ns, element
        self.id = (element.get("id") or "").strip()
        self.problems: list[Problem] = []

    def problem(self, message: str) -> None:
        self.problems.append(Problem(message, element=self.id or None, file=self.file))

    def _find(self, parent: etree._Element, tag: str) -> list[etree._Element]:
        return list(parent.iterfind(f"{{{self.ns}}}{tag}"))

    def _text(self, parent: etree._Element) -> str:
        node = parent.find(f"{{{self.ns}}}text")
        return (node.text or "").strip() if node is not None else ""

    def read(self) -> Decision | None:
        if not self.id:
            self.problem("a decision without an id cannot be deployed: its id is its key")
            return None
        if len(self.id) > MAX_ID:
            self.problem(f"a decision id is at most {MAX_ID} characters: it is the key")
            return None
        requires = tuple(
            (ref.get("href") or "").removeprefix("#")
            for need in self._find(self.element, "informationRequirement")
            for ref in self._find(need, "requiredDecision")
        )
        tables = self._find(self.element, "decisionTable")
        if len(tables) != 1:
            self.problem(
                "only decision tables are supported (not literal expressions, contexts or "
                "other boxed expressions)"
            )
            return None
        table = tables[0]
        hit_policy = " ".join((table.get("hitPolicy") or "UNIQUE").upper().split())
        aggregation = table.get("aggregation")
        if hit_policy not in HIT_POLICIES:
            self.problem(
                f"hit policy {hit_policy!r} is not supported: use one of {', '.join(HIT_POLICIES)}"
            )
        if aggregation is not None and (hit_policy != "COLLECT" or aggregation not in AGGREGATIONS):
            self.problem(
                f"aggregation {aggregation!r} is not supported: COLLECT takes "
                f"{', '.join(AGGREGATIONS)}"
            )
        inputs = tuple(self._input(i) for i in self._find(table, "input"))
        outputs = tuple(self._output(o) for o in self._find(table, "output"))
        if not outputs:
            self.problem("the decision table has no output")
        if aggregation and len(outputs) != 1:
            self.problem(f"COLLECT with {aggregation} needs exactly one output")
        if hit_policy == "PRIORITY" and not any(o.priorities for o in outputs):
            self.problem(
                "hit policy PRIORITY needs output values on an output (their order is the priority)"
            )
        rules = tuple(
            self._rule(n, r, inputs, outputs) for n, r in enumerate(self._find(table, "rule"), 1)
        )
        return Decision(
            self.id,
            (self.element.get("name") or self.id)[:MAX_ID],
            hit_policy,
            aggregation,
            inputs,
            outputs,
            rules,
            tuple(dict.fromkeys(requires)),
        )

    def _input(self, element: etree._Element) -> Input:
        label = element.get("label") or element.get("id") or "input"
        expression = element.find(f"{{{self.ns}}}inputExpression")
        text = self._text(expression) if expression is not None else ""
        language = (expression.get("expressionLanguage") or "") if expression is not None else ""
        if language.lower() not in _EXPRESSION_LANGUAGES:
            self.problem(
                f"input {label!r}: expression language {language!r} is not supported: "
                "write a variable name, a Python expression or ${...} (JUEL)"
            )
        if not text:
            self.problem(f"input {label!r} has no input expression: name the variable it reads")
            return Input(label, text, None)
        if _PATH.fullmatch(text):
            return Input(label, text, tuple(text.split(".")))
        for message in check_expression(text):
            self.problem(f"input {label!r}: {message}")
        return Input(label, text, None)

    def _output(self, element: etree._Element) -> Output:
        name = (element.get("name") or "").strip()
        label = element.get("label") or element.get("id") or "output"
        type_ref = element.get("typeRef") or None
        if not name:
            self.problem(f"output {label!r} has no name: the name is the result's key")
        elif not name.isidentifier() or name.startswith("_"):
            self.problem(f"output name {name!r} is not a variable name")
        if type_ref is not None and type_ref not in _TYPES:
            self.problem(
                f"output {name or label!r}: typeRef {type_ref!r} is not supported: use "
                f"{', '.join(_TYPES)}"
            )
        priorities: tuple[Any, ...] = ()
        values = element.find(f"{{{self.ns}}}outputValues")
        if values is not None:
            try:
                priorities = tuple(_literals(self._text(values)))
            except feel.FeelError as exc:
                self.problem(f"output {name or label!r} values: {exc}")
        return Output(name, type_ref, priorities)

    def _rule(
        self,
        row: int,
        element: etree._Element,
        inputs: tuple[Input, ...],
        outputs: tuple[Output, ...],
    ) -> Rule:
        entries = self._find(element, "inputEntry")
        results = self._find(element, "outputEntry")
        where = f"rule {row}"
        if len(entries) != len(inputs) or len(results) != len(outputs):
            self.problem(
                f"{where} has {len(entries)} input and {len(results)} output cells "
                f"for {len(inputs)} inputs and {len(outputs)} outputs"
            )
            return Rule(row, element.get("id") or "", (), ())
        tests, values = [], []
        for entry, column in zip(entries, inputs, strict=True):
            self._plain_feel(entry, where)
            try:
                tests.append(feel.unary_tests(self._text(entry)))
            except feel.FeelError as exc:
                self.problem(f"{where}, input {column.label!r}: {exc}")
        for entry, output in zip(results, outputs, strict=True):
            self._plain_feel(entry, where)
            try:
                value = feel.literal(self._text(entry))
            except feel.FeelError as exc:
                self.problem(f"{where}, output {output.name!r}: {exc}")
                continue
            self._check_type(where, output, value)
            values.append(value)
        return Rule(row, element.get("id") or "", tuple(tests), tuple(values))

    def _plain_feel(self, entry: etree._Element, where: str) -> None:
        language = entry.get("expressionLanguage")
        if language is not None and language.lower() != "feel":
            self.problem(
                f"{where}: expression language {language!r} in a cell is not supported: "
                "cells are FEEL"
            )

    def _check_type(self, where: str, output: Output, value: Any) -> None:
        allowed = _TYPES.get(output.type_ref or "")
        if value is None or allowed is None:
            return
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            self.problem(f"{where}, output {output.name!r}: {value!r} is not a {output.type_ref}")


def _literals(text: str) -> list[Any]:
    """`outputValues` as dmn-js writes them: `"high","medium","low"`."""
    parts = re.findall(r'"(?:[^"\\]|\\.)*"|[^,]+', text)
    return [feel.literal(p) for p in parts if p.strip()]
