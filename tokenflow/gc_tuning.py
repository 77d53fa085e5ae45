"""Garbage collection for a long-running Tokenflow process.

A step restores a workflow: some thousands of objects in reference cycles (each task
points to its workflow and the workflow to its tasks), all garbage once the step has
committed, so the cyclic collector runs often. Each time it reaches the oldest
generation it walked everything start-up made as well: modules, SQLAlchemy's mappers,
the parsed diagrams. A worker firing 3,000 timers spent 0.5-0.9 s of 3-4 s in the
collector (bench/timers.py's in-process run).

So once a process has built what it keeps, all of it is frozen out of collection
(`gc.freeze`): 0.2 s for the same timers, and the same flat memory (103 MB after
15,000 timers). A larger young generation was tried as well: no faster, and 40 MB
more memory held by garbage waiting in older generations.
"""

from __future__ import annotations

import gc


def tune() -> None:
    """Call once the process has built what it keeps (system, app) and before it serves."""
    gc.collect()
    gc.freeze()
