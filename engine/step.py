"""What one step of an instance carries besides the workflow: who acts, values never
stored, and what the step mirrors into tables. The stepper runs a step (`stepper.py`)
and the mirror saves it (`mirror.py`); both read this, neither imports the other back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy.orm import Session

from .incidents import Failure
from .models import ProcessInstance
from .persistence import Loaded


@dataclass
class Step:
    """What one step carries besides the workflow: who acts, and values never stored."""

    session: Session
    instance: ProcessInstance
    loaded: Loaded
    actor: str | None
    secrets: dict[str, Any] = field(default_factory=dict)
    notices: dict[str, Any] = field(default_factory=dict)
    run_task_ids: set[str] = field(default_factory=set)
    staff_fields: set[str] = field(default_factory=set)
    mirror: dict[str, Any] = field(default_factory=dict)
    spawn: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Incidents this step raised where the diagram failed: the caller hears of them.
    raised: list[tuple[int, Failure]] = field(default_factory=list)
    shows_notices: bool = False  # the caller hands `notices` to the person who acted

    def __post_init__(self) -> None:
        saved = (self.instance.state or {}).get("mirror") or {}
        self.mirror = {
            "ready": dict(saved.get("ready", {})),
            "timers": dict(saved.get("timers", {})),
            "messages": list(saved.get("messages", [])),
            "retrying": list(saved.get("retrying", [])),
            "incidents": list(saved.get("incidents", [])),
            "staff_variables": list(saved.get("staff_variables", [])),
            "business_key": saved.get("business_key"),
        }

    @property
    def workflow(self) -> BpmnWorkflow:
        return self.loaded.workflow

    def blocked(self) -> set[str]:
        """Service tasks waiting for a retry job or an admin: not run in passing."""
        return set(self.mirror["retrying"]) | set(self.mirror["incidents"])
