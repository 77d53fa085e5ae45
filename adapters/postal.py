"""Postal mail: letters such as an activation code sent to the customer's home address.

The sandbox posts each letter as a text file in the outbox folder
(`<outbox>/<timestamp>-letter-<id>.txt`), once per idempotency key.

Sandbox test inputs: the expected delivery follows the last digit of the postal code,
counted in business days (Monday to Friday) from posting:

| postal code ends in | 0-1 | 2-3 | 4-5 | 6-7 | 8 | 9 | anything else |
| ------------------- | --- | --- | --- | --- | - | - | ------------- |
| business days       | 3   | 4   | 5   | 6   | 7 | 8 | 5             |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from adapters.common import (
    add_business_days,
    as_utc,
    days_for_postal_code,
    derive_id,
    require_address,
    require_text,
)
from adapters.outbox import Outbox, fingerprint

_DAYS_BY_LAST_DIGIT = "3344556678"


@dataclass(frozen=True)
class Letter:
    id: str
    expected_delivery: date


class PostalService(Protocol):
    def send_letter(
        self,
        address: Mapping[str, object],
        kind: str,
        body_text: str,
        idempotency_key: str,
        now: datetime,
    ) -> Letter: ...


class SandboxPostalService:
    def __init__(self, outbox_dir: Path) -> None:
        self._outbox = Outbox(outbox_dir, "letter")

    def send_letter(
        self,
        address: Mapping[str, object],
        kind: str,
        body_text: str,
        idempotency_key: str,
        now: datetime,
    ) -> Letter:
        to = require_address(address)
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", kind):
            raise ValueError("kind must be a short snake_case name such as activation_code")
        body = require_text(body_text, "body_text")
        days = days_for_postal_code(to["postal_code"], _DAYS_BY_LAST_DIGIT, 5)

        def render(posted_at: datetime) -> bytes:
            expected = add_business_days(posted_at.date(), days)
            lines = [
                f"Letter ({kind}), posted {posted_at:%Y-%m-%d %H:%M} UTC",
                f"Expected delivery: {expected:%A %d %B %Y}",
                "",
                to["name"],
                to["street"],
                f"{to['postal_code']} {to['city']}",
                to["country"],
                "",
                body,
                "",
            ]
            return "\n".join(lines).encode()

        record = self._outbox.deliver(
            idempotency_key,
            {"address": to, "kind": kind, "content": fingerprint(body)},
            message_id="LTR-" + derive_id("letter", idempotency_key, 12).upper(),
            channel="letter",
            now=now,
            suffix=".txt",
            render=render,
        )
        posted_at = as_utc(datetime.fromisoformat(record["sent_at"]))
        return Letter(record["id"], add_business_days(posted_at.date(), days))
