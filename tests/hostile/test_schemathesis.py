"""Schemathesis against the OpenAPI document, in process, logged in as an admin: every
operation gets generated valid and invalid input, and never answers 500; where the
document is specific (problem responses), answers match it.

    .venv/bin/python -m pytest tests/hostile/test_schemathesis.py -v
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import BACKENDS
from tests.hostile.builders import bearer

pytestmark = pytest.mark.hostile
# Per operation and mode. The suite keeps it small; a deep run sets SCHEMATHESIS_EXAMPLES.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


# One backend, the strictest there is (PostgreSQL refuses NUL characters, for one).
@pytest.mark.parametrize("database_url", [BACKENDS[-1]], indirect=True)
def test_no_operation_answers_a_server_error_and_problems_match_the_document(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(app, "root")
    failures: list[str] = []
    answered: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Logging out revokes the token every other operation is called with: it goes last.
    operations.sort(key=lambda operation: operation.label == "DELETE /api/v1/auth/token")
    assert operations[-1].label == "DELETE /api/v1/auth/token"
    assert len(operations) > 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,  # the same cases every run: a red suite is a real regression
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call_and_validate(
                    headers={**(case.headers or {}), **headers},
                    checks=[not_a_server_error, response_schema_conformance],
                )
                answered[response.status_code // 100] += 1

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid: no parameters, no body
                continue
            except Exception as exc:  # collect every operation's failure, not just the first
                failures.append(f"{operation.label} ({mode.value}): {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
    # Logged in (successes), and refusing what it should (client errors), never a 5xx.
    assert answered[2] > 50 and answered[4] > 50 and set(answered) <= {2, 4}, answered
