"""Read models for lists: what the API and pages show, filtered by who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .actors import CUSTOMER, Actor, instance_view, require_instance
from .models import AuditEvent, Incident, Job, MessageSubscription, ProcessInstance, WorkItem


@dataclass(frozen=True)
class InstanceFilter:
    """Which instances a listing shows (each given field must match; `created_to` is
    exclusive)."""

    business_key: str | None = None
    status: str | None = None
    process: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    def narrow(self, query: Select[tuple[ProcessInstance]]) -> Select[tuple[ProcessInstance]]:
        """`query` of instances, kept to those this filter matches."""
        if self.business_key:
            query = query.where(ProcessInstance.business_key == self.business_key)
        if self.status:
            query = query.where(ProcessInstance.status == self.status)
        if self.process:
            query = query.where(ProcessInstance.process_key == self.process)
        if self.created_from:
            query = query.where(ProcessInstance.created_at >= self.created_from)
        if self.created_to:
            query = query.where(ProcessInstance.created_at < self.created_to)
        return query


def list_instances(
    s: Session,
    actor: Actor,
    where: InstanceFilter = InstanceFilter(),
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    query = select(ProcessInstance)
    if not actor.is_staff:
        query = query.where(ProcessInstance.owner_id == actor.user_id)
    query = where.narrow(query)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(
        query.order_by(ProcessInstance.created_at.desc(), ProcessInstance.id)
        .limit(limit)
        .offset(offset)
    )
    return [instance_view(actor, r) for r in rows], total


def _visible_tasks(actor: Actor) -> Select[Any]:
    """What `may_work_on` allows, as SQL: the customer's own tasks; for others the lanes
    of their roles, and the tasks that name them or one of their groups."""
    query = select(WorkItem).where(WorkItem.status == "ready")
    own_customer = and_(WorkItem.lane == CUSTOMER, WorkItem.owner_id == actor.user_id)
    if actor.is_admin:
        return query.where(or_(_NOT_CUSTOMER, own_customer))
    lanes = [r for r in actor.roles if r != CUSTOMER]
    return query.where(
        or_(WorkItem.lane.in_(lanes), own_customer, and_(_NOT_CUSTOMER, _names(actor)))
    )


def named_tasks(actor: Actor) -> Select[Any]:
    """Ready tasks that name `actor` or one of their groups, whatever their lane; for
    admins also every task in no lane (no lane's inbox shows those)."""
    mine = _names(actor)
    if actor.is_admin:
        mine = or_(mine, WorkItem.lane.is_(None))
    return select(WorkItem).where(WorkItem.status == "ready", _NOT_CUSTOMER, mine)


_NOT_CUSTOMER = or_(WorkItem.lane.is_(None), WorkItem.lane != CUSTOMER)


def _names(actor: Actor) -> ColumnElement[bool]:
    return or_(
        WorkItem.assignee == actor.name,
        WorkItem.candidate_users.contains(f",{actor.name},", autoescape=True),
        *(
            WorkItem.candidate_groups.contains(f",{group},", autoescape=True)
            for group in sorted(actor.groups)
        ),
    )


# How work items may be ordered (`sort`): soonest due or follow-up first (none last),
# highest priority first (as in Camunda's Tasklist); oldest first within each.
TASK_ORDERS: dict[str, tuple[Any, ...]] = {
    "created": (WorkItem.created_at, WorkItem.id),
    "due": (WorkItem.due_at.asc().nulls_last(), WorkItem.created_at, WorkItem.id),
    "follow_up": (WorkItem.follow_up_at.asc().nulls_last(), WorkItem.created_at, WorkItem.id),
    "priority": (WorkItem.priority.desc(), WorkItem.created_at, WorkItem.id),
}


@dataclass(frozen=True)
class TaskFilter:
    """Which open tasks a listing shows (each given field must match), in which order."""

    instance_id: str | None = None
    name: str | None = None
    lane: str | None = None
    sort: str = "created"


def list_tasks(
    s: Session,
    actor: Actor,
    engine: Any,
    where: TaskFilter = TaskFilter(),
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    query = _visible_tasks(actor)
    if where.instance_id:
        query = query.where(WorkItem.instance_id == where.instance_id)
    if where.name:
        query = query.where(WorkItem.name == where.name)
    if where.lane:
        query = query.where(WorkItem.lane == where.lane)
    order = TASK_ORDERS[where.sort]
    items = s.scalars(query.order_by(*order).limit(limit).offset(offset))
    return [task_view(s, engine, item) for item in items]


def work_item(item: WorkItem) -> dict[str, Any]:
    """A work item as lists show it (datetimes as they are; the API formats them)."""
    return {
        "id": item.id,
        "name": item.name,
        "title": item.title,
        "lane": item.lane,
        "instance_id": item.instance_id,
        "business_key": item.business_key,
        "assignee": item.assignee,
        "status": item.status,
        "created_at": item.created_at,
        "due_at": item.due_at,
        "follow_up_at": item.follow_up_at,
        "priority": item.priority,
    }


def task_view(s: Session, engine: Any, item: WorkItem) -> dict[str, Any]:
    return {
        **work_item(item),
        "created_at": item.created_at.isoformat(),
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "follow_up_at": item.follow_up_at.isoformat() if item.follow_up_at else None,
        "fields": task_fields(s, engine, item),
    }


def task_fields(s: Session, engine: Any, item: WorkItem) -> list[dict[str, Any]]:
    inst = s.get(ProcessInstance, item.instance_id)
    if inst is None:
        return []
    return cast(list[dict[str, Any]], engine.describe_task(s, inst, item.id, item.name))


def list_jobs(s: Session, instance_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    query = select(Job).order_by(Job.due_at).limit(limit)
    if instance_id:
        query = query.where(Job.instance_id == instance_id)
    return [
        {
            "id": j.id,
            "instance_id": j.instance_id,
            "element": j.element,
            "kind": j.kind,
            "due_at": j.due_at.isoformat(),
            "attempts": j.attempts,
            "last_error": j.last_error,
        }
        for j in s.scalars(query)
    ]


def list_incidents(
    s: Session, status: str | None = "open", instance_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    query = select(Incident).order_by(Incident.created_at.desc()).limit(limit)
    if status:
        query = query.where(Incident.status == status)
    if instance_id:
        query = query.where(Incident.instance_id == instance_id)
    return [
        {
            "id": i.id,
            "instance_id": i.instance_id,
            "element": i.element,
            "element_name": i.element_name,
            "topic": i.topic,
            "error": i.error,
            "expression": i.expression,
            "status": i.status,
            "created_at": i.created_at.isoformat(),
        }
        for i in s.scalars(query)
    ]


def instance_events(s: Session, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    require_instance(actor, s.get(ProcessInstance, instance_id))
    rows = s.scalars(
        select(AuditEvent).where(AuditEvent.chain == instance_id).order_by(AuditEvent.seq)
    )
    return [_event(e, actor) for e in rows]


def instance_events_page(
    s: Session, actor: Actor, instance_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the audit trail, newest first, and how many events it has in all."""
    require_instance(actor, s.get(ProcessInstance, instance_id))
    where = AuditEvent.chain == instance_id
    total = s.scalar(select(func.count()).select_from(AuditEvent).where(where)) or 0
    rows = s.scalars(
        select(AuditEvent).where(where).order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    )
    return [_event(e, actor) for e in rows], total


def _event(e: AuditEvent, actor: Actor) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "event": e.event,
        "actor": e.actor,
        "element": e.element,
        "details": e.details if actor.is_staff else {},
        "at": e.created_at.isoformat(),
    }


def waiting_messages(s: Session, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    """The messages the instance waits for, each with the key that correlates it."""
    require_instance(actor, s.get(ProcessInstance, instance_id))
    rows = s.execute(
        select(MessageSubscription.message_name, MessageSubscription.correlation_key)
        .where(MessageSubscription.instance_id == instance_id)
        .order_by(MessageSubscription.message_name, MessageSubscription.id)
    )
    return [{"name": name, "correlation_key": key} for name, key in rows]
