"""What the analyst pages read, each a short unit of work over the engine's functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine import definitions, instance_migration, starters, statistics
from engine.db import unit_of_work
from engine.errors import NotFound
from engine.instance_migration import OPEN_STATUSES
from engine.models import ProcessDefinition, ProcessInstance
from engine.parser import parse_xml
from service_layer.system import System


@dataclass(frozen=True)
class Version:
    key: str
    name: str | None
    version: int
    hash: str
    file_name: str
    deployed_at: datetime
    deployed_by: str | None
    open_instances: int
    starters: str
    xml: str = field(repr=False)


@dataclass(frozen=True)
class Process:
    key: str
    name: str | None
    versions: list[Version]

    @property
    def latest(self) -> Version:
        return self.versions[0]

    @property
    def open_instances(self) -> int:
        return sum(v.open_instances for v in self.versions)


def processes(system: System) -> list[Process]:
    """Every deployed process, its versions newest first."""
    with unit_of_work(system.session_factory) as s:
        counts = _open_counts(s)
        rows = definitions.list_definitions(s)
        by_key: dict[str, list[Version]] = {}
        for d in rows:
            by_key.setdefault(d.key, []).append(_version(d, counts))
    return [
        Process(key, versions[-1].name, sorted(versions, key=lambda v: -v.version))
        for key, versions in by_key.items()
    ]


def process(system: System, key: str) -> Process:
    for found in processes(system):
        if found.key == key:
            return found
    raise NotFound(f"No process definition {key!r}.")


def version(system: System, key: str, number: int | None) -> Version:
    with unit_of_work(system.session_factory) as s:
        return _version(definitions.get_definition(s, key, number), _open_counts(s))


def statistics_rows(
    system: System, xml: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Per element in diagram order, with its name."""
    names = element_names(xml)
    with unit_of_work(system.session_factory) as s:
        found = statistics.element_statistics(s, xml, start, end)
    return [{**item.as_dict(), "name": names.get(e)} for e, item in found.items()]


def element_names(xml: str) -> dict[str, str]:
    return {
        node.get("id"): node.get("name")
        for node in parse_xml(xml.encode("utf-8")).iter()
        if isinstance(node.tag, str) and node.get("id") and node.get("name")
    }


def _open_counts(s: Any) -> dict[tuple[str, int], int]:
    rows = s.execute(
        select(ProcessInstance.process_key, ProcessInstance.definition_version, func.count())
        .where(ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(ProcessInstance.process_key, ProcessInstance.definition_version)
    )
    return {(key, number): count for key, number, count in rows}


def _version(d: ProcessDefinition, counts: dict[tuple[str, int], int]) -> Version:
    return Version(
        key=d.key,
        name=d.name,
        version=d.version,
        hash=d.hash,
        file_name=d.file_name,
        deployed_at=d.deployed_at,
        deployed_by=d.deployed_by,
        open_instances=counts.get((d.key, d.version), 0),
        starters=starters.describe(d.starters),
        xml=d.xml,
    )


def migration_plan(
    system: System, key: str, source: int, target: int, mapping: dict[str, str | None]
) -> instance_migration.PlanView:
    with unit_of_work(system.session_factory) as s:
        return instance_migration.prepare(s, key, source, target, mapping)
