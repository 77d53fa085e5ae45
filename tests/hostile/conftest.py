"""Hostile input: the real diagrams and handlers behind the real app, an admin and a
customer to send it what an attacker or a broken client would."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from engine.db import unit_of_work
from tests.builders import PASSWORD, journey_system, person
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


def bearer(app: Flask, username: str) -> dict[str, Any]:
    r = app.test_client().post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['token']}"}


def assert_problem(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.content_type == "application/problem+json", response.content_type
    return response.json
