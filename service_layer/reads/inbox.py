"""The staff inboxes' lists: ready tasks of a lane, or naming a person, with the
appointment time of the instance's video interview beside each, sorted and filtered by
due date and appointment time. One indexed query per page (no workflow is loaded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select

from domain.proofing.models import VideoAppointment
from engine import queries
from engine.actors import Actor
from engine.clock import clock
from engine.db import unit_of_work
from engine.models import WorkItem
from service_layer.system import System

INBOX_PAGE = 100
_STARTS = VideoAppointment.starts_at

# The API's orders (queries.TASK_ORDERS) and one more: the interview's appointment, today's
# first (a proofing agent's day), then the others by time, tasks without one last.
SORTS = {
    "created": "Waiting longest",
    "due": "Due",
    "follow_up": "Follow-up",
    "priority": "Priority",
    "appointment": "Appointment",
}
# Filters by a window of time, in UTC days by the engine clock.
WINDOWS = {
    "overdue": "Overdue",
    "today": "Today",
    "tomorrow": "Tomorrow",
    "week": "Next 7 days",
    "none": "None set",
}


@dataclass(frozen=True)
class InboxQuery:
    sort: str = "created"
    due: str = ""  # a WINDOWS key or "" (all)
    appointment: str = ""
    offset: int = 0


def lane_tasks(system: System, role: str, query: InboxQuery) -> tuple[list[dict[str, Any]], int]:
    """Ready tasks of one lane; the caller checked the role."""
    ready = select(WorkItem).where(WorkItem.status == "ready", WorkItem.lane == role)
    return _page(system, ready, query)


def named_tasks(
    system: System, actor: Actor, query: InboxQuery
) -> tuple[list[dict[str, Any]], int]:
    """Ready tasks that name this person or their groups."""
    return _page(system, queries.named_tasks(actor), query)


def _page(
    system: System, ready: Select[Any], query: InboxQuery
) -> tuple[list[dict[str, Any]], int]:
    now = clock.now()
    joined = (
        ready.add_columns(_STARTS)
        .outerjoin(VideoAppointment, VideoAppointment.instance_id == WorkItem.instance_id)
        .where(*_window(WorkItem.due_at, query.due, now))
        .where(*_window(_STARTS, query.appointment, now))
    )
    today = _day(now)
    with unit_of_work(system.session_factory) as s:
        total = s.scalar(select(func.count()).select_from(joined.subquery())) or 0
        rows = s.execute(
            joined.order_by(*_order(query.sort, today)).limit(INBOX_PAGE).offset(query.offset)
        )
        return [
            {
                **queries.work_item(item),
                "appointment_at": starts,
                "appointment_today": starts is not None and today[0] <= starts < today[1],
            }
            for item, starts in rows
        ], total


def _order(sort: str, today: tuple[datetime, datetime]) -> tuple[Any, ...]:
    if sort != "appointment":
        return queries.TASK_ORDERS[sort]
    starts = VideoAppointment.starts_at
    is_today = case((and_(starts >= today[0], starts < today[1]), 0), else_=1)
    return (is_today, starts.asc().nulls_last(), WorkItem.created_at, WorkItem.id)


def _day(moment: datetime, days: int = 0) -> tuple[datetime, datetime]:
    start = datetime.combine(moment.date(), time(0), moment.tzinfo) + timedelta(days=days)
    return start, start + timedelta(days=1)


def _window(column: Any, window: str, now: datetime) -> list[Any]:
    if window == "overdue":
        return [column < now]
    if window in ("today", "tomorrow"):
        start, end = _day(now, 0 if window == "today" else 1)
        return [column >= start, column < end]
    if window == "week":
        return [column >= _day(now)[0], column < _day(now, 7)[0]]
    if window == "none":
        return [column.is_(None)]
    return []
