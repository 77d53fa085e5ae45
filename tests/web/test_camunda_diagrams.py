"""Camunda's own diagrams, unchanged (tests/data/camunda/, sources in its README), run to
their end through the HTTP API: user tasks completed by the people the diagram names and
refused to others, timers fired through the jobs API on the engine clock, messages sent
through the messages API. Those that need what cannot run here are refused in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.registry import Registry
from tests.builders import engine_system
from tests.web.builders_api import api_client
from tests.web.builders_camunda import (
    ANALYST,
    CAMUNDA_DIR,
    OUTSIDER,
    Walk,
    deploy,
    make_people,
    people_in,
    post_files,
    run_to_end,
)

BUSINESS_KEY = "CAMUNDA-1"
MAPPING_DMN = "DmnBusinessRuleTaskResultMappingTest.dmn11.xml"


@dataclass(frozen=True)
class Case:
    files: tuple[str, ...]
    process: str
    data: dict[str, Any] = field(default_factory=dict)
    by_message: str | None = None  # started by this message instead of the API
    # What the run must have done on its way (task ids, timer or message elements).
    tasks: tuple[str, ...] = ()
    timers: int = 0
    messages: int = 0
    # Variables the instance must hold at its end (decisions' results).
    variables: dict[str, Any] = field(default_factory=dict)


def case(file: str, process: str, **kw: Any) -> Any:
    return pytest.param(Case((file,), process, **kw), id=file)


CASES = [
    # camunda-bpm-examples
    case("ex_exampleProcess.bpmn", "exampleProcess", tasks=("UserTask_14494ua",)),
    case("ex_sample.bpmn", "Sample", tasks=("UserTask_1",)),
    case("ex_bpmnParseListenerOnUserTask.bpmn", "bpmnParseListenerOnUserTask"),
    case("ex_testProcess.bpmn", "testProcess"),
    case("ex_waitingState.bpmn", "waitingProcess"),
    case(
        "ex_message_start_process.bpmn",
        "Message_Start_Process",
        by_message="instantiationMessage",
        tasks=("UserTask_1",),
    ),
    # camunda-bpm-platform, engine/src/test/resources: assignment and forms
    case("TaskAssignmentExtensionsTest.testAssigneeExtension.bpmn20.xml", "assigneeExtension"),
    case(
        "TaskAssignmentExtensionsTest.testCandidateGroupsExtension.bpmn20.xml",
        "candidateGroupsExtension",
    ),
    case(
        "OneTaskProcessWithCandidateGroups.bpmn20.xml",
        "oneTaskProcessForHistoricIdentityLinkWithCanidateGroup",
    ),
    case("UserTaskTest.testTaskPropertiesNotNull.bpmn20.xml", "oneTaskProcess"),
    case("TaskDueDateExtensionsTest.testDueDateStringExtension.bpmn20.xml", "dueDateExtension"),
    case(
        "TaskPriorityExtensionsTest.testPriorityExtensionString.bpmn20.xml",
        "taskPriorityExtensionString",
    ),
    case(
        "FormDataTest.testGetFormFieldBuiltInTypes.bpmn20.xml",
        "FormDataTest.testGetFormFieldBuiltInTypes",
    ),
    case(
        "FormDataTest.testGetFormFieldValidationConstraints.bpmn20.xml",
        "FormDataTest.testGetFormFieldValidationConstraints",
    ),
    # gateways
    case("ParallelGatewayTest.testForkJoin.bpmn20.xml", "forkJoin", tasks=("receivePayment",)),
    case("groupTest.bpmn", "Process_13pqtqg"),
    case(
        "ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml",
        "exclusiveGwDiverging",
        data={"input": 2},
        tasks=("theTask2",),
    ),
    case(
        "ExclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml",
        "exclusiveGwDefaultSequenceFlow",
        data={"input": 5},
        tasks=("theTask2",),
    ),
    case(
        "ProcessInstanceModificationTest.exclusiveGateway.bpmn20.xml",
        "exclusiveGateway",
        tasks=("task1",),
    ),
    # timers
    case(
        "IntermediateTimerEventTest.testCatchingTimerEvent.bpmn20.xml",
        "intermediateTimerEventExample",
        timers=1,
    ),
    case("ProcessInstanceModificationTest.intermediateTimerCatch.bpmn20.xml", "process", timers=1),
    case("timerBoundaryEventProcess.bpmn20.xml", "timerBoundaryProcess", timers=1),
    case(
        "HistoricActivityInstanceTest.testUserTaskStillRunning.bpmn20.xml",
        "nonInterruptingEvent",
        timers=1,
    ),
    case(
        "HistoricActivityInstanceTest.testHistoricActivityInstanceTimerEvent.bpmn20.xml",
        "catchSignal",
        timers=1,
        tasks=("task1",),
    ),
    case(
        "BoundaryTimerNonInterruptingEventTest.testTimerOnEmbeddedSubprocess.bpmn20.xml",
        "nonInterruptingTimerOnEmbeddedSubprocess",
        timers=1,
    ),
    case("SubProcessTest.fixSystemFailureProcess.bpmn20.xml", "fixSystemFailure", timers=1),
    case("InterruptingEventSubProcessTest.testCancelTimer.bpmn", "process", timers=1),
    # messages
    case(
        "MessageIntermediateEventTest.testSingleIntermediateMessageEvent.bpmn20.xml",
        "process",
        messages=1,
    ),
    case(
        "MessageIntermediateEventTest.testConcurrentIntermediateMessageEvent.bpmn20.xml",
        "process",
        messages=1,  # one message reaches both branches' catch events
    ),
    case(
        "MessageCorrelationTest.testCatchingMessageEventCorrelation.bpmn20.xml",
        "process",
        messages=1,
    ),
    case("messageBoundaryEventProcess.bpmn20.xml", "messageBoundaryProcess", messages=1),
    case(
        "MessageCorrelationTest.testMessageStartEventCorrelation.bpmn20.xml",
        "messageStartEvent",
        by_message="newInvoiceMessage",
        tasks=("task",),
    ),
    # call activities
    pytest.param(
        Case(
            (
                "CallActivity.testCallSimpleSubProcess.bpmn20.xml",
                "simpleSubProcess.bpmn20.xml",
            ),
            "callSimpleSubProcess",
            tasks=("taskBeforeSubProcess", "task", "taskAfterSubProcess"),
        ),
        id="CallActivity.testCallSimpleSubProcess",
    ),
    # business rule tasks: DMN 1.1 and 1.3 decision tables deployed beside the BPMN
    *(
        pytest.param(
            Case(
                ("DmnBusinessRuleTaskTest.testDecisionRef.bpmn20.xml", dmn),
                "testProcess",
                variables={"result": "okay"},
            ),
            id=f"DmnBusinessRuleTaskTest.testDecisionRef+{dmn}",
        )
        for dmn in (
            "DmnBusinessRuleTaskTest.testDecisionOkay.dmn11.xml",
            "dmn13_DmnBusinessRuleTaskTest.testDecisionOkay.dmn",
        )
    ),
    *(
        pytest.param(
            Case(
                (f"DmnBusinessRuleTaskResultMappingTest.{test}.bpmn20.xml", MAPPING_DMN),
                "testProcess",
                data={"input": given},
                variables={"result": expected},
            ),
            id=f"DmnBusinessRuleTaskResultMappingTest.{test}",
        )
        for test, given, expected in (
            ("testSingleEntry", "single entry", "foo"),
            ("testSingleResult", "multiple entries", {"result1": "foo", "result2": "bar"}),
            ("testCollectEntries", "single entry list", ["foo", "foo"]),
            (
                "testResultList",
                "multiple entries list",
                [{"result1": "foo", "result2": "bar"}] * 2,
            ),
            ("testDefaultMapping", "multiple entries", [{"result1": "foo", "result2": "bar"}]),
        )
    ),
]

# Diagrams that need what Tokenflow cannot run, refused at deploy with the reason.
REFUSED = [
    pytest.param(
        "FormDataTest.testFormFieldSubmit.bpmn20.xml",
        "constraint 'validator' cannot run here",
        id="Java form field validator",
    ),
    pytest.param(
        "IntermediateTimerEventTest.testTimeCycle.bpmn20.xml",
        "is a cron expression, and Tokenflow's timers have no cron",
        id="cron cycle",
    ),
    pytest.param(
        ("DmnBusinessRuleTaskResultMappingTest.testInvalidMapping.bpmn20.xml", MAPPING_DMN),
        "camunda:mapDecisionResult 'invalid' is not one of resultList, singleResult",
        id="unknown decision result mapping",
    ),
    pytest.param(
        (
            "DmnBusinessRuleTaskTest.testDecisionRefVersionBinding.bpmn20.xml",
            "DmnBusinessRuleTaskTest.testDecisionOkay.dmn11.xml",
        ),
        "camunda:decisionRefBinding: only 'latest' (at the instance's start) is supported",
        id="decision bound to a version",
    ),
]


@pytest.fixture
def walk_for(config):
    def make(case: Case) -> Walk:
        system = engine_system(config, Registry())
        client = api_client(config, system)
        walk = make_people(system, client, people_in(list(case.files)))
        deploy(walk, list(case.files))
        return walk

    return make


def start(walk: Walk, case: Case) -> str:
    if case.by_message:
        r = walk.admin.post(
            "/api/v1/messages",
            json={"name": case.by_message, "correlation_key": BUSINESS_KEY},
        )
    else:
        r = walk.admin.post(
            "/api/v1/process-instances",
            json={"process": case.process, "data": case.data, "business_key": BUSINESS_KEY},
        )
    assert r.status_code == 201, r.json
    return r.json.get("instance_id") or r.json["id"]


@pytest.mark.parametrize("case", CASES)
def test_a_camunda_diagram_runs_to_its_end_through_the_api(walk_for, case):
    walk = walk_for(case)
    instance_id = start(walk, case)
    view = run_to_end(walk, instance_id)
    assert view["status"] == "completed", view
    assert view["process"] == case.process
    for task in case.tasks:
        assert walk.completed_tasks.count(task) >= case.tasks.count(task), walk.completed_tasks
    assert len(walk.fired_timers) == case.timers
    assert len(walk.sent_messages) == case.messages
    for name, value in case.variables.items():
        assert view["variables"].get(name) == value, (name, view["variables"])


def test_at_least_fifteen_of_camunda_s_diagrams_run_here():
    files = {name for c in CASES for name in c.values[0].files}
    assert len(files) >= 15
    assert files <= {p.name for p in CAMUNDA_DIR.iterdir()}


@pytest.mark.parametrize(("file", "reason"), REFUSED)
def test_a_camunda_diagram_that_needs_what_cannot_run_here_is_refused_in_words(
    walk_for, config, file, reason
):
    files = [file] if isinstance(file, str) else list(file)
    system = engine_system(config, Registry())
    walk = make_people(system, api_client(config, system), people_in(files))
    r = post_files(walk, files)
    assert r.status_code == 422, r.json
    assert any(reason in p["message"] for p in r.json["problems"]), r.json["problems"]


# Camunda's DMN examples (camunda-bpm-examples, dmn-engine/): evaluated through the API as
# an analyst tries a table, the DRG's required decision first.
EVALUATED = [
    pytest.param(
        "ex_dish-decision.dmn11.xml",
        "decision",
        {"season": "Spring", "guestCount": 6},
        [{"desiredDish": "Steak"}],
        id="dish, a range",
    ),
    pytest.param(
        "ex_dish-decision.dmn11.xml",
        "decision",
        {"season": "Winter", "guestCount": 12},
        [{"desiredDish": "Stew"}],
        id="dish, a list and a comparison",
    ),
    pytest.param(
        "ex_dish-decision.dmn11.xml",
        "decision",
        {"season": "Summer", "guestCount": 40},
        [{"desiredDish": "Light Salad and a nice Steak"}],
        id="dish, any guests",
    ),
    pytest.param(  # the example's own test (DrgDecisionTest.shouldServeGuiness)
        "ex_dinnerDecisions.dmn",
        "beverages",
        {"season": "Spring", "guestCount": 10, "guestsWithChildren": False},
        [{"beverages": "Guiness"}, {"beverages": "Water"}],
        id="dinner DRG, the example's own case",
    ),
    pytest.param(
        "ex_dinnerDecisions.dmn",
        "beverages",
        {"season": "Fall", "guestCount": 4, "guestsWithChildren": True},
        [
            {"beverages": "Aecht Schlenkerla Rauchbier"},
            {"beverages": "Apple Juice"},
            {"beverages": "Water"},
        ],
        id="dinner DRG, COLLECT over the dish decision",
    ),
]


@pytest.mark.parametrize(("file", "key", "variables", "expected"), EVALUATED)
def test_a_camunda_dmn_example_evaluates_through_the_api(config, file, key, variables, expected):
    system = engine_system(config, Registry())
    walk = make_people(system, api_client(config, system), {})
    deploy(walk, [file])
    r = walk.api(ANALYST).post(
        f"/api/v1/decision-definitions/{key}/evaluate", json={"variables": variables}
    )
    assert r.status_code == 200, r.json
    assert r.json == {"key": key, "version": 1, "result": expected}


def test_evaluating_a_decision_says_what_is_wrong_and_is_for_analysts(config):
    system = engine_system(config, Registry())
    walk = make_people(system, api_client(config, system), {})
    deploy(walk, ["ex_dish-decision.dmn11.xml"])
    url = "/api/v1/decision-definitions/decision/evaluate"
    missing = walk.api(ANALYST).post(url, json={"variables": {"season": "Fall"}})
    assert missing.status_code == 422
    assert "variable 'guestCount' is not set" in missing.json["detail"]
    bad = walk.api(ANALYST).post(url, json={"variables": {"not a name": 1}})
    assert bad.status_code == 422
    assert walk.api(OUTSIDER).post(url, json={"variables": {}}).status_code == 403
    unknown = walk.api(ANALYST).post(
        "/api/v1/decision-definitions/nothing/evaluate", json={"variables": {}}
    )
    assert unknown.status_code == 404
