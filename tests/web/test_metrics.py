"""`/metrics`: Prometheus text with the engine's gauges and the web's request figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from engine.clock import clock
from engine.db import unit_of_work
from engine.jobs import run_due_jobs
from engine.models import WorkItem
from tests.web.builders_api import admin_headers, metrics_app, start_id
from web.metrics import RequestStats


@pytest.fixture
def flaky() -> dict:
    return {"fail": False}


@pytest.fixture
def app(config, flaky):
    return metrics_app(config, flaky)


def scrape(client, **kw) -> dict[str, float]:
    r = client.get("/metrics", **kw)
    assert r.status_code == 200, r.data
    assert r.content_type.startswith("text/plain; version=0.0.4")
    samples = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_count_instances_by_status_and_timers_pending_due_and_overdue(app):
    client = app.test_client()
    headers = admin_headers(client)
    start_id(client, headers, "boundary")  # waits at `fill`, its 24-hour timer pending
    start_id(client, headers, "boundary")
    got = scrape(client)
    assert got['tokenflow_instances{status="running"}'] == 2
    assert got['tokenflow_jobs_pending{kind="timer"}'] == 2
    assert got['tokenflow_jobs_due{kind="timer"}'] == 0
    assert got["tokenflow_database_up"] == 1
    clock.advance(timedelta(hours=24, seconds=30))
    got = scrape(client)
    assert got['tokenflow_jobs_due{kind="timer"}'] == 2
    assert got['tokenflow_jobs_overdue{kind="timer"}'] == 0
    assert 29 <= got['tokenflow_jobs_oldest_due_seconds{kind="timer"}'] < 60
    clock.advance(timedelta(minutes=2))
    assert scrape(client)['tokenflow_jobs_overdue{kind="timer"}'] == 2


def test_metrics_count_retries_and_open_incidents(app, flaky):
    flaky["fail"] = True
    client = app.test_client()
    start_id(client, admin_headers(client), "boundary")
    got = scrape(client)
    assert got['tokenflow_jobs_pending{kind="service"}'] == 1
    assert got["tokenflow_incidents_open"] == 0
    for _ in range(2):  # the retries run out
        clock.advance(timedelta(minutes=10))
        run_due_jobs(app.extensions["tokenflow"].engine, "test-worker")
    got = scrape(client)
    assert got["tokenflow_incidents_open"] == 1
    assert got['tokenflow_instances{status="incident"}'] == 1


def test_sla_breaches_are_the_license_key_sla_breach_work_items_open_or_handled(app):
    client = app.test_client()
    iid = start_id(client, admin_headers(client), "boundary")
    with unit_of_work(app.extensions["tokenflow"].session_factory) as s:
        for n, status in enumerate(["ready", "ready", "completed"]):
            s.add(
                WorkItem(
                    id=f"breach-{n}",
                    instance_id=iid,
                    name="license_key_sla_breach",
                    title="Handle late license key email",
                    lane="support",
                    status=status,
                )
            )
    got = scrape(client)
    assert got['tokenflow_sla_breaches{state="open"}'] == 2
    assert got['tokenflow_sla_breaches{state="handled"}'] == 1


def test_request_latency_is_a_histogram_per_route(app):
    client = app.test_client()
    for _ in range(3):
        client.get("/healthz")
    client.get("/api/v1/process-instances/nope")  # 401: counted under its route
    got = scrape(client)
    labels = 'route="/healthz",method="GET"'
    assert got[f"tokenflow_http_request_duration_seconds_count{{{labels}}}"] == 3
    assert got[f'tokenflow_http_request_duration_seconds_bucket{{{labels},le="+Inf"}}'] == 3
    assert got[f"tokenflow_http_request_duration_seconds_sum{{{labels}}}"] > 0
    buckets = [v for k, v in got.items() if "_bucket" in k and labels in k]
    assert buckets == sorted(buckets)  # cumulative
    route = 'route="/api/v1/process-instances/<instance_id>",method="GET",status="401"'
    assert got[f"tokenflow_http_requests_total{{{route}}}"] == 1


def test_several_processes_counts_are_added_up_through_the_shared_folder(tmp_path):
    first, second = RequestStats(tmp_path, "101"), RequestStats(tmp_path, "102")
    first.observe("/healthz", "GET", 200, 0.002)
    second.observe("/healthz", "GET", 200, 0.2)
    second.observe_verify(True, "")
    second.totals()  # writes its file, as a scrape would
    totals = first.totals()
    row = totals["latency"][("/healthz", "GET")]
    assert row[-2] == 2 and row[0] == 1  # two requests, one under 5 ms
    assert totals["requests"][("/healthz", "GET", "200")] == 2
    assert totals["verify"][("true", "")] == 1


def test_metrics_answer_loopback_clients_only_unless_a_token_is_configured(config, flaky):
    client = metrics_app(config, flaky).test_client()
    assert client.get("/metrics").status_code == 200
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"

    client = metrics_app(config, flaky, metrics_token="s3cret-scraper").test_client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = client.get(
        "/metrics",
        headers={"Authorization": "Bearer s3cret-scraper"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert ok.status_code == 200


def test_the_metrics_text_is_valid_prometheus_exposition(app):
    client = app.test_client()
    client.get("/healthz")
    text = client.get("/metrics").text
    sample = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]+="([^"\\\n]|\\.)*",?)*\})? \S+')
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or sample.fullmatch(line), line
