"""Which audit chain an event without a process instance joins: the chain of its subject.

Appending to a chain waits on the chain's head, so the subject is the narrowest thing
the event is about: verifications and credential actions go to the person's chain, so
that two people's sign-ins never queue behind each other; an application's own events
and the answers about unknown users go to the application's chain. Names are short
(`user:42`) and stable: ids, not usernames or serials, which may change or be long.
"""

from __future__ import annotations

INVENTORY = "inventory"


def person(owner_id: int) -> str:
    return f"user:{owner_id}"


def group(group_id: int) -> str:
    return f"group:{group_id}"


def application(app_id: int) -> str:
    return f"app:{app_id}"


def token(token_id: int, owner_id: int | None) -> str:
    """A token's events belong to its owner; a token in stock has a chain of its own."""
    return person(owner_id) if owner_id is not None else f"token:{token_id}"
