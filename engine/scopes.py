"""An activity's own variables, as Camunda 7 scopes them, on SpiffWorkflow's task data.

SpiffWorkflow hands each task a copy of its parent's data and its children a copy of
its own, so a task's data is one scope. Camunda gives an activity with mappings a scope
of its own, and this module plays that out when the task becomes ready and completes:

- Ready (`_update_hook`): the data the activity inherited is kept aside (internal data),
  its input parameters are evaluated over that data and added as its local variables.
  A user task's assignment and attributes are resolved then, over the same variables,
  so that an expression that fails is an incident at the task (`work_item.py`).
- Complete (`_on_complete_hook`, before its successors inherit): a call activity's
  `camunda:out` are applied, then the output parameters evaluated over everything the
  activity had. With output parameters, what leaves the activity is the data it
  inherited plus those outputs; the values the activity set itself stay its own, as
  Camunda keeps variables set on a task with output mappings local. Without them, every
  change leaves except the local variables (inputs, `local` outs), which give back the
  value they shadowed.

A call activity's `camunda:in` choose the called process's start data (`start_workflow`,
before the called process exists). A failing expression marks the task ERROR and raises
`MappingFailed`, which the engine's incident handling pins on the element
(`incidents.py`); a user task's failing output instead refuses its completion whole.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from SpiffWorkflow.bpmn.specs.defaults import CallActivity
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import call_variables, io_mapping, work_item
from .io_mapping import runner

SCOPE = "tf_scope"  # internal data: {"before": inherited data, "locals": [names]}
PASSED_IN = "tf_passed_in"  # internal data, for a moment: what camunda:in gives

_spiff_update_hook = TaskSpec._update_hook
_spiff_complete_hook = TaskSpec._on_complete_hook


class MappingFailed(Exception):
    """An expression of a mapping or assignment failed at run time; names the element's
    parameter and the reason (never a value)."""

    def __init__(self, message: str, task: Task) -> None:
        super().__init__(message)
        self.task = task


def _failing(task: Task, where: str, exc: Exception) -> Exception:
    """The error to raise: the task stands in ERROR and gets the incident; except a user
    task whose completion fails, which is refused whole as in Camunda (its person hears
    why, the task stays open, nothing of the step is kept)."""
    if task.state == TaskState.COMPLETED and work_item.is_user_task(task.task_spec):
        return cast(Exception, WorkflowException(f"{where}: {exc}"))
    if task.state != TaskState.ERROR:
        task._set_state(TaskState.ERROR)
    return MappingFailed(f"{where}: {exc}", task)


def _mapping(spec: TaskSpec) -> io_mapping.IoMapping | None:
    found = getattr(spec, "io_mapping", None)
    return found if isinstance(found, io_mapping.IoMapping) else None


def _passing(spec: TaskSpec) -> call_variables.CallVariables | None:
    found = getattr(spec, "call_variables", None)
    return found if isinstance(found, call_variables.CallVariables) else None


def _ready_hook(self: TaskSpec, my_task: Task) -> Any:
    result = _spiff_update_hook(self, my_task)
    mapping, passing = _mapping(self), _passing(self)
    if mapping is not None or passing is not None:
        state = my_task.internal_data.get(SCOPE)
        if state is None:
            # What the activity inherits: its parent's data (on a retry its own data
            # still holds the locals of the failed try).
            inherited = my_task.parent.data if my_task.parent is not None else my_task.data
            state = {"before": copy.deepcopy(inherited), "locals": []}
            my_task.internal_data[SCOPE] = state
        if mapping is not None and mapping.inputs:
            run = runner(my_task)
            for parameter in mapping.inputs:
                try:
                    value = io_mapping.evaluate(parameter.value, state["before"], run)
                except Exception as exc:
                    raise _failing(my_task, f"input parameter {parameter.name!r}", exc) from exc
                my_task.data[parameter.name] = value
            state["locals"] = [p.name for p in mapping.inputs]
    if work_item.has_expressions(self):
        try:
            my_task.internal_data[work_item.RESOLVED] = work_item.resolve(self, my_task)
        except work_item.AssignmentFailed as exc:
            raise _failing(my_task, exc.where, exc.reason) from exc.reason
    return result


def _complete_hook(self: TaskSpec, my_task: Task) -> Any:
    mapping, passing = _mapping(self), _passing(self)
    if mapping is not None or passing is not None:
        _leave_scope(my_task, mapping, passing)
    return _spiff_complete_hook(self, my_task)


def _leave_scope(
    task: Task,
    mapping: io_mapping.IoMapping | None,
    passing: call_variables.CallVariables | None,
) -> None:
    state = task.internal_data.get(SCOPE) or _scope_again(task, mapping)
    before: dict[str, Any] = state["before"]
    local_names = list(state["locals"])
    data = dict(task.data)
    run = runner(task)
    called = _called_data(task) if passing is not None and passing.outs else None
    if passing is not None and called is not None:
        for out in passing.outs:
            try:
                got = call_variables.passed((out,), called, called, run)
            except Exception as exc:
                raise _failing(task, f"camunda:out {out.target or 'all'}", exc) from exc
            data.update(got)
            if out.local:
                local_names.extend(got)
    outputs: dict[str, Any] = {}
    for parameter in mapping.outputs if mapping is not None else ():
        try:
            outputs[parameter.name] = io_mapping.evaluate(parameter.value, data, run)
        except Exception as exc:
            raise _failing(task, f"output parameter {parameter.name!r}", exc) from exc
    if outputs or (mapping is not None and mapping.outputs):
        leaving = copy.deepcopy(before)
        leaving.update(outputs)
    else:
        leaving = data
        for name in local_names:
            if name in before:
                leaving[name] = copy.deepcopy(before[name])
            else:
                leaving.pop(name, None)
    task.data = leaving
    task.internal_data.pop(SCOPE, None)


def _scope_again(task: Task, mapping: io_mapping.IoMapping | None) -> dict[str, Any]:
    """The scope of a task that did not pass through `_ready_hook` this time (a retried
    call activity whose called process had ended): what it inherits, its inputs local."""
    inherited = task.parent.data if task.parent is not None else {}
    names = [p.name for p in mapping.inputs] if mapping is not None else []
    return {"before": copy.deepcopy(inherited), "locals": names}


def _called_data(task: Task) -> dict[str, Any] | None:
    """The called process's variables at its end (kept while the caller lives, so a
    retried call activity reads them again)."""
    called = task.workflow.top_workflow.subprocesses.get(task.id)
    return called.last_task.data if called is not None and called.last_task else None


class MappedCallActivity(CallActivity):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """A call activity that honours `camunda:in` and `camunda:out` when it has them."""

    def start_workflow(self, my_task: Task) -> None:
        passing = _passing(self)
        if passing is not None and passing.ins:
            # Evaluated before the called process exists: a failure leaves nothing running.
            state = my_task.internal_data.get(SCOPE) or {"locals": []}
            own = {k: my_task.data[k] for k in state["locals"] if k in my_task.data}
            try:
                data = call_variables.passed(passing.ins, my_task.data, own, runner(my_task))
            except Exception as exc:
                raise _failing(my_task, "camunda:in", exc) from exc
            my_task.internal_data[PASSED_IN] = data
        super().start_workflow(my_task)

    def copy_data(self, my_task: Task, subworkflow: Any) -> None:
        data = my_task.internal_data.pop(PASSED_IN, None)
        if data is None:
            super().copy_data(my_task, subworkflow)
            return
        start = subworkflow.get_next_task(
            subworkflow.task_tree, skip_subprocesses=True, spec_name="Start"
        )
        start.set_data(**copy.deepcopy(data))

    def update_data(self, my_task: Task, subworkflow: Any) -> None:
        passing = _passing(self)
        if passing is None or not passing.outs:
            super().update_data(my_task, subworkflow)
        # Otherwise the outs are applied when the call activity completes, where a
        # failure is its incident (`_leave_scope`).


# Installed once, like incidents.py's guard: SpiffWorkflow 3.2.0 is pinned, every task
# spec's hook chain ends in these two, and they do nothing for a spec without mappings.
TaskSpec._update_hook = _ready_hook
TaskSpec._on_complete_hook = _complete_hook
