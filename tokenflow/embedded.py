"""`tokenflow run`: the web app and the worker in one process, and a stop that loses nothing.

SIGTERM or SIGINT (Ctrl-C): the server stops accepting connections, the requests in hand
finish (for up to `GRACEFUL_TIMEOUT`, gunicorn's graceful timeout in `tokenflow web`),
then the worker finishes its batch in hand and hands back the jobs it claimed, and the
process exits 0. The signal handlers only set an event that the main thread waits on:
werkzeug's `shutdown()` waits for the serving loop to end, so calling it from a handler
running on the serving thread would wait for itself forever.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wsgi import ClosingIterator

from . import files, gc_tuning
from .system import System
from .worker import Worker

log = logging.getLogger(__name__)

GRACEFUL_TIMEOUT = 20.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, for the main thread to wait on. (Before this,
    a signal ends the process at once: nothing is in hand yet.)"""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    return stop


class RequestsInHand:
    """WSGI middleware counting the requests being answered, so a stop can wait for them
    (a kept-alive connection waiting for its next request is not one)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._count = 0
        self._idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._idle:
            self._count += 1
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._done()
            raise
        # The server closes the body once it has sent it: that is when the request is done.
        return ClosingIterator(body, self._done)

    def _done(self) -> None:
        with self._idle:
            self._count -= 1
            self._idle.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


def serve(system: System, app: Any, stop: threading.Event) -> int:
    config = system.config
    in_hand = RequestsInHand(app)
    server = make_server(config.host, config.port, in_hand, threaded=True)
    worker = Worker(system)
    files.warn_if_open(config)
    gc_tuning.tune()
    worker.start()
    serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    serving.start()
    print(f"Tokenflow on http://{config.host}:{config.port}/ (Ctrl-C stops)", flush=True)
    stop.wait()
    log.info("stopping: the requests and the batch in hand finish first")
    server.shutdown()
    server.server_close()
    if not in_hand.wait_until_idle(GRACEFUL_TIMEOUT):
        log.warning("requests still running after %s s are cut off", GRACEFUL_TIMEOUT)
    worker.stop()
    system.close()
    return 0
