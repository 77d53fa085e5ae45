"""Camunda's own diagrams, unchanged (tests/data/camunda/, sources in its README), run to
their end through the HTTP API: user tasks completed by the people the diagram names and
refused to others, timers fired through the jobs API on the engine clock, messages sent
through the messages API. Those that need what cannot run here are refused in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.registry import Registry
from tests.engine_support import engine_system
from tests.web.camunda_walk import (
    CAMUNDA_DIR,
    Walk,
    deploy,
    make_people,
    people_in,
    post_files,
    run_to_end,
)
from tests.web.groups_support import api_client

BUSINESS_KEY = "CAMUNDA-1"


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


def test_at_least_fifteen_of_camunda_s_diagrams_run_here():
    files = {name for c in CASES for name in c.values[0].files}
    assert len(files) >= 15
    assert files <= {p.name for p in CAMUNDA_DIR.iterdir()}


@pytest.mark.parametrize(("file", "reason"), REFUSED)
def test_a_camunda_diagram_that_needs_what_cannot_run_here_is_refused_in_words(
    walk_for, config, file, reason
):
    system = engine_system(config, Registry())
    walk = make_people(system, api_client(config, system), people_in([file]))
    r = post_files(walk, [file])
    assert r.status_code == 422, r.json
    assert any(reason in p["message"] for p in r.json["problems"]), r.json["problems"]
