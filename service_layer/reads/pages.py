"""What the pages read, in one place: each function is one short unit of work.

Lists here skip the task forms (`queries.list_tasks` loads each instance's workflow to
describe them), so an inbox stays one indexed query however many instances exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from domain.accounts.models import User
from domain.credentials.models import Credential
from domain.license_keys.models import LicenseKey
from domain.orders.models import SalesOrder
from domain.phone.models import PhoneCredential
from domain.shipping.tracking import tracking_events
from domain.tokens.models import HardwareToken
from engine import queries
from engine.actors import (
    CUSTOMER,
    Actor,
    instance_view,
    require_instance,
    require_task_action,
)
from engine.db import unit_of_work
from engine.models import MessageSubscription, ProcessInstance, WorkItem
from service_layer.system import System


def _uow(system: System) -> Any:
    return unit_of_work(system.session_factory)


def ready_counts(system: System, lanes: list[str]) -> dict[str, int]:
    with _uow(system) as s:
        rows = s.execute(
            select(WorkItem.lane, func.count())
            .where(WorkItem.status == "ready", WorkItem.lane.in_(lanes))
            .group_by(WorkItem.lane)
        )
        return {lane: count for lane, count in rows}


def my_tasks(system: System, actor: Actor, instance_id: str | None = None) -> list[dict[str, Any]]:
    """The customer tasks waiting for this person, oldest first."""
    query = select(WorkItem).where(
        WorkItem.status == "ready",
        WorkItem.lane == CUSTOMER,
        WorkItem.owner_id == actor.user_id,
    )
    if instance_id:
        query = query.where(WorkItem.instance_id == instance_id)
    with _uow(system) as s:
        return [
            queries.work_item(r) for r in s.scalars(query.order_by(WorkItem.created_at).limit(50))
        ]


@dataclass
class TaskPage:
    task: dict[str, Any]
    fields: list[dict[str, Any]]
    instance: dict[str, Any]
    events: list[dict[str, Any]]
    customer: dict[str, Any] | None


def task_page(system: System, actor: Actor, task_id: str) -> TaskPage:
    """A task the actor may act on (404/403 otherwise), its form and its context."""
    with _uow(system) as s:
        item = require_task_action(actor, s.get(WorkItem, task_id))
        fields = queries.task_fields(s, system.engine, item) if item.status == "ready" else []
        inst = require_instance(actor, s.get(ProcessInstance, item.instance_id))
        view = instance_view(actor, inst)
        events = queries.instance_events(s, actor, inst.id) if actor.is_staff else []
        owner = s.get(User, inst.owner_id) if actor.is_staff and inst.owner_id else None
        customer = {"username": owner.username, "email": owner.email} if owner else None
        return TaskPage(queries.work_item(item), fields, view, events, customer)


def events(system: System, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    with _uow(system) as s:
        return queries.instance_events(s, actor, instance_id)


def order_row(system: System, instance_id: str) -> dict[str, Any] | None:
    """The sales order of an instance, as the handlers recorded it (or None yet)."""
    with _uow(system) as s:
        order = s.scalars(select(SalesOrder).where(SalesOrder.instance_id == instance_id)).first()
        if order is None:
            return None
        key = s.scalars(
            select(LicenseKey)
            .where(LicenseKey.order_number == order.order_number)
            .order_by(LicenseKey.sequence.desc())
        ).first()
        return {
            "order_number": order.order_number,
            "status": order.status,
            "product": order.product,
            "quantity": order.quantity,
            "amount_cents": order.amount_cents,
            "currency": order.currency,
            "payment_method": order.payment_method,
            "invoice_number": order.invoice_number,
            "paid_at": order.paid_at,
            "refunded_at": order.refunded_at,
            "refunded_cents": order.refunded_cents,
            "token_serial": order.token_serial,
            "tracking_number": order.tracking_number,
            "estimated_delivery": order.estimated_delivery,
            "shipped_at": order.shipped_at,
            "delivered_at": order.delivered_at,
            "tracking_events": tracking_events(s, order.order_number),
            "license_key_emailed_at": key.emailed_at if key else None,
            "license_key_status": key.status if key else None,
            "license_keys": _license_keys(s, order.order_number),
        }


def _license_keys(s: Any, number: str) -> list[dict[str, Any]]:
    """The order's keys with their state and who used them, for the buyer, who may have
    handed them on (keys are transferable). Never the key itself: only its hash is stored,
    and a used key is nobody's business any more. Replaced keys are left out: the newer
    key stands in for them."""
    keys = list(
        s.scalars(
            select(LicenseKey)
            .where(LicenseKey.order_number == number, LicenseKey.status != "replaced")
            .order_by(LicenseKey.sequence)
        )
    )
    users = [k.used_by_owner_id for k in keys if k.used_by_owner_id is not None]
    found = s.execute(select(User.id, User.username).where(User.id.in_(users)))
    names = {user_id: name for user_id, name in found}
    return [
        {
            "status": k.status,
            "emailed_at": k.emailed_at,
            "used_at": k.used_at,
            "used_by_id": k.used_by_owner_id,
            "used_by": names.get(k.used_by_owner_id) if k.used_by_owner_id else None,
        }
        for k in keys
    ]


def credentials(system: System, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """The person's tokens, subscriptions and backup phones."""
    with _uow(system) as s:
        tokens = s.scalars(
            select(HardwareToken)
            .where(HardwareToken.owner_id == actor.user_id)
            .order_by(HardwareToken.serial)
        )
        subscriptions = s.scalars(
            select(Credential)
            .where(Credential.owner_id == actor.user_id)
            .order_by(Credential.expires_at.desc())
        )
        phones = s.scalars(
            select(PhoneCredential)
            .where(PhoneCredential.owner_id == actor.user_id, PhoneCredential.revoked_at.is_(None))
            .order_by(PhoneCredential.verified_at)
        )
        token_rows = [
            {"serial": t.serial, "status": t.status, "kind": t.kind, "order": t.order_number}
            for t in tokens
        ]
        status_of = {t["serial"]: t["status"] for t in token_rows}
        return {
            "tokens": token_rows,
            "subscriptions": [
                {
                    "order_number": c.order_number,
                    "token_serial": c.token_serial,
                    "token_status": status_of.get(c.token_serial or ""),
                    "status": c.status,
                    "activated_at": c.activated_at,
                    "expires_at": c.expires_at,
                }
                for c in subscriptions
            ],
            "phones": [
                {"number": p.phone_number, "channel": p.channel, "verified_at": p.verified_at}
                for p in phones
            ],
        }


