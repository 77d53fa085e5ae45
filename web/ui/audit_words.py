"""An audit event in words for the admin's instance page: who did what, to which element,
with which fields ("alice completed Check out (fields: payment method, shipping
address)"). Field names are shown, never values; of an event's other details only the
plain ones named here (order numbers, serials, reasons...) are, so nothing a handler
recorded for the chain alone reaches the page. Pure functions: no Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .filters import humanize

# Details worth a reader's eye, in this order; values are shown only when they are plain.
SHOWN = (
    "order_number",
    "invoice_number",
    "serial",
    "tracking_number",
    "product",
    "channel",
    "reason",
    "message",
    "process",
    "version",
    "from_version",
    "to_version",
    "status",
)
MAX_VALUE = 80
# Field name prefixes a form groups under one name (`ship_city` -> shipping address).
GROUPS = {"ship_": "shipping address", "bill_": "billing address", "card_": "card details"}


def fields_in_words(names: Any) -> str:
    """`["bill_city", "payment_method", "ship_city", "ship_name"]` -> `billing address,
    payment method, shipping address`."""
    if not isinstance(names, list):
        return ""
    words: list[str] = []
    for name in (str(n) for n in names):
        group = next((g for prefix, g in GROUPS.items() if name.startswith(prefix)), None)
        word = group or name.replace("_", " ")
        if word not in words:
            words.append(word)
    return ", ".join(words)


def sentence(event: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    """What happened, as one sentence."""
    who = event.get("actor") or "the engine"
    element = event.get("element")
    what = titles.get(element, humanize(element)) if element else ""
    details = event.get("details") or {}
    kind = str(event.get("event") or "")
    fields = fields_in_words(details.get("fields"))
    with_fields = f" (fields: {fields})" if fields else ""
    if kind == "task.completed":
        secret = details.get("sensitive_fields")
        note = f"; {fields_in_words(secret)} passed on, not kept" if secret else ""
        return f"{who} completed {what}{with_fields}{note}"
    if kind == "task.refused":
        return f"{who}'s answer to {what} was refused{with_fields}"
    if kind == "task.ready":
        return f"{what} is ready"
    if kind in ("task.claimed", "task.unclaimed"):
        return f"{who} {'claimed' if kind == 'task.claimed' else 'released'} {what}"
    if kind == "service.completed":
        outputs = fields_in_words(details.get("outputs"))
        return f"{what} ran" + (f" (set: {outputs})" if outputs else "")
    if kind == "message.correlated":
        return f"message {details.get('message') or ''} arrived at {what}".replace("  ", " ")
    if kind == "timer.fired":
        return f"timer {what} fired"
    if kind == "instance.purged":
        return "personal data removed after the retention period (camunda:historyTimeToLive)"
    if kind == "instance.started":
        return f"{who} started {details.get('process', 'the process')}"
    # A handler's own event (`token.shipped`) or an operator's action (`instance.suspended`).
    by = f" by {who}" if event.get("actor") and not element else ""
    return f"{humanize(kind.replace('.', ' '))}{f' ({what})' if what else ''}{by}"


def facts(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The event's plain details worth showing, as (label, value)."""
    details = event.get("details") or {}
    out = []
    for key in SHOWN:
        value = details.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            out.append((humanize(key), str(value)[:MAX_VALUE]))
    return out


def in_words(events: list[dict[str, Any]], titles: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{**e, "sentence": sentence(e, titles), "facts": facts(e)} for e in events]
