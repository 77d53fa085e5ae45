"""Who is acting, and what a role may see: the engine's whole notion of identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def can_see_task(actor: Actor, item: WorkItem) -> bool:
    return may_work_on(actor, item.lane, item.owner_id)


def may_work_on(actor: Actor, lane: str | None, owner_id: int | None) -> bool:
    """A task of `lane` in an instance owned by `owner_id`: may `actor` see and do it?"""
    if lane == CUSTOMER:
        return actor.user_id is not None and owner_id == actor.user_id
    return actor.may_work_lane(lane)


def require_task_action(actor: Actor, item: WorkItem | None) -> WorkItem:
    """404 for tasks the actor may not even see; 403 for a visible task of another lane."""
    if item is None:
        raise NotFound("No such task.")
    if item.lane == CUSTOMER:
        if actor.user_id is None or item.owner_id != actor.user_id:
            raise NotFound("No such task.")
        return item
    if actor.may_work_lane(item.lane):
        return item
    if actor.is_staff:
        raise Forbidden(f"This task belongs to the {item.lane} lane.")
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
    }
