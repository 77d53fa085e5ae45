"""Builders of the hostile tests: a person's bearer header, the check of a problem
response, and diagram code both the sandbox's unit cases (test_diagram_code.py) and the
deployed diagrams (test_diagram_code_deployed.py) run."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.builders import PASSWORD

# The issue's escape: a match class pattern that takes str.format off a string, to read a
# function's globals through a format string.
ISSUE_MATCH_ESCAPE = """s = '{0.__globals__}'
match s:
    case str(format=f):
        r = f(now)"""
# A loop that never ends: only the time and iteration budget stops it.
RUNAWAY = "x = 0\nwhile x >= 0:\n    x += 1"


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
