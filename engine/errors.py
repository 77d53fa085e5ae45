"""Errors the engine raises; the web layer maps each to one HTTP status."""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: `title` is short, `detail` a full sentence for the person."""

    title = "Engine error"

    def __init__(self, detail: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class NotFound(EngineError):
    title = "Not found"


class Forbidden(EngineError):
    title = "Forbidden"


class Conflict(EngineError):
    title = "Conflict"


class InvalidInput(EngineError):
    """Bad data for a task, message or start (HTTP 422)."""

    title = "Invalid input"


class ProcessIncident(EngineError):
    """The diagram failed while an instance ran (HTTP 422): the step up to the failing
    element is saved, and the instance holds an incident there for an admin to retry.
    `notices` are the values the saved part of the step showed once to the person who
    acted (an activation code): they exist nowhere else, so they travel with the error."""

    title = "The process could not continue"

    def __init__(
        self,
        detail: str,
        *,
        incident_id: int,
        instance_id: str,
        element: str,
        notices: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.incident_id = incident_id
        self.instance_id = instance_id
        self.element = element
        self.notices = notices or {}


class DefinitionInvalid(EngineError):
    """A diagram that failed validation; `problems` lists each with its element id."""

    title = "Invalid process definition"

    def __init__(self, problems: list[Problem]) -> None:
        lines = "; ".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s): {lines}")
        self.problems = problems


ERROR = "error"
WARNING = "warning"


class Problem:
    """One validation finding about a diagram. An error refuses the deploy; a warning is
    shown (data may come from outside the diagram, so some findings can be wrong)."""

    def __init__(
        self,
        message: str,
        element: str | None = None,
        file: str | None = None,
        severity: str = ERROR,
    ):
        self.message = message
        self.element = element
        self.file = file
        self.severity = severity

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "file": self.file,
            "message": self.message,
            "severity": self.severity,
        }

    def __str__(self) -> str:
        where = ":".join(x for x in (self.file, self.element) if x)
        text = f"{where}: {self.message}" if where else self.message
        return text if self.is_error else f"warning: {text}"

    def __repr__(self) -> str:
        return f"Problem({self!s})"
