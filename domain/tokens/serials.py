"""Serial numbers as people type them."""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")


def normalize_serial(text: object) -> str:
    """Serials are printed in small type: ignore spaces and letter case when comparing."""
    return _SPACES.sub("", text).upper() if isinstance(text, str) else ""
