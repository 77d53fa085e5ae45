"""The engine's reads of one instance for the API and the pages: the instance as the
actor may see it, the diagram elements it passed, a ready task's form."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import forms, work_item
from .actors import Actor, instance_view, may_work_on, require_instance
from .engine_scope import EngineScope
from .models import ProcessInstance
from .persistence import all_tasks
from .step import Step
from .validation import normalize_lane


class InstanceReads(EngineScope):
    def element_states(self, instance_id: str, actor: Actor) -> dict[str, list[str]]:
        """Which diagram elements the instance passed and where it stands: for a viewer
        that marks them (called processes' elements included)."""
        with self._session() as s:
            inst = require_instance(actor, s.get(ProcessInstance, instance_id))
            if inst.purged_at is not None:  # retention removed the workflow with its data
                return {"completed": [], "active": []}
            loaded = self._load(s, inst)
            try:
                completed: set[str] = set()
                for task in all_tasks(loaded.workflow):
                    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
                    if bpmn_id and task.state == TaskState.COMPLETED:
                        completed.add(bpmn_id)
                active = list((inst.state or {}).get("active", []))
                return {"completed": sorted(completed - set(active)), "active": active}
            finally:
                self.cache.put(inst.id, inst.version, loaded)

    def describe_task(
        self, s: Session, inst: ProcessInstance, task_id: str, element: str | None = None
    ) -> list[dict[str, Any]]:
        """The form of a ready task, with run-time labels and options. The spec comes from
        the parsed bundle and the run-time values from the instance's saved variables, so
        listing many tasks loads no workflow; an ambiguous element id falls back to it."""
        spec = self.specs.get(s, inst.bundle_id).user_task(element) if element else None
        if spec is not None:
            variables = (inst.state or {}).get("variables") or {}
            return forms.describe_form(spec, variables, staff_only(inst))
        loaded = self._load(s, inst)
        try:
            task = loaded.workflow.get_task_from_id(UUID(task_id))
            return forms.describe_form(task.task_spec, task.data, staff_only(inst))
        finally:
            self.cache.put(inst.id, inst.version, loaded)

    def instance(self, instance_id: str, actor: Actor) -> dict[str, Any]:
        with self._session() as s:
            return instance_view(
                actor, require_instance(actor, s.get(ProcessInstance, instance_id))
            )


def staff_only(inst: ProcessInstance) -> set[str]:
    """The variables only staff may see in this instance."""
    return set((inst.state or {}).get("staff_variables", []))


def next_tasks(actor: Actor, step: Step) -> list[dict[str, Any]]:
    """The instance's ready user tasks that `actor` may work on, oldest first."""
    found = []
    for tid in step.mirror["ready"]:
        task = step.workflow.get_task_from_id(UUID(tid))
        spec = task.task_spec
        lane = normalize_lane(spec.lane)
        named, _ = work_item.of_task(task)
        if may_work_on(actor, lane, step.instance.owner_id, named):
            title = spec.bpmn_name or spec.bpmn_id
            found.append({"id": tid, "name": spec.bpmn_id, "title": title, "lane": lane})
    return found
