r"""Text that carries JUEL: where its `${...}` and `#{...}` expressions start and end.

Camunda attributes such as an assignee may be text with expressions in it (`Dear ${name}`);
conditions are one expression. A `}` inside a string literal does not close one, and
`\${` is the text `${` itself.
"""

from __future__ import annotations

import re

from .juel_ops import JuelError

# `${` or `#{` opens an expression; `\${` and `\#{` are the text itself.
_OPENING = re.compile(r"\\?[$#]\{")


def is_juel(text: str) -> bool:
    """Whether `text` carries a JUEL expression (`${...}` or `#{...}`), alone or in text."""
    return any(not m.group().startswith("\\") for m in _OPENING.finditer(text))


def shortened(source: str) -> str:
    # Messages name the expression; a long one is recognisable by its start.
    return source if len(source) <= 80 else source[:77] + "..."


def segments(text: str) -> list[str | tuple[str, str]]:
    """`text` cut into literal text and (source, body) pairs of its `${body}`s."""
    found: list[str | tuple[str, str]] = []
    literal: list[str] = []
    position = 0
    while (match := _OPENING.search(text, position)) is not None:
        if match.group().startswith("\\"):
            literal.append(text[position : match.start()] + match.group()[1:])
            position = match.end()
            continue
        literal.append(text[position : match.start()])
        end = _closing_brace(text, match.end())
        if end is None:
            unclosed = shortened(text[match.start() :])
            raise JuelError(f"{unclosed}: the expression has no closing }}")
        found.append("".join(literal))
        literal = []
        found.append((text[match.start() : end + 1], text[match.end() : end]))
        position = end + 1
    literal.append(text[position:])
    found.append("".join(literal))
    return [s for s in found if s != ""]


def _closing_brace(text: str, start: int) -> int | None:
    """Index of the `}` that closes an expression whose body starts at `start`; braces
    inside string literals do not count."""
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "}":
            return i
    return None
