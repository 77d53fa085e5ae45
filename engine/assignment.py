"""Who a user task is for, as Camunda 7 writes it beside the lanes.

A `bpmn:userTask` may carry `camunda:assignee` (one person), `camunda:candidateUsers` and
`camunda:candidateGroups` (comma-separated; commas inside an expression do not count).
Each part is a literal name or a JUEL expression (`${reviewer}`, `${amount > 1000 ?
'leads' : 'support'}`), evaluated when the task becomes ready to a name, comma-separated
names or a list of names. A variable alone (`${reviewer}`) that the task lacks names
nobody; any other expression that fails is an incident at the task (`scopes.py`). What
the evaluator does not support is refused at deploy, naming the expression. A lane stays
a shorthand for one more candidate group; a task with neither is for admins only.

Work items keep the candidates as ",name,name," so that one LIKE finds a name whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from . import juel
from .errors import WARNING, Problem
from .juel_text import segments

ASSIGNEE = "assignee"
CANDIDATE_USERS = "candidateUsers"
CANDIDATE_GROUPS = "candidateGroups"
_ATTRIBUTES = (ASSIGNEE, CANDIDATE_USERS, CANDIDATE_GROUPS)
_VARIABLE = re.compile(r"^[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
# The characters a username may have (domain.accounts.users) and a group name too: no comma, so
# the stored lists split back exactly.
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,150}$")


@dataclass(frozen=True)
class Assignment:
    """The people and groups of one user task: as written (possibly `${...}`) on a task
    spec, or resolved to names on a work item."""

    assignee: str | None = None
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.assignee or self.users or self.groups)

    def names(self, actor_name: str) -> bool:
        """Is this person named (as assignee or candidate user)?"""
        return actor_name == self.assignee or actor_name in self.users


NOBODY = Assignment()


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def split_written(value: str | None) -> tuple[str, ...]:
    """Comma-separated parts of an attribute, cutting only outside `${...}`."""
    try:
        pieces = segments(value or "")
    except juel.JuelError:  # unclosed: the deploy check says so
        return _split(value)
    parts, current = [], ""
    for piece in pieces:
        if isinstance(piece, tuple):
            current += piece[0]
            continue
        first, *rest = piece.split(",")
        current += first
        if rest:
            parts.append(current)
            *middle, current = rest
            parts.extend(middle)
    parts.append(current)
    return tuple(p.strip() for p in parts if p.strip())


def of_element(node: etree._Element) -> Assignment:
    """The assignment attributes of a userTask element, as written."""

    def attr(name: str) -> str | None:
        return cast(str | None, node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}"))

    return Assignment(
        assignee=(attr(ASSIGNEE) or "").strip() or None,
        users=split_written(attr(CANDIDATE_USERS)),
        groups=split_written(attr(CANDIDATE_GROUPS)),
    )


def of_spec(spec: Any) -> Assignment:
    """What the parser recorded on a user task spec (nothing for other specs)."""
    found = getattr(spec, "assignment", None)
    return found if isinstance(found, Assignment) else NOBODY


Run = Callable[[str, Mapping[str, Any]], Any]


def has_expressions(written: Assignment) -> bool:
    parts = (*filter(None, [written.assignee]), *written.users, *written.groups)
    return any(juel.is_juel(part) for part in parts)


def resolve(written: Assignment, data: Mapping[str, Any], run: Run | None = None) -> Assignment:
    """The names `written` stands for with the task's data; `run` evaluates expressions
    (without it, only variables alone are read). A variable that is missing or holds no
    name names nobody: the task then falls to the lane, the others, or admins. An
    expression that fails raises (its caller makes that an incident)."""
    assignees = _resolved((written.assignee,) if written.assignee else (), data, run)
    return Assignment(
        assignee=assignees[0] if len(assignees) == 1 else None,
        users=_resolved(written.users, data, run),
        groups=_resolved(written.groups, data, run),
    )


def _resolved(parts: Iterable[str], data: Mapping[str, Any], run: Run | None) -> tuple[str, ...]:
    names: list[str] = []
    for part in parts:
        match = _VARIABLE.match(part)
        if match is not None:
            value = data.get(match.group(1))
        elif juel.is_juel(part):
            value = run(part, data) if run is not None else None
        else:
            value = part
        values = _split(value) if isinstance(value, str) else value
        if not isinstance(values, (list, tuple)):
            values = ()
        names.extend(v for v in values if isinstance(v, str) and NAME.match(v) and v not in names)
    return tuple(names)


def encode(names: Iterable[str]) -> str | None:
    joined = ",".join(names)
    return f",{joined}," if joined else None


def decode(stored: str | None) -> tuple[str, ...]:
    return _split(stored)


class BpmnFile(Protocol):
    """What the deploy-time check reads of a parsed file (`parser.ParsedFile`, which
    records assignments with this module: no import back)."""

    @property
    def name(self) -> str: ...

    @property
    def root(self) -> etree._Element: ...


def check(files: Iterable[BpmnFile], groups: Collection[str]) -> list[Problem]:
    """Refuse what cannot be resolved to names; warn of groups nobody can be in yet."""
    problems = []
    for f in files:
        for task in f.root.iter(f"{{{BPMN_MODEL_NS}}}userTask"):
            for attribute in _ATTRIBUTES:
                value = task.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}")
                for part in split_written(value):
                    message = _refusal(attribute, part)
                    if message:
                        problems.append(Problem(message, element=task.get("id"), file=f.name))
                    elif attribute == CANDIDATE_GROUPS and _is_unknown(part, groups):
                        problems.append(_unknown_group(part, task.get("id"), f.name))
    return problems


def _is_unknown(group: str, groups: Collection[str]) -> bool:
    return not juel.is_juel(group) and group not in groups


def _unknown_group(group: str, element: str | None, file: str) -> Problem:
    return Problem(
        f"camunda:candidateGroups names {group!r}, which is neither a role nor a group yet:"
        " until an admin creates it, its tasks go to the others named and to admins",
        element=element,
        file=file,
        severity=WARNING,
    )


def _refusal(attribute: str, part: str) -> str | None:
    if juel.is_juel(part):
        reasons = juel.check(part)
        return f"camunda:{attribute}: {reasons[0]}" if reasons else None
    if not NAME.match(part):
        return (
            f"camunda:{attribute} {part!r} is not a name: names have letters, digits"
            " and . - _ @ only"
        )
    return None
