"""Request ids, structured request logs, readiness, and a database outage as 503."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.web.builders_api import admin_headers, metrics_app, start_id
from tokenflow.logging_setup import ContextFilter, JsonFormatter


@pytest.fixture
def app(config):
    return metrics_app(config, {"fail": False})


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "tokenflow.request"]


def test_a_plain_request_id_is_kept_and_returned(app):
    r = app.test_client().get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert r.headers["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.parametrize("given", ["", "a" * 200, "evil INFO forged line", 'quote"d', "<script>"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(app, given):
    r = app.test_client().get("/healthz", headers={"X-Request-ID": given})
    made = r.headers["X-Request-ID"]
    assert made != given and len(made) == 32 and made.isalnum()


def test_each_request_is_logged_with_its_id_route_status_duration_and_instance(app, caplog):
    caplog.set_level(logging.INFO, logger="tokenflow.request")
    client = app.test_client()
    headers = admin_headers(client)
    iid = start_id(client, headers, "boundary")
    client.get(f"/api/v1/process-instances/{iid}", headers={**headers, "X-Request-ID": "req-1"})
    started, read = request_records(caplog)[-2:]
    assert started.instance_id == iid  # from the answer of a start
    assert read.request_id == "req-1" and read.instance_id == iid
    assert read.route == "/api/v1/process-instances/<instance_id>" and read.status == 200
    assert read.duration_ms >= 0
    line = json.loads(JsonFormatter().format(read))
    assert line["request_id"] == "req-1" and line["instance_id"] == iid
    assert line["msg"] == f"GET /api/v1/process-instances/{iid} 200"


def test_records_logged_during_a_request_carry_its_id(app, caplog):
    caplog.set_level(logging.INFO)

    @app.get("/test-log")
    def _log_something():
        logging.getLogger("handlers.test").info("inside")
        return {}

    caplog.handler.addFilter(ContextFilter())  # as the configured handler has
    app.test_client().get("/test-log", headers={"X-Request-ID": "abc"})
    [inside] = [r for r in caplog.records if r.getMessage() == "inside"]
    assert inside.request_id == "abc"


def test_json_log_lines_carry_extra_fields_and_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("job",),
            sys.exc_info(),
            extra={"job_id": 7},
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "failed job" and line["level"] == "ERROR" and line["job_id"] == 7
    assert "ValueError: boom" in line["exc"]


def test_ready_when_the_database_answers_at_the_migration_head(app):
    r = app.test_client().get("/readyz")
    assert r.status_code == 200 and r.json["status"] == "ready" and r.json["migration"]


def test_not_ready_while_the_database_schema_lags_behind(app):
    system = app.extensions["tokenflow"]
    with system.db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.content_type == "application/problem+json"
    assert "tokenflow db upgrade" in r.json["detail"]


def test_a_lost_database_connection_is_a_503_to_retry_not_a_500(app, monkeypatch):
    client = app.test_client()
    headers = admin_headers(client)
    iid = start_id(client, headers, "boundary")
    engine = app.extensions["tokenflow"].engine

    def lost(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(engine, "instance", lost)
    r = client.get(f"/api/v1/process-instances/{iid}", headers=headers)
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.content_type == "application/problem+json"
