"""Timer definitions written as the BPMN specification writes them: literal ISO 8601 text.

`<timeDuration>PT10M</timeDuration>`, `<timeDate>2027-01-01T09:00:00Z</timeDate>` and
`<timeCycle>R3/PT10H</timeCycle>` are what Camunda Modeler and the specification's examples
write. SpiffWorkflow evaluates a timer's text as an expression, where `PT10M` is an unknown
name and `2027-01-01T09:00:00Z` no expression at all; so literal ISO text is recognised
before anything is evaluated, and is the timer's value. An expression (`"PT24H"`,
`${reminder}`, `due_at`) stays an expression.
"""

from __future__ import annotations

import re

_DURATION = r"P(?:\d|T\d)[\dA-Z.,]*"
_TIME = r"T\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
_DATE = rf"\d{{4}}-\d{{2}}-\d{{2}}(?:{_TIME})?"
# A duration, a date and time, or a cycle: R, Rn, with an optional start or end date.
_LITERAL = re.compile(
    rf"{_DURATION}|{_DATE}|R\d*/(?:{_DATE}/)?{_DURATION}(?:/{_DATE})?", re.IGNORECASE
)


def literal_timer_value(text: str | None) -> str | None:
    """`text` without blanks if it is literal ISO 8601 timer text, else None."""
    stripped = (text or "").strip()
    return stripped if _LITERAL.fullmatch(stripped) else None
