"""Which process a message starts: as in Camunda, a message that no waiting instance
takes starts the latest version of the process whose message start event catches it."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from .definitions import latest_definitions
from .errors import Conflict
from .models import ProcessDefinition
from .parser import BPMN_NS, parse_xml, unqualify_references

_B = f"{{{BPMN_NS}}}"
# (content hash, process key) -> the message names its start events catch
_starts: dict[tuple[str, str], frozenset[str]] = {}
_lock = threading.Lock()


def process_started_by(session: Session, name: str) -> str | None:
    """The key of the one deployed process a message named `name` starts, if any."""
    keys = sorted(d.key for d in latest_definitions(session) if name in _start_messages(d))
    if len(keys) > 1:
        raise Conflict(f"Message {name!r} starts more than one process: {', '.join(keys)}.")
    return keys[0] if keys else None


def _start_messages(definition: ProcessDefinition) -> frozenset[str]:
    key = (definition.hash, definition.key)
    with _lock:
        found = _starts.get(key)
    if found is None:
        found = start_messages(definition.xml, definition.key)
        with _lock:
            _starts[key] = found
    return found


def start_messages(xml: str, process_key: str) -> frozenset[str]:
    """The names of the messages that the start events of process `process_key` catch
    (its own start events, not those of its event subprocesses)."""
    root = parse_xml(xml.encode("utf-8"))
    unqualify_references(root)
    names = {m.get("id"): m.get("name") for m in root.iter(f"{_B}message")}
    found: set[str] = set()
    for process in root.iter(f"{_B}process"):
        if process.get("id") != process_key:
            continue
        for start in process.findall(f"{_B}startEvent"):
            for definition in start.findall(f"{_B}messageEventDefinition"):
                name = names.get(definition.get("messageRef"))
                if name:
                    found.add(name)
    return frozenset(found)
