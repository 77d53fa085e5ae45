"""Use cases of DMN decisions for the API and the analyst's pages: their deployed
versions, one version's file, and trying a table on given variables (nothing stored).
Each opens its one transaction; the engine's NotFound and InvalidInput pass through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine import decisions
from engine.db import unit_of_work
from engine.models import DecisionDefinition

from .system import System


@dataclass(frozen=True)
class DecisionVersion:
    key: str
    name: str | None
    version: int
    hash: str
    file_name: str
    deployed_at: datetime
    deployed_by: str | None
    xml: str = field(repr=False)

    @classmethod
    def of(cls, row: DecisionDefinition) -> DecisionVersion:
        return cls(
            row.key,
            row.name,
            row.version,
            row.hash,
            row.file_name,
            row.deployed_at,
            row.deployed_by,
            row.xml,
        )


def list_decisions(system: System) -> list[DecisionVersion]:
    """Every version of every deployed decision, by key then version."""
    with unit_of_work(system.session_factory) as s:
        return [DecisionVersion.of(row) for row in decisions.list_definitions(s)]


def decision_version(system: System, key: str, version: int | None) -> DecisionVersion:
    """One version of a decision (None: the latest); NotFound when there is none."""
    with unit_of_work(system.session_factory) as s:
        return DecisionVersion.of(decisions.get_definition(s, key, version))


def evaluate_decision(
    system: System, key: str, version: int | None, variables: Any
) -> dict[str, Any]:
    """The decision's result on `variables` (version None: the latest)."""
    with unit_of_work(system.session_factory) as s:
        return decisions.evaluate_definition(
            s, key, version, variables, system.engine.script_engine
        )
