"""Deploy-time checks of `camunda:formData` fields: each constraint's `config` and each
`defaultValue` must fit the field's type, so that a form never fails when it is filled in
(a `max` of "ten" would otherwise surface as a Python error to the person at the form);
a `format` property names a known format, and an `example` fits the field's pattern (it
is what a person who typed something else is shown)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from . import form_formats, form_values, juel

_C = f"{{{CAMUNDA_MODEL_NS}}}"
CONSTRAINTS = ("required", "minlength", "maxlength", "min", "max", "pattern", "readonly")
_WHOLE = re.compile(r"-?\d{1,18}")
_DATE_EXAMPLE = "31/12/2026 or 2026-12-31"


def check(task: etree._Element) -> Iterator[str]:
    """A message for each constraint or default of `task`'s form fields that does not fit."""
    for field in task.iter(f"{_C}formField"):
        prefix = f"form field {field.get('id')!r}: "
        kind = field.get("type") or "string"
        for constraint in field.iter(f"{_C}constraint"):
            message = _constraint(kind, constraint.get("name") or "", constraint.get("config"))
            if message:
                yield prefix + message
        default = field.get("defaultValue")
        if default is not None:
            message = _default(kind, default)
            if message:
                yield prefix + message
        message = _properties(field)
        if message:
            yield prefix + message


def _properties(field: etree._Element) -> str | None:
    props = {p.get("id"): p.get("value") for p in field.iter(f"{_C}property")}
    kind = props.get("format")
    if kind is not None and kind not in form_formats.FORMATS:
        return f"format {kind!r} is unknown; use {' or '.join(form_formats.FORMATS)}"
    example = props.get("example")
    patterns = [
        c.get("config") or "" for c in field.iter(f"{_C}constraint") if c.get("name") == "pattern"
    ]
    if example is not None and patterns:
        try:
            fits = re.fullmatch(patterns[0], example) is not None
        except re.error:
            return None  # said by the constraint's own check
        if not fits:
            return f"example {example!r} does not fit the pattern {patterns[0]!r}"
    return None


def _constraint(kind: str, name: str, config: str | None) -> str | None:
    if name not in CONSTRAINTS:
        return (
            f"constraint {name!r} cannot run here; use {', '.join(CONSTRAINTS[:-1])} or "
            f"{CONSTRAINTS[-1]}, or a task validator"
        )
    if name in ("minlength", "maxlength"):
        return _whole(name, config, "40")
    if name in ("min", "max"):
        if kind == "long":
            return _whole(name, config, "1")
        if kind == "date":
            if form_values.parse_date(config) is None:
                return f"constraint {name} needs a date as config, for example {_DATE_EXAMPLE}"
            return None
        return f"constraint {name} applies to long and date fields; use {name}length for text"
    if name == "pattern":
        try:
            re.compile(config or "")
        except re.error:
            return "constraint pattern is no valid regular expression"
    return None


def _whole(name: str, config: str | None, example: str) -> str | None:
    if config is None or not _WHOLE.fullmatch(config.strip()):
        return f"constraint {name} needs a whole number as config, for example {example}"
    return None


def _default(kind: str, default: str) -> str | None:
    if "${" in default or "#{" in default:  # evaluated over the task data when shown
        problems = juel.check(default)
        return f"defaultValue {default!r}: {problems[0]}" if problems else None
    if kind == "date" and form_values.parse_date(default) is None:
        return f"defaultValue {default!r} is no date; write {_DATE_EXAMPLE}"
    if kind == "long" and not _WHOLE.fullmatch(default.strip()):
        return f"defaultValue {default!r} is no whole number"
    return None
