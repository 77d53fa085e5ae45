"""Business rule tasks: `camunda:decisionRef` evaluated, Camunda's way, at run time.

SpiffWorkflow's own DMN engine turns each cell into Python text and evaluates it, and
knows two hit policies; here its business rule task spec runs a decision compiled at
deploy (`dmn.py`): the cells are plain tests, the input expressions go through the
workflow's script engine (the sandbox), and the hit policies and `camunda:mapDecisionResult`
are Camunda's. A decision that cannot give the answer the task asks for (no rule matched
for a single result, two rules under UNIQUE) fails the task: an incident at its element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.specs.base import TaskSpec

from .dmn import Decision, Input

MAPPINGS = ("resultList", "singleResult", "singleEntry", "collectEntries")
DEFAULT_MAPPING = "resultList"


class DecisionFailed(Exception):
    """The decision gave no answer the task can use; the message says why."""


def evaluate(decision: Decision, values: list[Any]) -> list[dict[str, Any]]:
    """The decision's result for these input values: one dict of outputs per rule that
    counts under its hit policy (Camunda's `DmnDecisionResult`)."""
    matched = [
        rule
        for rule in decision.rules
        if all(test is None or test(v) for test, v in zip(rule.tests, values, strict=True))
    ]
    names = [o.name for o in decision.outputs]
    rows = ", ".join(str(r.row) for r in matched)
    policy = decision.hit_policy
    if policy == "UNIQUE" and len(matched) > 1:
        raise DecisionFailed(
            f"decision {decision.id!r}: rules {rows} all match, but its hit policy UNIQUE "
            "allows one"
        )
    if policy == "ANY" and len({r.values for r in matched}) > 1:
        raise DecisionFailed(
            f"decision {decision.id!r}: rules {rows} match with different outputs, but its "
            "hit policy ANY needs them equal"
        )
    if policy == "PRIORITY":
        matched = sorted(matched, key=lambda r: _priority(decision, r))[:1]
    elif policy in ("FIRST", "ANY"):
        matched = matched[:1]
    # An empty output cell gives no entry (Camunda's way), so that a table of several
    # outputs can still answer `singleEntry` with the one its rule fills.
    results = [
        {name: value for name, value in zip(names, r.values, strict=True) if value is not None}
        for r in matched
    ]
    if policy == "COLLECT" and decision.aggregation:
        return _aggregate(decision, names[0], [r.get(names[0]) for r in results])
    return results


def _priority(decision: Decision, rule: Any) -> tuple[int, ...]:
    key = []
    for output, value in zip(decision.outputs, rule.values, strict=True):
        if output.priorities:
            ranked = output.priorities
            key.append(ranked.index(value) if value in ranked else len(ranked))
    return tuple(key)


def _aggregate(decision: Decision, name: str, values: list[Any]) -> list[dict[str, Any]]:
    present = [v for v in values if v is not None]
    if decision.aggregation == "COUNT":
        return [{name: len(present)}]
    if not present:
        return []
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in present):
        raise DecisionFailed(
            f"decision {decision.id!r}: COLLECT {decision.aggregation} needs numbers"
        )
    totals: dict[str, Callable[[list[Any]], Any]] = {"SUM": sum, "MIN": min, "MAX": max}
    total = totals[decision.aggregation or ""](present)
    return [{name: total}]


def map_result(decision_id: str, mapping: str, results: list[dict[str, Any]]) -> Any:
    """The value `camunda:mapDecisionResult` makes of a decision's result."""
    if mapping == "resultList":
        return results
    if mapping == "collectEntries":
        if any(len(r) != 1 for r in results):
            raise DecisionFailed(f"decision {decision_id!r}: collectEntries needs one output")
        return [next(iter(r.values())) for r in results]
    if not results:
        raise DecisionFailed(
            f"decision {decision_id!r}: no rule matched, and {mapping} needs one result"
        )
    if len(results) > 1:
        raise DecisionFailed(
            f"decision {decision_id!r}: {len(results)} rules matched, and {mapping} takes one"
        )
    if mapping == "singleResult":
        return results[0]
    if len(results[0]) != 1:
        raise DecisionFailed(f"decision {decision_id!r}: singleEntry needs one output")
    return next(iter(results[0].values()))


def decide(
    decision: Decision, task: Any, given: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The decision's result on the task's data, its required decisions evaluated first
    (their outputs join `given`, which its inputs read)."""
    given = {} if given is None else given
    for required in decision.required:
        given.update(as_variables(required, decide(required, task, given)))
    return evaluate(decision, [input_value(column, task, given) for column in decision.inputs])


def as_variables(decision: Decision, results: list[dict[str, Any]]) -> dict[str, Any]:
    """A required decision's result as its dependants read it (Camunda's way): one result
    gives each output's value, several (or a COLLECT or RULE ORDER table) a list per
    output; none gives nothing."""
    if not results:
        return {}
    if len(results) == 1 and decision.hit_policy not in ("COLLECT", "RULE ORDER"):
        return dict(results[0])
    return {o.name: [r.get(o.name) for r in results] for o in decision.outputs}


def input_value(column: Input, task: Any, given: dict[str, Any] | None = None) -> Any:
    """An input column's value: a variable path looked up in the task data, then in the
    outputs of required decisions (a missing variable is an error, a missing property
    null), or diagram code in the sandbox, which sees both."""
    given = given or {}
    if column.path is None:
        return task.workflow.script_engine.evaluate(task, column.expression, given)
    first, *rest = column.path
    if first not in task.data and first not in given:
        raise DecisionFailed(f"input {column.label!r}: variable {first!r} is not set")
    value = task.data[first] if first in task.data else given[first]
    for part in rest:
        value = value.get(part) if isinstance(value, dict) else None
    return value


class DecisionTask(BusinessRuleTask):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """A business rule task running one compiled decision table."""

    def __init__(
        self,
        wf_spec: Any,
        name: str,
        decision: Decision,
        result_variable: str | None,
        mapping: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, name, dmnEngine=None, **kwargs)
        self.decision = decision
        self.result_variable = result_variable
        self.mapping = mapping

    def _run_hook(self, my_task: Any) -> bool:
        try:
            result = map_result(self.decision.id, self.mapping, decide(self.decision, my_task))
        except DecisionFailed as exc:
            raise WorkflowTaskException(str(exc), task=my_task, exception=exc) from exc
        if self.result_variable:
            my_task.data[self.result_variable] = result
        return cast(bool, TaskSpec._run_hook(self, my_task))


def attribute(node: Any, name: str) -> str | None:
    value = node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}")
    return value.strip() if value is not None else None


class DecisionTaskParser(CamundaTaskParser):  # type: ignore[misc]  # SpiffWorkflow is untyped
    def create_task(self) -> DecisionTask:
        ref = attribute(self.node, "decisionRef") or ""
        return DecisionTask(
            self.spec,
            self.bpmn_id,
            decision=self.process_parser.parser.get_engine(ref, self.node),
            result_variable=attribute(self.node, "resultVariable") or None,
            mapping=attribute(self.node, "mapDecisionResult") or DEFAULT_MAPPING,
            **self.bpmn_attributes,
        )

    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        return attribute(node, "decisionRef")
