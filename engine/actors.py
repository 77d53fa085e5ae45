"""Who is acting, and what a role may see: the engine's whole notion of identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import assignment
from .assignment import Assignment
from .errors import Forbidden, NotFound
from .models import ProcessInstance, WorkItem

CUSTOMER = "customer"
ADMIN = "admin"
# Variables never shown through the API, whoever asks.
_HIDDEN_PREFIXES = ("secret_",)
_HIDDEN_SUFFIXES = ("_hash",)


@dataclass(frozen=True)
class Actor:
    name: str
    roles: frozenset[str]
    user_id: int | None = None
    # The groups an admin put the person in, beside the roles (each role is a group).
    member_of: frozenset[str] = frozenset()

    @property
    def groups(self) -> frozenset[str]:
        return self.roles | self.member_of

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles - {CUSTOMER})

    def may_work_lane(self, lane: str | None) -> bool:
        return self.is_admin or (lane is not None and lane in self.roles)


SYSTEM = Actor("system", frozenset({ADMIN}))


def can_see_instance(actor: Actor, inst: ProcessInstance) -> bool:
    return actor.is_staff or (actor.user_id is not None and inst.owner_id == actor.user_id)


def require_instance(actor: Actor, inst: ProcessInstance | None) -> ProcessInstance:
    # A foreign instance looks exactly like a missing one.
    if inst is None or not can_see_instance(actor, inst):
        raise NotFound("No such process instance.")
    return inst


def assignment_of(item: WorkItem) -> Assignment:
    """Who a work item names (its claimant counts as its assignee)."""
    return Assignment(
        assignee=item.assignee,
        users=assignment.decode(item.candidate_users),
        groups=assignment.decode(item.candidate_groups),
    )


def can_see_task(actor: Actor, item: WorkItem) -> bool:
    return may_work_on(actor, item.lane, item.owner_id, assignment_of(item))


def may_work_on(
    actor: Actor,
    lane: str | None,
    owner_id: int | None,
    assigned: Assignment = assignment.NOBODY,
) -> bool:
    """A task of `lane` in an instance owned by `owner_id`, naming `assigned`: may `actor`
    see and do it? A customer task is its owner's alone; otherwise the lane is one more
    candidate group, and a task naming nobody is for admins."""
    if lane == CUSTOMER:
        return actor.user_id is not None and owner_id == actor.user_id
    if actor.may_work_lane(lane) or assigned.names(actor.name):
        return True
    return bool(actor.groups & set(assigned.groups))


def require_task_action(actor: Actor, item: WorkItem | None) -> WorkItem:
    """404 for tasks the actor may not even see; 403 for a visible task of another lane."""
    if item is None:
        raise NotFound("No such task.")
    if item.lane == CUSTOMER:
        if actor.user_id is None or item.owner_id != actor.user_id:
            raise NotFound("No such task.")
        return item
    if can_see_task(actor, item):
        return item
    if actor.is_staff:
        if item.lane:
            raise Forbidden(f"This task belongs to the {item.lane} lane.")
        raise Forbidden("This task is for the people and groups it names.")
    raise NotFound("No such task.")


def is_hidden(name: str) -> bool:
    """A variable never shown through the API, whoever asks."""
    return name.startswith(_HIDDEN_PREFIXES) or name.endswith(_HIDDEN_SUFFIXES)


def visible_variables(actor: Actor, inst: ProcessInstance) -> dict[str, Any]:
    state = inst.state or {}
    staff_only = set(state.get("staff_variables", []))
    out = {}
    for key, value in (state.get("variables") or {}).items():
        if is_hidden(key):
            continue
        if key in staff_only and not actor.is_staff:
            continue
        out[key] = value
    return out


def instance_view(actor: Actor, inst: ProcessInstance) -> dict[str, Any]:
    return {
        "id": inst.id,
        "process": inst.process_key,
        "definition_version": inst.definition_version,
        "status": inst.status,
        "business_key": inst.business_key,
        "active": list((inst.state or {}).get("active", [])),
        "variables": visible_variables(actor, inst),
        "created_at": inst.created_at.isoformat(),
        "updated_at": inst.updated_at.isoformat(),
        # Set once the retention job removed its personal data (engine/retention.py).
        "purged_at": inst.purged_at.isoformat() if inst.purged_at else None,
    }
