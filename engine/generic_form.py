"""The generic form of a user task that names a `camunda:formKey` but has no formData.

Camunda renders such a form elsewhere (an embedded or external form) and completes the
task with whatever variables it sends. Tokenflow has no such form, so the pages show the
instance's current variables of simple types (text, whole numbers, yes/no) to edit, and
the API takes JSON variables as Camunda's REST `complete` does, checked:

- names are identifiers that do not start with `_` (diagram code reads them as names);
- values are plain JSON, bounded in count, size and depth;
- a variable keeps its type: `"5"` for a whole number becomes 5, `"x"` is refused;
- hidden variables (`secret_*`, `*_hash`) and staff-only ones (set on staff forms) are
  neither shown nor set, so a generic form cannot read or overrule a staff decision;
- on a customer's task only the variables shown may be changed: a customer adding a name
  that a later gateway reads would be choosing their own branch.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Collection, Mapping
from typing import Any

from . import form_values
from .actors import is_hidden
from .errors import InvalidInput

MAX_VARIABLES = 50
MAX_BYTES = 16 * 1024
MAX_DEPTH = 5
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
_TYPES: tuple[tuple[type, str], ...] = ((bool, "boolean"), (int, "long"), (str, "string"))


def is_generic(task_spec: Any) -> bool:
    form = getattr(task_spec, "form", None)
    return form is not None and bool(form.key) and not form.fields


def _type_of(value: Any) -> str | None:
    # bool before int: True is an int to Python, a yes/no to a person.
    return next((name for kind, name in _TYPES if isinstance(value, kind)), None)


def editable(variables: Mapping[str, Any], private: Collection[str]) -> dict[str, Any]:
    """The variables the generic form shows: simple types, neither hidden nor staff-only."""
    return {
        name: value
        for name, value in variables.items()
        if _type_of(value) and _NAME.fullmatch(name) and not is_hidden(name)
        if name not in private
    }


def describe(variables: Mapping[str, Any], private: Collection[str]) -> list[dict[str, Any]]:
    """The generic form in the shape of `forms.describe`, each variable's value its default."""
    return [
        {
            "id": name,
            "label": name.replace("_", " ").capitalize(),
            "type": _type_of(value),
            "required": False,
            "options": None,
            "help": None,
            "sensitive": False,
            "default": value,
            "readonly": False,
        }
        for name, value in sorted(editable(variables, private).items())
    ]


def validate(
    submitted: Mapping[str, Any],
    variables: Mapping[str, Any],
    private: Collection[str],
    *,
    may_add: bool,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Returns (values for task data, errors by variable name)."""
    _check_size(submitted)
    shown = editable(variables, private)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in submitted.items():
        key = str(name)
        if not _NAME.fullmatch(key) or keyword.iskeyword(key):
            errors[key[:100]] = (
                "Name a variable with letters, digits and _, starting with a letter, "
                "for example customer_note."
            )
        elif is_hidden(key) or key in private:
            errors[key] = "This variable cannot be set on this task."
        elif key not in shown and not may_add:
            errors[key] = "This form has no such field."
        else:
            try:
                value = _typed(raw, shown[key]) if key in shown else _plain(raw, 1)
            except ValueError as exc:
                errors[key] = str(exc)
                continue
            # The pages send every shown variable back: one left as it was is not an
            # answer on this task (and must not become staff-only by a staff member's save).
            if key not in shown or value != shown[key]:
                values[key] = value
    return values, errors


def _check_size(submitted: Mapping[str, Any]) -> None:
    if len(submitted) > MAX_VARIABLES:
        raise InvalidInput(f"Send at most {MAX_VARIABLES} variables.")
    try:
        size = len(json.dumps(submitted, allow_nan=False))
    except (TypeError, ValueError):
        raise InvalidInput("`data` must be plain JSON.") from None
    if size > MAX_BYTES:
        raise InvalidInput(f"`data` is larger than {MAX_BYTES // 1024} KiB.")


def _typed(raw: Any, current: Any) -> Any:
    """`raw` as the type the variable has now (the pages send every value as text)."""
    kind = _type_of(current)
    if isinstance(raw, str):
        raw = raw.strip()
    if kind == "boolean":
        value = form_values.to_bool(raw)
        if value is None:
            raise ValueError("Enter true or false.")
        return value
    if kind == "long":
        return form_values.to_int(raw)
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError("Enter text.")
    return form_values.check_length(str(raw), None, None)


def _plain(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"Nest lists and objects at most {MAX_DEPTH} deep.")
    if isinstance(value, str):
        return form_values.check_length(value, None, None)
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    return value
