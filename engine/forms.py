"""User-task forms from `camunda:formData`: one definition drives API validation and
the HTML form.

Field properties: `help`, `sensitive` (the value goes to the next service task's handler
and nowhere else), `options_variable` / `label_variable` (enum options and label taken
from task data at run time), `placeholder`, `format` (`country` or `phone`, see
`form_formats`) and `example` (a value that fits the field's `pattern`, quoted when a
typed value does not). Constraints: required, minlength, maxlength, min, max, pattern,
readonly.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, cast

from . import form_formats, form_values, generic_form, juel

KNOWN_TYPES = ("string", "long", "boolean", "date", "enum")


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    type: str
    required: bool
    default: str | None
    help: str | None
    sensitive: bool
    options: tuple[tuple[str, str], ...]
    options_variable: str | None
    label_variable: str | None
    constraints: tuple[tuple[str, str | None], ...]
    format: str | None = None
    example: str | None = None

    def constraint(self, name: str) -> str | None:
        for key, value in self.constraints:
            if key == name:
                return value
        return None

    def has_constraint(self, name: str) -> bool:
        return any(key == name for key, _ in self.constraints)


def fields_of(task_spec: Any) -> list[Field]:
    form = getattr(task_spec, "form", None)
    if form is None:
        return []
    fields = []
    for f in form.fields:
        props = {p.id: p.value for p in f.properties}
        constraints = tuple((v.name, v.config) for v in f.validation)
        fields.append(
            Field(
                id=f.id,
                label=f.label or f.id,
                type=f.type or "string",
                required=any(name == "required" for name, _ in constraints),
                default=f.default_value,
                help=props.get("help"),
                sensitive=str(props.get("sensitive", "")).lower() == "true",
                options=tuple((o.id, o.name) for o in getattr(f, "options", [])),
                options_variable=props.get("options_variable"),
                label_variable=props.get("label_variable"),
                constraints=constraints,
                format=props.get("format"),
                example=props.get("example"),
            )
        )
    return fields


def default_of(field: Field, data: Mapping[str, Any]) -> str | None:
    """The field's default as the form shows it: a date as ISO (the one format of task
    data and the HTML date input); an expression (`${ship_country}`, as Camunda 7 allows)
    evaluated over the task data, where a variable not set yet reads as null and a value
    that cannot be had means no default (it only spares the person typing)."""
    default = field.default
    if default is not None and ("${" in default or "#{" in default):
        scope = {**dict.fromkeys(juel.free_names(default)), **data}
        try:
            value = juel.evaluate(default, scope)
        except Exception:  # a bad expression or budget: deploy checks name the expression
            return None
        default = None if value is None or value == "" else str(value)
    day = form_values.parse_date(default) if field.type == "date" else None
    return day.isoformat() if day is not None else default


def options_for(field: Field, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    if field.options_variable:
        raw = data.get(field.options_variable) or []
        options = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict):
                options.append((str(item.get("id")), str(item.get("name", item.get("id")))))
            else:
                options.append((str(item), str(item)))
        return options
    return form_formats.options(field.format) or list(field.options)


def label_for(field: Field, data: Mapping[str, Any]) -> str:
    if field.label_variable and isinstance(data.get(field.label_variable), str):
        return cast(str, data[field.label_variable])
    return field.label


def describe(fields: list[Field], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The API's view of a form, with run-time labels and options resolved."""
    out = []
    for f in fields:
        item: dict[str, Any] = {
            "id": f.id,
            "label": label_for(f, data),
            "type": f.type,
            "required": f.required,
            "options": [{"id": i, "name": n} for i, n in options_for(f, data)] or None,
            "help": f.help,
            "sensitive": f.sensitive,
            "default": default_of(f, data),
            "readonly": f.has_constraint("readonly"),
        }
        if f.format:
            item["format"] = f.format
        if f.example:
            item["example"] = f.example
        for name in ("minlength", "maxlength", "min", "max", "pattern"):
            if f.has_constraint(name):
                item[name] = f.constraint(name)
        out.append(item)
    return out


def describe_form(
    task_spec: Any, data: Mapping[str, Any], private: Collection[str]
) -> list[dict[str, Any]]:
    """A task's form as the API and the pages show it: its formData, or the generic form
    of its current variables when it names a form key and has no formData."""
    if generic_form.is_generic(task_spec):
        return generic_form.describe(data, private)
    return describe(fields_of(task_spec), data)


def validate_form(
    task_spec: Any,
    submitted: Mapping[str, Any],
    data: Mapping[str, Any],
    private: Collection[str],
    *,
    may_add: bool,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """`validate` for the task's own form; `private` (staff-only variable names) and
    `may_add` (may new variables be sent) matter only to a generic form."""
    if generic_form.is_generic(task_spec):
        values, errors = generic_form.validate(submitted, data, private, may_add=may_add)
        return values, {}, errors
    return validate(fields_of(task_spec), submitted, data)


def validate(
    fields: list[Field], submitted: Mapping[str, Any], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Returns (values for task data, sensitive values, errors by field id).

    A field left out of `submitted` takes its default, as the form would have shown it:
    an API client that omits a ticked-by-default box means the default, not "no". (The
    HTML form sends every box, ticked or not, so an unticked one stays an answer.)"""
    errors: dict[str, str] = {}
    by_id = {f.id: f for f in fields}
    for key in submitted:
        if key not in by_id:
            errors[str(key)[:100]] = "This form has no such field."
    values: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for f in fields:
        if f.has_constraint("readonly"):
            if submitted.get(f.id) is not None:
                errors[f.id] = "This field is read-only: leave it out."
            continue
        raw = submitted.get(f.id) if f.id in submitted else default_of(f, data)
        try:
            value = _coerce(f, raw, data)
        except ValueError as exc:
            errors[f.id] = str(exc)
            continue
        if value is None and f.type == "boolean" and not f.required:
            value = False
        (secrets if f.sensitive else values)[f.id] = value
    return values, secrets, errors


def _coerce(f: Field, raw: Any, data: Mapping[str, Any]) -> Any:
    if isinstance(raw, str):
        raw = raw.strip()
    empty = raw is None or raw == ""
    if f.type == "boolean":
        value = form_values.to_bool(raw)
        if f.required and value is not True:
            raise ValueError("Please confirm this.")
        return value
    if empty:
        if f.required:
            raise ValueError("This field is required.")
        return None
    low, high = f.constraint("min"), f.constraint("max")
    if f.type == "long":
        return form_values.check_number_range(form_values.to_int(raw), low, high)
    if f.type == "date":
        return form_values.check_date_range(form_values.to_date(raw), low, high).isoformat()
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError("Enter text.")
    text = str(raw)
    if f.format in form_formats.FORMATS:
        text = form_formats.coerce(f.format, text, data)
    if f.type == "enum":
        allowed = [i for i, _ in options_for(f, data)]
        if text not in allowed:
            raise ValueError("Choose one of the options.")
        return text
    form_values.check_length(text, f.constraint("minlength"), f.constraint("maxlength"))
    pattern = f.constraint("pattern")
    if pattern and not re.fullmatch(pattern, text):
        raise ValueError(pattern_message(f))
    return text


def pattern_message(f: Field) -> str:
    """What a value that misses the field's pattern is told: the field's example, else its
    help, else the pattern itself (deploy-time checks want an example beside a pattern)."""
    if f.example:
        return f"Enter it as expected, for example {f.example}."
    if f.help:
        return f"This is not in the expected format: {f.help.rstrip('.')}."
    return f"This is not in the expected format: it must match {f.constraint('pattern')}."
