"""Renewal of a credential: which credential a renewal is for, the term a payment buys,
applying it, and the expiry.

Renewal extends by twelve months from the current expiry, also when it comes after the
expiry, so a lapse buys no free days and costs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.credentials.models import Credential, Renewal
from domain.credentials.registration import add_years

RENEWAL_YEARS = 1


@dataclass(frozen=True)
class Term:
    """When the reminder, the expiry and the end of the grace period fall; a reminder
    already due falls now."""

    expires_at: datetime
    remind_at: datetime
    closes_at: datetime


def credential_to_renew(
    session: Session,
    *,
    order_number: str | None,
    credential_id: int | None,
    owner_id: int | None,
    lock: bool = False,
) -> Credential | None:
    """The order's credential (the one named `credential_id` when given: an order of
    several tokens has a credential for each, whose token may be replaced when lost
    while its id stays); without an order (a customer renewing on their own) the owner's
    credential that expires last."""
    query = select(Credential)
    if order_number:
        query = query.where(Credential.order_number == order_number)
        if credential_id is not None:
            query = query.where(Credential.id == credential_id)
    else:
        query = query.where(Credential.owner_id == owner_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query.order_by(Credential.expires_at.desc())).first()


def term(expires_at: datetime, remind_before: timedelta, grace: timedelta, now: datetime) -> Term:
    return Term(expires_at, max(expires_at - remind_before, now), expires_at + grace)


def charged_by(session: Session, task_id: str) -> bool:
    """Whether this task already took a renewal payment (a repeated run)."""
    return bool(session.scalar(select(Renewal.id).where(Renewal.task_id == task_id)))


def record_renewal(
    session: Session,
    credential: Credential,
    *,
    instance_id: str,
    task_id: str,
    charge_id: str | None,
    amount_cents: int,
    currency: str,
    now: datetime,
) -> Renewal:
    """The paid renewal and the term it buys, to be applied by `apply_renewals`."""
    renewal = Renewal(
        order_number=credential.order_number,
        instance_id=instance_id,
        task_id=task_id,
        charge_id=charge_id,
        amount_cents=amount_cents,
        currency=currency,
        previous_expires_at=credential.expires_at,
        new_expires_at=add_years(credential.expires_at, RENEWAL_YEARS),
        paid_at=now,
    )
    session.add(renewal)
    return renewal


def apply_renewals(
    session: Session, credential: Credential, instance_id: str, now: datetime
) -> None:
    """Apply the instance's paid renewals not yet applied: the latest term bought counts,
    and an expired credential is active again."""
    pending = session.scalars(
        select(Renewal)
        .where(Renewal.instance_id == instance_id, Renewal.applied_at.is_(None))
        .order_by(Renewal.id)
    ).all()
    for renewal in pending:
        credential.expires_at = max(credential.expires_at, renewal.new_expires_at)
        renewal.applied_at = now
    if pending and credential.expires_at > now:
        credential.status = "active"


def expire(credential: Credential, now: datetime) -> bool:
    """End an active credential whose term is over; True when this call ended it."""
    if credential.status == "active" and credential.expires_at <= now:
        credential.status = "expired"
        return True
    return False
