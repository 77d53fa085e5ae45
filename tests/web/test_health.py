"""/healthz says whether the database answers, and answers while a step holds the
database: a misbehaving diagram must not make the server look dead to its load balancer."""

from __future__ import annotations

import threading
import time

from engine.db import unit_of_work
from tests.web.builders_api import metrics_app


def test_healthz_answers_while_a_step_holds_the_write_lock(config):
    app = metrics_app(config, {"fail": False})
    factory = app.extensions["tokenflow"].session_factory
    holding, release = threading.Event(), threading.Event()

    def long_step() -> None:
        with unit_of_work(factory) as s:
            s.connection()  # the transaction begins: on SQLite it takes the write lock
            holding.set()
            release.wait(10)

    step = threading.Thread(target=long_step)
    step.start()
    try:
        assert holding.wait(5)
        asked = time.monotonic()
        reply = app.test_client().get("/healthz")
        waited = time.monotonic() - asked
    finally:
        release.set()
        step.join(10)
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}
    assert waited < 1
