"""The outbox: a folder where sandboxes deliver messages as files a person can open.

Each file is named `<UTC timestamp>-<channel>-<id><suffix>`, so a directory listing is the
order of delivery. An idempotency key delivers at most one file: the key's record (kept in
`<outbox>/.sent/<sender>/`) is written first and names the file, and a retry after a crash
writes the file it names only if it is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from adapters.common import as_utc, derive_id
from adapters.store import JsonFileStore, Record, create_file


def fingerprint(*parts: str | None) -> str:
    """A digest of a message's content, so a key reused for other content is caught."""
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class Outbox:
    """One sender's deliveries into an outbox folder; its idempotency keys are its own."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = Path(directory)
        self._sent = JsonFileStore(self.directory / ".sent" / sender)

    def deliver(
        self,
        idempotency_key: str,
        request: Record,
        *,
        message_id: str,
        channel: str,
        now: datetime,
        suffix: str,
        render: Callable[[datetime], bytes],
    ) -> Record:
        """Write `render(sent_at)` once per key; return the key's record (id, file, sent_at)."""
        moment = as_utc(now)
        record = self._sent.once(
            idempotency_key,
            request,
            lambda: {
                "id": message_id,
                "file": f"{moment:%Y%m%dT%H%M%S}Z-{channel}-"
                f"{derive_id(channel, idempotency_key, 12)}{suffix}",
                "sent_at": moment.isoformat(),
            },
        )
        path = self.directory / record["file"]
        if not path.exists():
            create_file(path, render(datetime.fromisoformat(record["sent_at"])))
        return record
