"""The background worker: APScheduler wakes it; the jobs table says what is due."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError

from domain.shipping.tracking import DELIVERED_MESSAGE, track_shipments
from engine.actors import Actor
from engine.clock import clock
from engine.errors import NotFound
from engine.jobs import release, run_due_jobs, worker_name
from engine.retention import purge_expired

from .system import System

log = logging.getLogger(__name__)

# Who the audit trail names for a delivery the carrier reported.
CARRIER = Actor("carrier", frozenset())


class Worker:
    def __init__(self, system: System, interval: float | None = None) -> None:
        self.system = system
        self.interval = interval or system.config.worker_interval
        # A crashed worker's claimed-but-unstarted jobs wait this long before another
        # worker takes them; a job being run is row-locked, so no lease can double it.
        self.lease = timedelta(seconds=system.config.worker_lease)
        self.name = worker_name()
        # SQLite lets one writer in at a time: a second thread would only wait for it.
        sqlite = system.config.database_url.startswith("sqlite")
        self.threads = 1 if sqlite else system.config.worker_threads
        self._stop = threading.Event()
        self._scheduler = BackgroundScheduler(timezone="UTC")

    def tick(self) -> None:
        try:
            ran = run_due_jobs(
                self.system.engine,
                self.name,
                lease=self.lease,
                stop=self._stop,
                limit=200,  # claimed at once: eight batches of 25 for the threads to share
                threads=self.threads,
            )
            if ran:
                log.info("worker %s ran %d job(s)", self.name, ran)
        except Exception:  # the next tick tries again; never let the scheduler die
            log.exception("worker tick failed")
        if self._stop.is_set():
            return
        try:
            follow_parcels(self.system)
        except OperationalError:  # the database is away: the parcels wait for it
            log.warning("database unavailable: worker %s follows parcels later", self.name)
        except Exception:  # the next tick tries again
            log.exception("following parcels failed")

    def purge(self) -> None:
        """The daily retention job: finished instances past their historyTimeToLive lose
        their personal data. Several workers may run it at once: each skips the
        instances another has locked."""
        try:
            purged = purge_expired(self.system.session_factory, self.system.config.history_ttl_days)
            if purged:
                log.info("retention: removed the personal data of %d instance(s)", purged)
        except Exception:  # tomorrow's run tries again
            log.exception("retention run failed")

    def start(self) -> None:
        # One scheduler per process; max_instances=1 keeps ticks from overlapping.
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval,
            max_instances=1,
            coalesce=True,
            id="due-jobs",
        )
        # Daily, the first run a minute after start-up (not at once: a fleet restarting
        # together would all purge at the same moment).
        self._scheduler.add_job(
            self.purge,
            "interval",
            days=1,
            next_run_time=datetime.now(UTC) + timedelta(minutes=1),
            max_instances=1,
            coalesce=True,
            id="retention",
        )
        self._scheduler.start()
        log.info("worker %s started (every %ss)", self.name, self.interval)

    def stop(self) -> None:
        """Graceful: finish the job in hand, hand back the claimed rest."""
        self._stop.set()
        self._scheduler.shutdown(wait=True)
        release(self.system.session_factory, self.name)
        log.info("worker %s stopped", self.name)


def follow_parcels(system: System) -> int:
    """Ask the carrier about the parcels due a check; the deliveries it reports reach
    their processes as `token_delivered`. Returns how many were delivered."""
    carrier = getattr(getattr(system.services, "adapters", None), "carrier", None)
    if carrier is None:  # a system without Tokenflow's adapters ships nothing
        return 0

    def report(order_number: str, data: dict) -> bool:
        try:
            system.engine.deliver(DELIVERED_MESSAGE, order_number, data, CARRIER)
        except NotFound:
            return False
        return True

    delivered = track_shipments(system.session_factory, carrier, report, clock.now())
    if delivered:
        log.info("the carrier delivered %d parcel(s)", delivered)
    return delivered
