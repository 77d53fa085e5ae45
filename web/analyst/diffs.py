"""What changed between two versions of a diagram: a unified XML diff (difflib), and
the elements added, removed or changed, by id (layout left out)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import cast

from lxml import etree

from engine.instance_migration import Element
from engine.parser import BPMN_NS, parse_xml

_B = f"{{{BPMN_NS}}}"
CONTEXT_LINES = 3


@dataclass(frozen=True)
class Line:
    kind: str  # "add", "del", "hunk", "file" or "same"
    text: str


@dataclass(frozen=True)
class Changes:
    added: list[Element]
    removed: list[Element]
    changed: list[Element]


def unified(old: str, new: str, old_label: str, new_label: str) -> list[Line]:
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        fromfile=old_label,
        tofile=new_label,
        n=CONTEXT_LINES,
        lineterm="",
    )
    return [Line(_kind(line), line) for line in lines]


def _kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "same")


def element_changes(old: str, new: str) -> Changes:
    before, after = _elements(old), _elements(new)
    return Changes(
        added=[after[i][0] for i in after if i not in before],
        removed=[before[i][0] for i in before if i not in after],
        changed=[after[i][0] for i in after if i in before and before[i][1] != after[i][1]],
    )


def _elements(xml: str) -> dict[str, tuple[Element, bytes]]:
    """Elements of the processes (not the layout) by id, with a canonical form."""
    found = {}
    for process in parse_xml(xml.encode("utf-8")).iter(f"{_B}process"):
        for node in process.iter():
            if not isinstance(node.tag, str) or not node.get("id") or node is process:
                continue
            kind = etree.QName(node).localname
            found[node.get("id")] = (
                Element(node.get("id"), node.get("name"), kind),
                _canonical(node),
            )
    return found


def _canonical(node: etree._Element) -> bytes:
    """The element as canonical XML, blind to indentation (modelers indent differently)."""
    copy = etree.fromstring(etree.tostring(node))
    for item in copy.iter():
        if item.text is not None and not item.text.strip():
            item.text = None
        if item.tail is not None and not item.tail.strip():
            item.tail = None
    return cast(bytes, etree.tostring(copy, method="c14n"))  # lxml is untyped here
