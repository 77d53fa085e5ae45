"""Use cases of migrating running instances to another version of their process
(an analyst's plan, checked per instance, then carried out). The engine owns their
transactions: one to check, one per migrated instance."""

from __future__ import annotations

from engine import instance_migration
from engine.actors import Actor

from .system import System


def check_migration(
    system: System, plan: instance_migration.Plan, selection: instance_migration.Selection
) -> list[instance_migration.Outcome]:
    """What migrating would do to each selected instance; changes none."""
    return instance_migration.validate(system.engine, plan, selection)


def migrate_instances(
    system: System,
    plan: instance_migration.Plan,
    selection: instance_migration.Selection,
    actor: Actor,
) -> list[instance_migration.Outcome]:
    """Migrate each selected instance that validates, each in its own transaction."""
    return instance_migration.execute(system.engine, plan, selection, actor)
