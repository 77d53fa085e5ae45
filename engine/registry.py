"""The handler registry: how service-task and validator code plugs into the engine.

A diagram names a topic (`camunda:topic="send_license_key_email"` on a service task,
or a `validator` property on a user task); the code registered under that name runs.
Tokenflow's own handlers register exactly as a customer's extension would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from . import audit


class BpmnError(Exception):
    """Raised by a handler to throw a BPMN error that an error boundary event catches."""

    def __init__(self, code: str, message: str = "", data: Mapping[str, Any] | None = None):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.data = dict(data or {})


class FieldErrors(Exception):
    """Raised by a validator: the task stays open and each field shows its message."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass
class HandlerContext:
    """What a handler may see and do. It never commits: the engine owns the transaction."""

    session: Session
    instance_id: str
    element: str
    task_id: str
    business_key: str | None
    owner_id: int | None
    now: datetime
    data: Mapping[str, Any]
    config: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, Any] = field(default_factory=dict)
    actor: str | None = None
    services: Any = None
    # Whether the person whose action ran this step is shown its notices: true when they
    # completed a task (form or API); false for timers, retries, messages and admin runs.
    shows_notices: bool = False
    notices: dict[str, Any] = field(default_factory=dict)
    new_business_key: str | None = None
    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of this task: outside systems deduplicate on it."""
        return f"{self.instance_id}:{self.task_id}"

    def set_business_key(self, key: str) -> None:
        self.new_business_key = key
        self.business_key = key

    def start_process(self, key: str, data: Mapping[str, Any]) -> None:
        """Start the latest version of process `key` for this instance's owner, in this
        step's transaction (once the step is saved): e.g. a renewal watch when a
        credential becomes active. A retried handler must ask only once."""
        self.started.append((key, dict(data)))

    def notice(self, **values: Any) -> None:
        """Values shown once to the person whose action ran this; never stored. Lost when
        nobody is shown them (`shows_notices` false): a handler whose notice matters must
        check first."""
        self.notices.update(values)

    def audit(self, event: str, **details: Any) -> None:
        audit.record(
            self.session,
            event,
            instance_id=self.instance_id,
            actor=self.actor,
            element=self.element,
            **details,
        )


Handler = Callable[[HandlerContext], Mapping[str, Any] | None]
Validator = Callable[[HandlerContext, dict[str, Any]], Mapping[str, Any] | None]


@dataclass
class Registry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    validators: dict[str, Validator] = field(default_factory=dict)

    def handler(self, topic: str | None = None) -> Callable[[Handler], Handler]:
        """Decorator: register a service-task handler under `topic` (default: its name)."""

        def register(fn: Handler) -> Handler:
            self._add(self.handlers, topic or fn.__name__, fn)
            return fn

        return register

    def validator(self, name: str | None = None) -> Callable[[Validator], Validator]:
        """Decorator: register a user-task validator (refuses input with FieldErrors)."""

        def register(fn: Validator) -> Validator:
            self._add(self.validators, name or fn.__name__, fn)
            return fn

        return register

    @staticmethod
    def _add(table: dict[str, Any], name: str, fn: Any) -> None:
        if name in table and table[name] is not fn:
            raise ValueError(f"{name!r} is registered twice")
        table[name] = fn
