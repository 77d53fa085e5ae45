"""Following parcels: ask the carrier, keep its tracking events, report the delivery.

The worker calls `track_shipments` on every tick. Each parcel is asked about only when
the carrier said asking again may tell more (`Shipment.next_check_at`), so a tick with no
parcel due costs one indexed query. When the carrier reports a parcel delivered, the
process hears it as the message `token_delivered` with the order number as correlation
key: the path an operator's own message takes (`POST /api/v1/messages`), through
`report`, which the composition root wires to the engine.

Idempotent: an event is kept once per parcel and status, and a delivery reported twice
(two workers, a crash between reporting and noting it) finds nothing waiting the second
time, which `report` answers with False; the parcel is then done all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.carrier import Carrier, TrackingReport
from domain.shipping.models import Shipment, TrackingEvent
from engine.db import unit_of_work

log = logging.getLogger(__name__)

DELIVERED_MESSAGE = "token_delivered"
# How long one worker holds a delivered parcel while it reports it, and how long a
# carrier that failed to answer, or a process that was busy, is left alone.
REPORT_LEASE = timedelta(minutes=1)
RETRY_AFTER = timedelta(minutes=5)

# report(order_number, data) -> True when the process took the message, False when
# nothing waits for it (already reported); raises when it should be tried again.
Report = Callable[[str, dict[str, Any]], bool]


def record_shipment(
    session: Session, tracking_number: str, order_number: str, now: datetime
) -> None:
    """Follow a parcel from now on (once per tracking number: a retried step adds none)."""
    known = session.scalar(select(Shipment.id).where(Shipment.tracking_number == tracking_number))
    if known is None:
        session.add(
            Shipment(
                tracking_number=tracking_number,
                order_number=order_number,
                shipped_at=now,
                next_check_at=now,
            )
        )


def track_shipments(
    factory: sessionmaker[Session],
    carrier: Carrier,
    report: Report,
    now: datetime,
    limit: int = 100,
) -> int:
    """Ask the carrier about every parcel due a check; return how many were delivered
    and reported to their process in this call."""
    with unit_of_work(factory) as s:
        due = s.scalars(
            select(Shipment)
            .where(Shipment.next_check_at <= now)
            .order_by(Shipment.next_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # several workers take different parcels
        ).all()
        to_report = []
        for shipment in due:
            delivered_at = _check(s, carrier, shipment, now)
            if delivered_at is not None:
                to_report.append((shipment.tracking_number, shipment.order_number, delivered_at))
    reported = 0
    for tracking_number, order_number, delivered_at in to_report:
        data = {
            "carrier_status": "delivered",
            "tracking_number": tracking_number,
            "delivered_at": delivered_at.isoformat(),
        }
        try:
            took = report(order_number, data)
        except Exception as exc:  # busy or suspended: the lease runs out, then we retry
            log.warning("delivery of %s not reported yet: %s", tracking_number, exc)
            _set_next_check(factory, tracking_number, now + RETRY_AFTER)
            continue
        reported += took
        _set_next_check(factory, tracking_number, None, reported_at=now)
    return reported


def _check(s: Session, carrier: Carrier, shipment: Shipment, now: datetime) -> datetime | None:
    """Record what the carrier says of `shipment`; its delivery time when that is still
    to be reported."""
    try:
        answer = carrier.track(shipment.tracking_number, now)
    except Exception as exc:  # an outside system: it may fail; ask again later
        log.warning("carrier did not answer for %s: %s", shipment.tracking_number, exc)
        shipment.next_check_at = now + RETRY_AFTER
        return None
    _keep_events(s, shipment, answer)
    delivered = answer.delivered
    if delivered is None:
        shipment.next_check_at = answer.check_again_at or now + RETRY_AFTER
        return None
    shipment.delivered_at = shipment.delivered_at or delivered.occurred_at
    shipment.next_check_at = now + REPORT_LEASE
    return shipment.delivered_at


def _keep_events(s: Session, shipment: Shipment, answer: TrackingReport) -> None:
    seen = set(
        s.scalars(select(TrackingEvent.status).where(TrackingEvent.shipment_id == shipment.id))
    )
    for event in answer.events:
        if event.status not in seen:
            s.add(
                TrackingEvent(
                    shipment_id=shipment.id, status=event.status, occurred_at=event.occurred_at
                )
            )


def _set_next_check(
    factory: sessionmaker[Session],
    tracking_number: str,
    at: datetime | None,
    reported_at: datetime | None = None,
) -> None:
    with unit_of_work(factory) as s:
        shipment = s.scalars(
            select(Shipment).where(Shipment.tracking_number == tracking_number)
        ).one()
        shipment.next_check_at = at
        if reported_at is not None:
            shipment.reported_at = reported_at


def tracking_events(s: Session, order_number: str) -> list[dict[str, Any]]:
    """The tracking events of an order's parcels, oldest first."""
    rows = s.execute(
        select(Shipment.tracking_number, TrackingEvent.status, TrackingEvent.occurred_at)
        .join(TrackingEvent, TrackingEvent.shipment_id == Shipment.id)
        .where(Shipment.order_number == order_number)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    )
    return [
        {"tracking_number": number, "status": status, "occurred_at": at}
        for number, status, at in rows
    ]