def _awaiting_payment() -> Any:
    return (
        select(ProcessInstance.id, ProcessInstance.business_key, SalesOrder)
        .join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
        .outerjoin(SalesOrder, SalesOrder.instance_id == ProcessInstance.id)
        .where(
            MessageSubscription.message_name == "payment_received",
            ProcessInstance.status == "running",
        )
    )


def awaiting_payment_count(system: System) -> int:
    """How many invoices finance waits to see paid (for its home page)."""
    with _uow(system) as s:
        return s.scalar(select(func.count()).select_from(_awaiting_payment().subquery())) or 0


def awaiting_payment(system: System, limit: int = 100) -> list[dict[str, Any]]:
    """Orders whose instance waits for `payment_received` (invoices), oldest first."""
    query = _awaiting_payment().order_by(ProcessInstance.created_at).limit(limit)
    with _uow(system) as s:
        return [
            {
                "instance_id": iid,
                "order_number": key,
                "invoice_number": order.invoice_number if order else None,
                "amount_cents": order.amount_cents if order else None,
                "currency": order.currency if order else "",
                "invoice_due": order.invoice_due if order else None,
                "po_number": order.po_number if order else None,
            }
            for iid, key, order in s.execute(query)
        ]


def my_orders(system: System, actor: Actor, process: str, limit: int = 50) -> list[dict[str, Any]]:
    """The person's own instances of `process`, newest first (staff included)."""
    query = (
        select(ProcessInstance)
        .where(ProcessInstance.owner_id == actor.user_id, ProcessInstance.process_key == process)
        .order_by(ProcessInstance.created_at.desc())
        .limit(limit)
    )
    with _uow(system) as s:
        return [instance_view(actor, r) for r in s.scalars(query)]


def instance_admin(
    system: System, actor: Actor, instance_id: str, events_page: int = 1, per_page: int = 50
) -> dict[str, Any]:
    """Everything the admin's instance page shows: one page of its audit trail (newest
    first) with each task's title by element, to put the events into words."""
    with _uow(system) as s:
        require_instance(actor, s.get(ProcessInstance, instance_id))
        offset = (max(events_page, 1) - 1) * per_page
        events, total = queries.instance_events_page(s, actor, instance_id, per_page, offset)
        titles = s.execute(
            select(WorkItem.name, WorkItem.title).where(WorkItem.instance_id == instance_id)
        )
        return {
            "events": events,
            "events_total": total,
            "titles": dict(titles.all()),
            "jobs": queries.list_jobs(s, instance_id=instance_id),
            "incidents": queries.list_incidents(s, status=None, instance_id=instance_id),
            "messages": queries.waiting_messages(s, actor, instance_id),
            "tasks": [
                queries.work_item(w)
                for w in s.scalars(
                    select(WorkItem)
                    .where(WorkItem.instance_id == instance_id, WorkItem.status == "ready")
                    .order_by(WorkItem.created_at)
                )
            ],
        }
