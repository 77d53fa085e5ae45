"""Deployed DMN decisions: numbered versions per decision id, and the checks that tie
business rule tasks to them.

A decision's id is its key, as a process's id is: deploying a changed DMN file makes a new
version of each decision in it. A process instance evaluates the versions that were the
latest when it started (its spec bundle pins them, as it pins called processes), so a new
version of a table is used by new instances and running ones keep theirs.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from . import audit, camunda_checks, dmn, versions
from .decision_task import MAPPINGS, DecisionFailed, attribute, decide
from .dmn import Decision, DmnFile
from .errors import WARNING, InvalidInput, NotFound, Problem
from .models import DecisionDefinition
from .parser import BPMN_NS, parse_xml

_RULE_TASK = f"{{{BPMN_NS}}}businessRuleTask"
_ONE_OUTPUT = ("singleEntry", "collectEntries")


def refs(root: etree._Element) -> list[str]:
    """The decisions the business rule tasks of a BPMN document name."""
    return [r for t in root.iter(_RULE_TASK) if (r := attribute(t, "decisionRef"))]


@functools.lru_cache(maxsize=256)
def _compiled(file_name: str, xml: str) -> tuple[Decision, ...]:
    # Stored versions passed these checks when they were deployed.
    return tuple(dmn.read(file_name, xml.encode("utf-8"), parse_xml(xml.encode("utf-8"))).decisions)


def compiled(rows: Iterable[DecisionDefinition]) -> dict[str, Decision]:
    """Each row's decision, compiled (once per file content)."""
    found = {}
    for row in rows:
        for decision in _compiled(row.file_name, row.xml):
            if decision.id == row.key:
                found[row.key] = decision
    return found


def latest_definitions(session: Session) -> list[DecisionDefinition]:
    return versions.latest_of_each(session, DecisionDefinition)


def latest_definition(session: Session, key: str) -> DecisionDefinition | None:
    return versions.latest(session, DecisionDefinition, key)


def get_definition(session: Session, key: str, version: int | None) -> DecisionDefinition:
    return versions.find(session, DecisionDefinition, key, version, "decision")


def list_definitions(session: Session) -> list[DecisionDefinition]:
    return versions.every(session, DecisionDefinition)


MAX_EVALUATE_VARIABLES = 100


def evaluate_definition(
    session: Session,
    key: str,
    version: int | None,
    variables: Any,
    script_engine: Any,
) -> dict[str, Any]:
    """A deployed decision's result on `variables` alone, as Camunda's REST `evaluate`
    gives it: one dict of outputs per rule that counts (before any result mapping). Input
    expressions run in the workflow's sandbox, as they do in a business rule task."""
    if not isinstance(variables, dict) or len(variables) > MAX_EVALUATE_VARIABLES:
        raise InvalidInput(
            f"`variables` must be an object of at most {MAX_EVALUATE_VARIABLES} variables"
        )
    if bad := [n for n in variables if not (isinstance(n, str) and n.isidentifier())]:
        raise InvalidInput(f"not variable names: {', '.join(map(repr, bad[:5]))}")
    row = get_definition(session, key, version)
    decision = compiled([row]).get(key)
    if decision is None:  # pragma: no cover - a stored version always compiles
        raise NotFound(f"decision {key!r} version {row.version} cannot be read")
    given = _Given(data=dict(variables), workflow=_ScriptHolder(script_engine))
    try:
        result = decide(decision, given)
    except DecisionFailed as exc:
        raise InvalidInput(str(exc)) from exc
    except Exception as exc:  # an input expression failed in the sandbox
        raise InvalidInput(f"decision {key!r}: an input expression failed: {exc}") from exc
    return {"key": key, "version": row.version, "result": result}


@dataclass
class _ScriptHolder:
    script_engine: Any


@dataclass
class _Given:
    """What `decide` reads of a task, for a decision evaluated on its own."""

    data: dict[str, Any]
    workflow: _ScriptHolder
    task_spec: Any = None


def available(session: Session, batch: list[DmnFile]) -> dict[str, Decision]:
    """The decisions a deploy may refer to: the latest deployed, and the batch's own."""
    found = compiled(latest_definitions(session))
    for f in batch:
        found.update({d.id: d for d in f.decisions})
    return found


def check_files(batch: list[DmnFile]) -> list[Problem]:
    """The batch's DMN problems, and a decision id that two of its files define."""
    problems = [p for f in batch for p in f.problems]
    owners: dict[str, str] = {}
    for f in batch:
        for element in f.decisions:
            if element.id in owners:
                message = f"decision {element.id!r} is also in {owners[element.id]}"
                problems.append(Problem(message, element=element.id, file=f.name))
            owners[element.id] = f.name
    return problems


