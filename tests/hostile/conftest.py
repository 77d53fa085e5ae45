"""Hostile input: the real diagrams and handlers behind the real app, an admin and a
customer to send it what an attacker or a broken client would."""

from __future__ import annotations

import pytest
from flask import Flask

from engine.db import unit_of_work
from tests.builders import journey_system, person
from web.app import create_app


@pytest.fixture
def app(config) -> Flask:
    system = journey_system(config)
    with unit_of_work(system.session_factory) as s:
        person(s, "root", ["admin"])
        person(s, "alice", ["customer"])
    app = create_app(system)
    app.config["TESTING"] = True
    return app
