"""Start forms: `camunda:formData` on a process's none start event, asked of the person who
starts the process, with the same fields, types, defaults and constraints as a user
task's form (`forms.py`). The values become the instance's first variables."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from . import forms
from .errors import InvalidInput


def fields_of(top_spec: Any) -> list[forms.Field]:
    """The start form's fields of a process spec; empty when it has no start form."""
    for spec in top_spec.task_specs.values():
        if isinstance(spec, StartEvent) and getattr(spec, "form", None) is not None:
            return forms.fields_of(spec)
    return []


def accepted(fields: list[forms.Field], submitted: dict[str, Any]) -> dict[str, Any]:
    """The variables a start form's answers give, or InvalidInput with the field errors.
    A field left out takes its default, as the form shows it."""
    values, secrets, errors = forms.validate(fields, submitted, {})
    if errors:
        raise InvalidInput("Some fields need attention.", errors)
    return {**values, **secrets}  # sensitive fields are refused at deploy on start forms


def describe(fields: list[forms.Field]) -> list[dict[str, Any]]:
    return forms.describe(fields, {})
