"""The API deploys DMN files as it deploys BPMN files, and lists decisions' versions."""

from __future__ import annotations

import pytest

from tests.decisions.builders import process, table
from tests.web.builders_api import Api, api_app, problem


@pytest.fixture
def as_(config):
    """An API client of the API tests' app (tests/bpmn/'s linear and boundary) per person."""
    client = api_app(config, {"fail": False}).test_client()
    return lambda name=None: Api(client, name)


RULES = [([">= 1000"], ['"big"']), (["< 1000"], ['"small"'])]


def test_an_analyst_deploys_a_decision_and_a_diagram_that_uses_it(as_):
    analyst = as_("ana")
    refused = analyst.post(
        "/api/v1/process-definitions?filename=p.bpmn",
        data=process(mapping="singleEntry"),
        content_type="application/xml",
    )
    assert "'decide', which is not deployed" in problem(refused, 422)["problems"][0]["message"]
    created = analyst.post(
        "/api/v1/process-definitions?filename=sizes.dmn",
        data=table(RULES),
        content_type="application/xml",
    )
    assert created.status_code == 201, created.json
    assert created.json["deployed"] == [
        {"key": "decide", "version": 1, "changed": True, "kind": "decision"}
    ]
    used = analyst.post(
        "/api/v1/process-definitions?filename=p.bpmn",
        data=process(mapping="singleEntry"),
        content_type="application/xml",
    )
    assert used.status_code == 201 and used.json["key"] == "decider"
    [listed] = analyst.get("/api/v1/decision-definitions").json
    assert (listed["key"], listed["version"], listed["file_name"]) == ("decide", 1, "sizes.dmn")
    xml = analyst.get("/api/v1/decision-definitions/decide/xml")
    assert xml.mimetype == "application/xml" and '"big"' in xml.text
    problem(analyst.get("/api/v1/decision-definitions/nope/xml"), 404)
    problem(as_("alice").get("/api/v1/decision-definitions"), 403)
