"""Who a user task is for, as Camunda 7 writes it beside the lanes.

A `bpmn:userTask` may carry `camunda:assignee` (one person), `camunda:candidateUsers` and
`camunda:candidateGroups` (comma-separated). Each name is literal, or for now the simplest
expression: `${name}` (or `#{name}`), the value of the task's variable `name` when the task
becomes ready (a string, comma-separated or not, or a list of strings). Any other
expression is refused at deploy, naming it. A lane stays a shorthand for one more
candidate group; a task with neither is for admins only.

Work items keep the candidates as ",name,name," so that one LIKE finds a name whole.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from .errors import WARNING, Problem

if TYPE_CHECKING:  # the parser records assignments with this module: no import back
    from .parser import ParsedFile

ASSIGNEE = "assignee"
CANDIDATE_USERS = "candidateUsers"
CANDIDATE_GROUPS = "candidateGroups"
_ATTRIBUTES = (ASSIGNEE, CANDIDATE_USERS, CANDIDATE_GROUPS)
_VARIABLE = re.compile(r"^[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
# The characters a username may have (web.accounts) and a group name too: no comma, so
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


def of_element(node: etree._Element) -> Assignment:
    """The assignment attributes of a userTask element, as written."""

    def attr(name: str) -> str | None:
        return node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}")

    return Assignment(
        assignee=(attr(ASSIGNEE) or "").strip() or None,
        users=_split(attr(CANDIDATE_USERS)),
        groups=_split(attr(CANDIDATE_GROUPS)),
    )


def of_spec(spec: Any) -> Assignment:
    """What the parser recorded on a user task spec (nothing for other specs)."""
    found = getattr(spec, "assignment", None)
    return found if isinstance(found, Assignment) else NOBODY


def resolve(written: Assignment, data: Mapping[str, Any]) -> Assignment:
    """The names `written` stands for with the task's data. A variable that is missing or
    holds no name names nobody: the task then falls to the lane, the others, or admins."""
    assignees = _resolved((written.assignee,) if written.assignee else (), data)
    return Assignment(
        assignee=assignees[0] if len(assignees) == 1 else None,
        users=_resolved(written.users, data),
        groups=_resolved(written.groups, data),
    )


def _resolved(parts: Iterable[str], data: Mapping[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    for part in parts:
        match = _VARIABLE.match(part)
        if match is None:
            values: Iterable[Any] = (part,)
        else:
            value = data.get(match.group(1))
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


def check(files: list[ParsedFile], groups: Collection[str]) -> list[Problem]:
    """Refuse what cannot be resolved to names; warn of groups nobody can be in yet."""
    problems = []
    for f in files:
        for task in f.root.iter(f"{{{BPMN_MODEL_NS}}}userTask"):
            for attribute in _ATTRIBUTES:
                value = task.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}")
                for part in _split(value):
                    message = _refusal(attribute, part)
                    if message:
                        problems.append(Problem(message, element=task.get("id"), file=f.name))
                    elif attribute == CANDIDATE_GROUPS and _is_unknown(part, groups):
                        problems.append(_unknown_group(part, task.get("id"), f.name))
    return problems


def _is_unknown(group: str, groups: Collection[str]) -> bool:
    return _VARIABLE.match(group) is None and group not in groups


def _unknown_group(group: str, element: str | None, file: str) -> Problem:
    return Problem(
        f"camunda:candidateGroups names {group!r}, which is neither a role nor a group yet:"
        " until an admin creates it, its tasks go to the others named and to admins",
        element=element,
        file=file,
        severity=WARNING,
    )


def _refusal(attribute: str, part: str) -> str | None:
    if _VARIABLE.match(part):
        return None
    if "{" in part:
        return (
            f"camunda:{attribute} {part!r}: only a variable on its own (${{name}}) is"
            " supported in assignments; set a variable earlier in the process and name it"
        )
    if not NAME.match(part):
        return (
            f"camunda:{attribute} {part!r} is not a name: names have letters, digits"
            " and . - _ @ only"
        )
    return None
