"""The engine's clock, which tests and dry runs can move.

SpiffWorkflow's timer definitions call `datetime.now(timezone.utc)` and its tasks stamp
each state change with `time.time()`, so the clock is installed into both modules: every
timer due time, firing decision and task time stamp (which the statistics read) then
follows the same clock as the jobs table.

A dry run needs a clock of its own that moves without moving anyone else's: inside
`clock.simulated(...)` the current thread (context) reads a simulated time that stands
still until advanced, while the worker and other requests keep real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo

from SpiffWorkflow import task as _spiff_task
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class SimulatedTime:
    """A clock that stands still until moved."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def move_to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


_simulated: ContextVar[SimulatedTime | None] = ContextVar("simulated_time", default=None)


class Clock:
    """Real time plus an offset; `set` and `advance` move it (tests, simulations)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        simulated = _simulated.get()
        if simulated is not None:
            return simulated.now
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def set(self, moment: datetime) -> None:
        """Move the clock so that it reads `moment` now, and runs on from there: tests pin
        business time to a fixed instant this way, whatever the machine's date."""
        if moment.utcoffset() is None:
            raise ValueError("the clock must be set to a timezone-aware datetime")
        self.offset = moment - datetime.now(UTC)

    def reset(self) -> None:
        self.offset = timedelta(0)

    @contextmanager
    def simulated(self, start: datetime | None = None) -> Iterator[SimulatedTime]:
        """Simulated time for this context only, starting at `start` (default: now)."""
        time = SimulatedTime(start or self.now())
        token = _simulated.set(time)
        try:
            yield time
        finally:
            _simulated.reset(token)


clock = Clock()


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = clock.now()
        return current if tz is None else current.astimezone(tz)


_spiff_timer.datetime = _ClockedDatetime


class _ClockedTime:
    """The one function of the `time` module that SpiffWorkflow's tasks call."""

    @staticmethod
    def time() -> float:
        return clock.now().timestamp()


_spiff_task.time = _ClockedTime
