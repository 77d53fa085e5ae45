"""The engine's tables: definitions, instances and their tasks, work items, jobs,
incidents, message subscriptions and the audit chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, utcnow


class _Deployed:
    """What every deployed version holds: numbered per key, the file it came from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    xml: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(200))


class ProcessDefinition(_Deployed, Base):
    """One numbered version of one process, from a deployed BPMN file."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    # Who may start this version (engine/starters.py), read from the diagram at deploy.
    starters: Mapped[dict[str, Any]] = mapped_column(JSON)
    # camunda:historyTimeToLive in days (engine/retention.py); None: the configured default.
    history_ttl_days: Mapped[int | None] = mapped_column(Integer)


class DecisionDefinition(_Deployed, Base):
    """One numbered version of one DMN decision (its id is the key), from a deployed file."""

    __tablename__ = "decision_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)


class SpecBundle(Base):
    """The definition versions an instance runs on: its process and every called one,
    and the decision versions their business rule tasks evaluate."""

    __tablename__ = "spec_bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    definition_ids: Mapped[list[int]] = mapped_column(JSON)
    decision_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class ProcessInstance(Base):
    __tablename__ = "process_instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    definition_version: Mapped[int]
    bundle_id: Mapped[int] = mapped_column(ForeignKey("spec_bundles.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    business_key: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Optimistic concurrency: every step bumps it; a step that finds it moved loses (409),
    # and a process's cached workflow is only reused while it matches.
    version: Mapped[int] = mapped_column(default=1)
    serializer_version: Mapped[str] = mapped_column(String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    # When the retention job removed its personal data (engine/retention.py).
    purged_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class InstanceTask(Base):
    """One SpiffWorkflow task of an instance, serialized; rewritten only when it changed."""

    __tablename__ = "instance_tasks"

    instance_id: Mapped[str] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class WorkItem(Base):
    """A user task as people see it: ready, claimed, completed or cancelled."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_status_lane", "status", "lane"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    business_key: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(200))
    # Who else may act, from camunda:candidateUsers/candidateGroups, as ",name,name,"
    # so that one LIKE finds a name whole (see engine.assignment).
    candidate_users: Mapped[str | None] = mapped_column(String(1000))
    candidate_groups: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    # Camunda's task priority: higher first; 50 when the diagram sets none.
    priority: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(200))


class Group(Base):
    """A candidate group an admin created, beside the roles (each role is a group too).

    The engine knows only the names, to check the diagrams that name them; who belongs
    to a group is the accounts' part (domain.accounts.models.GroupMember)."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageSubscription(Base):
    __tablename__ = "message_subscriptions"
    __table_args__ = (Index("ix_message_subscriptions_lookup", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str | None] = mapped_column(String(100))


class Job(Base):
    """A timer or a service-task retry, due at `due_at`; claimed by a worker with a lease."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id", "kind"),
        Index("ix_jobs_due", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    task_id: Mapped[str] = mapped_column(String(36))
    element: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Incident(Base):
    """A service task whose retries ran out, or an element whose diagram code or
    SpiffWorkflow failed (`topic` empty, `expression` the code that failed); an admin
    retries it."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(36))
    element: Mapped[str] = mapped_column(String(200))
    element_name: Mapped[str | None] = mapped_column(String(300))
    topic: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    expression: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))


class AuditChain(Base):
    """The head of one hash chain (an instance's, or `system`): truncation shows here."""

    __tablename__ = "audit_chains"

    chain: Mapped[str] = mapped_column(String(36), primary_key=True)
    length: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int]
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(200))
    element: Mapped[str | None] = mapped_column(String(200))
    # None once the retention job removed it; `details_hash` (sha256 of its canonical
    # JSON) stays and is what `hash` covers, so the chain verifies either way. Rows
    # written before 0010 have no details_hash: their hash covers the details themselves.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
