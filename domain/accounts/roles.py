"""The roles a person may hold; each is also a candidate group of the same name."""

from __future__ import annotations

ROLES = ("customer", "proofing_agent", "support", "finance", "analyst", "admin")
