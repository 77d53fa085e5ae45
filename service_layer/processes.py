"""Use cases of processes as the API and the pages see them: deployed definitions, who
may start what, instances, their events and the messages they wait for, tasks, jobs,
incidents, and an analyst's dry run of a draft. Each opens its one transaction (the
engine's own commands, such as start or complete, open theirs) and returns plain
values; the engine's errors (NotFound, Forbidden, InvalidInput...) pass through."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.services import build_services
from engine import definitions, queries, simulate, starters
from engine.actors import Actor
from engine.db import unit_of_work
from engine.models import ProcessDefinition

from .system import System


@dataclass(frozen=True)
class DefinitionVersion:
    """One deployed version of a process (its file only through `definition_xml`)."""

    key: str
    name: str | None
    version: int
    hash: str
    deployed_at: datetime
    deployed_by: str | None
    starters: dict[str, Any]

    @classmethod
    def of(cls, row: ProcessDefinition) -> DefinitionVersion:
        return cls(
            row.key,
            row.name,
            row.version,
            row.hash,
            row.deployed_at,
            row.deployed_by,
            row.starters,
        )


def list_definitions(system: System) -> list[DefinitionVersion]:
    """Every version of every deployed process."""
    with unit_of_work(system.session_factory) as s:
        return [DefinitionVersion.of(row) for row in definitions.list_definitions(s)]


def definition_xml(system: System, key: str, version: int | None) -> str:
    """The BPMN file of a process's version (None: the latest); NotFound when none."""
    with unit_of_work(system.session_factory) as s:
        return definitions.get_definition(s, key, version).xml


def startable(system: System, actor: Actor) -> list[dict[str, Any]]:
    """The processes `actor` may start."""
    with unit_of_work(system.session_factory) as s:
        return starters.startable(s, actor)


def list_instances(
    system: System,
    actor: Actor,
    where: queries.InstanceFilter,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The instances `actor` may see that match, and how many match in all."""
    with unit_of_work(system.session_factory) as s:
        return queries.list_instances(s, actor, where, limit, offset)


def instance_events(system: System, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    with unit_of_work(system.session_factory) as s:
        return queries.instance_events(s, actor, instance_id)


def waiting_messages(system: System, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    """What the instance waits for, ready to send as a message."""
    with unit_of_work(system.session_factory) as s:
        return queries.waiting_messages(s, actor, instance_id)


def list_tasks(
    system: System,
    actor: Actor,
    where: queries.TaskFilter,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The open tasks `actor` may see, with their forms."""
    with unit_of_work(system.session_factory) as s:
        return queries.list_tasks(s, actor, system.engine, where, limit, offset)


def list_jobs(system: System, instance_id: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(system.session_factory) as s:
        return queries.list_jobs(s, instance_id=instance_id)


def list_incidents(
    system: System, status: str | None = "open", instance_id: str | None = None
) -> list[dict[str, Any]]:
    """Incidents in `status` (None: every status)."""
    with unit_of_work(system.session_factory) as s:
        return queries.list_incidents(s, status=status, instance_id=instance_id)


def dry_run(
    system: System, draft: list[tuple[str, bytes]], scenario: simulate.Scenario
) -> simulate.DryRun:
    """Run `scenario` on a draft in a throwaway database, with sandbox services writing
    to a throwaway folder and sending no mail; the processes it calls come from the
    deployed ones. DefinitionInvalid when the draft is invalid."""
    with tempfile.TemporaryDirectory(prefix="tokenflow-dry-run-") as sandbox:
        config = dataclasses.replace(
            system.config, instance_dir=Path(sandbox), smtp_host=None, smtp_port=None
        )
        return simulate.dry_run(
            draft,
            scenario,
            source=system.session_factory,
            registry=system.engine.registry,
            roles=system.engine.roles,
            services=build_services(config),
            metadata=system.tables,
        )