def check_tasks(file: str, proc: etree._Element, known: Mapping[str, Decision]) -> list[Problem]:
    """Each business rule task of a process checked against the decisions it may name."""
    return [
        Problem(message, element=task.get("id"), file=file, severity=severity)
        for task in proc.iter(_RULE_TASK)
        for message, severity in _task_problems(task, known)
    ]


def _rules_filling_several_outputs(decision: Decision) -> list[int]:
    return [r.row for r in decision.rules if sum(v is not None for v in r.values) > 1]


def _task_problems(task: etree._Element, known: Mapping[str, Decision]) -> list[tuple[str, str]]:
    if camunda_checks.is_java_bound(task):
        return []  # refused by camunda_checks with what to use instead
    ref = attribute(task, "decisionRef")
    if not ref:
        return [
            (
                "business rule task has no camunda:decisionRef: name a deployed DMN "
                "decision (its id)",
                "error",
            )
        ]
    decision = known.get(ref)
    if decision is None:
        return [
            (
                f"business rule task names decision {ref!r}, which is not deployed: deploy "
                "its DMN file first or with this diagram",
                "error",
            )
        ]
    found = []
    mapping = attribute(task, "mapDecisionResult") or "resultList"
    if mapping not in MAPPINGS:
        found.append(
            (f"camunda:mapDecisionResult {mapping!r} is not one of {', '.join(MAPPINGS)}", "error")
        )
    elif mapping in _ONE_OUTPUT and (wide := _rules_filling_several_outputs(decision)):
        # Camunda checks this at run time: an empty output cell gives no entry, so a
        # table of several outputs suits these mappings when each rule fills one.
        found.append(
            (
                f"camunda:mapDecisionResult {mapping} takes one output per result, and "
                f"rule(s) {', '.join(map(str, wide))} of {ref!r} fill several: the task "
                "fails (an incident) when one of them matches",
                WARNING,
            )
        )
    variable = attribute(task, "resultVariable")
    if not variable:
        found.append(
            (
                "business rule task has no camunda:resultVariable, so its decision's "
                "result is not kept",
                WARNING,
            )
        )
    elif not variable.isidentifier() or variable.startswith("_"):
        found.append((f"camunda:resultVariable {variable!r} is not a variable name", "error"))
    if attribute(task, "decisionRefBinding") not in (None, "latest"):
        found.append(
            (
                "camunda:decisionRefBinding: only 'latest' (at the instance's start) is supported",
                "error",
            )
        )
    return found


def store(session: Session, batch: list[DmnFile], actor: str | None) -> list[tuple[Any, ...]]:
    """A new version of each decision whose file changed: (key, version, hash, changed, file)."""
    results = []
    for f in batch:
        digest = hashlib.sha256(f.xml).hexdigest()
        for decision in f.decisions:
            latest = latest_definition(session, decision.id)
            if latest is not None and latest.hash == digest:
                results.append((decision.id, latest.version, digest, False, f.name))
                continue
            version = (latest.version if latest else 0) + 1
            session.add(
                DecisionDefinition(
                    key=decision.id,
                    name=decision.name,
                    version=version,
                    hash=digest,
                    file_name=f.name,
                    xml=f.xml.decode("utf-8"),
                    deployed_by=actor,
                )
            )
            audit.record(
                session,
                "decision.deployed",
                actor=actor,
                key=decision.id,
                version=version,
                hash=digest,
            )
            results.append((decision.id, version, digest, True, f.name))
    return results


_REFS: dict[str, tuple[str, ...]] = {}  # a stored BPMN file's hash -> its decision refs
_MAX_REFS = 1024


def _refs_of(row: Any) -> tuple[str, ...]:
    """A stored version's decision refs, read once per content (every start asks)."""
    found = _REFS.get(row.hash)
    if found is None:
        found = tuple(refs(parse_xml(row.xml.encode("utf-8"))))
        if len(_REFS) >= _MAX_REFS:
            _REFS.clear()
        _REFS[row.hash] = found
    return found


def for_processes(session: Session, rows: Iterable[Any]) -> list[DecisionDefinition]:
    """The latest version of every decision these process versions' tasks evaluate."""
    keys = sorted({r for row in rows for r in _refs_of(row)})
    found = []
    for key in keys:
        row = latest_definition(session, key)
        if row is None:
            raise NotFound(f"decision {key!r} is not deployed")
        found.append(row)
    return found
