"""The engine's clock, which tests and dry runs can move.

SpiffWorkflow's timer definitions call `datetime.now(timezone.utc)` directly, so the
clock is installed into that module: every timer due time and firing decision then
follows the same clock as the jobs table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock:
    """Real time plus an offset; `advance` moves it forward (tests, simulations)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)


clock = Clock()


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = clock.now()
        return current if tz is None else current.astimezone(tz)


_spiff_timer.datetime = _ClockedDatetime  # type: ignore[misc]
