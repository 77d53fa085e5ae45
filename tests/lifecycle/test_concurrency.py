"""Racing verifications of one code: the token row lock lets exactly one through."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from service_layer.config import Config
from tests.lifecycle.builders import Life, code_now, issue_credential, token_row

RACERS = 20


def test_twenty_parallel_verifications_of_one_valid_code_let_exactly_one_through(
    config: Config, life: Life
) -> None:
    if config.database_url.startswith("sqlite"):
        pytest.skip("SQLite lets one writer in at a time; the row lock is PostgreSQL's to prove")
    life.system.services.settings["otp_max_failures"] = RACERS + 1  # stay unlocked
    token = issue_credential(life, "alice", "TOK001")
    code = code_now(token)
    start = threading.Barrier(RACERS)
    app = life.client.application

    def race(_: int) -> dict[str, Any]:
        client = app.test_client()
        start.wait()
        answer = client.post(
            "/api/v1/otp/verify",
            json={"username": "alice", "code": code},
            headers={"Authorization": f"Bearer {life.keys['aerospace-portal']}"},
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(race, range(RACERS)))
    assert sum(a["valid"] for a in answers) == 1
    assert sorted(a["reason"] for a in answers if not a["valid"]) == ["replayed"] * (RACERS - 1)
    assert token_row(life, "TOK001").failures == RACERS - 1
