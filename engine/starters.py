"""Who may start a process: Camunda 7's process-level attributes, stored per version.

A `bpmn:process` may carry `camunda:candidateStarterGroups` and
`camunda:candidateStarterUsers` (comma-separated) and `camunda:isStartableInTasklist`.
Tokenflow reads them as Camunda does, with one difference that the product needs: a
process that names no starters is open to staff but not to customers, because customers
start only the processes marked for them. Admins may start anything, and the engine
itself (call activities, `ctx.start_process`) is never asked.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .errors import Forbidden, Problem
from .models import ProcessDefinition
from .parser import BPMN_NS, ParsedFile

_GROUPS = f"{{{CAMUNDA_MODEL_NS}}}candidateStarterGroups"
_USERS = f"{{{CAMUNDA_MODEL_NS}}}candidateStarterUsers"
_STARTABLE = f"{{{CAMUNDA_MODEL_NS}}}isStartableInTasklist"

# What `process_definitions.starters` holds: `groups`/`users` are None when the attribute
# is absent (no restriction) and a list when present, even an empty one (nobody).
Starters = dict[str, Any]
UNRESTRICTED: Starters = {"groups": None, "users": None, "startable": True}


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return sorted({name.strip() for name in value.split(",") if name.strip()})


def of_process(root: etree._Element, key: str) -> Starters:
    """The starter attributes of process `key` in a parsed BPMN document."""
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        if proc.get("id") == key:
            return {
                "groups": _names(proc.get(_GROUPS)),
                "users": _names(proc.get(_USERS)),
                # Camunda's default is startable; only an explicit false hides it.
                "startable": (proc.get(_STARTABLE) or "true").strip().lower() != "false",
            }
    return dict(UNRESTRICTED)


def check(files: list[ParsedFile], groups: Collection[str]) -> list[Problem]:
    """Starter groups must exist (roles are groups too): a misspelt one would silently
    lock its people out."""
    problems = []
    for f in files:
        for key in f.process_ids:
            for group in of_process(f.root, key)["groups"] or ():
                if group not in groups:
                    problems.append(
                        Problem(
                            f"camunda:candidateStarterGroups names {group!r}, which is neither"
                            f" a role nor a group (groups: {', '.join(sorted(groups))})",
                            element=key,
                            file=f.name,
                        )
                    )
    return problems


def may_start(actor: Actor, starters: Starters) -> bool:
    if actor.is_admin:
        return True
    if not starters.get("startable", True):
        return False
    groups, users = starters.get("groups"), starters.get("users")
    if groups is None and users is None:
        return actor.is_staff
    return actor.name in (users or ()) or bool(actor.groups & set(groups or ()))


def describe(starters: Starters) -> str:
    """Who may start, in words, for the analyst's pages."""
    if not starters.get("startable", True):
        return "Tokenflow itself (call activities, handlers) and admins"
    groups, users = starters.get("groups"), starters.get("users")
    if groups is None and users is None:
        return "staff of any role and admins; no customers (the diagram names no starters)"
    named = [
        f"the {kind}{'s' if len(names) > 1 else ''} {', '.join(names)}"
        for kind, names in (("group", groups), ("user", users))
        if names
    ]
    return "; ".join([*named, "admins"]) if named else "admins only"


def require_may_start(session: Session, actor: Actor, key: str) -> None:
    """Refuse `actor` a start of the latest version of `key`; a missing process passes,
    to be reported as missing by the start itself."""
    if actor.is_admin:
        return
    starters = session.scalars(
        select(ProcessDefinition.starters)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()
    if starters is None or may_start(actor, starters):
        return
    if not starters.get("startable", True):
        raise Forbidden(f"The process {key!r} is started by Tokenflow itself, not on request.")
    raise Forbidden(f"Your role may not start the process {key!r}.")


def startable(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The processes `actor` may start now: each one's latest version, by key."""
    rows = session.execute(
        select(
            ProcessDefinition.key,
            ProcessDefinition.name,
            ProcessDefinition.version,
            ProcessDefinition.starters,
        ).order_by(ProcessDefinition.key, ProcessDefinition.version)
    )
    latest = {row.key: row for row in rows}  # ordered by version: the last one stays
    return [
        {"key": row.key, "name": row.name, "version": row.version}
        for row in latest.values()
        if may_start(actor, row.starters)
    ]
