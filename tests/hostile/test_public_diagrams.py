"""Real-world diagrams (tests/data/bpmn-public/, sources in its README): each file, and
each set of files that call one another, is deployed through the API by an admin, and
each process that deploys is started by the admin, who then completes its tasks with empty
forms and runs its jobs for a few rounds. Refusals are fine (4xx with problems); a 5xx
never is."""

from __future__ import annotations

import io
import logging
import traceback
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.hostile.builders import bearer

pytestmark = pytest.mark.hostile

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bpmn-public"
FILES = [f"{p.parent.name}/{p.name}" for p in sorted(CORPUS.glob("*/*.bpmn"))]
# Files whose call activities or messages need another file of the corpus: deployed
# together too, so that the processes they call are there.
TOGETHER = [
    ("camunda-examples/mainProcess.bpmn", "camunda-examples/subProcess.bpmn"),
    (
        "camunda-examples/camunda-testing-job-announcement.bpmn",
        "camunda-examples/camunda-testing-job-announcement-publication.bpmn",
    ),
    ("camunda-examples/instantiating_process.bpmn", "camunda-examples/message_start_process.bpmn"),
    (
        "spiffworkflow/call_activity_with_message_parent.bpmn",
        "spiffworkflow/call_activity_with_message.bpmn",
    ),
]

# MIWG's reference files are marked not executable: deployed once as they are, and once
# with every process marked executable, so that validation and the engine see them too.
NOT_EXECUTABLE = b'isExecutable="false"'
AS_EXECUTABLE = [n for n in FILES if NOT_EXECUTABLE in (CORPUS / n).read_bytes()]
EXECUTABLE_SUFFIX = " (executable)"

WALK_ROUNDS = 3

# Cases that answer a 5xx today, with the root cause; the fixes belong to other branches
# (deploy-time validation, run-time failures as incidents). Empty it once they are merged.
KNOWN_5XX: dict[str, str] = {}


def case(*names: str, executable: bool = False) -> Any:
    case_id = "+".join(names) + (EXECUTABLE_SUFFIX if executable else "")
    marks = (
        [pytest.mark.xfail(strict=False, reason=KNOWN_5XX[case_id])] if case_id in KNOWN_5XX else []
    )
    return pytest.param(names, executable, id=case_id, marks=marks)


CASES = (
    [case(n) for n in FILES]
    + [case(*t) for t in TOGETHER]
    + [case(n, executable=True) for n in AS_EXECUTABLE]
)


def cause(caplog: pytest.LogCaptureFixture) -> str:
    """The exception behind a 500, as the app logged it: type, message, where it was
    raised and the innermost frame of Tokenflow's own code that it passed through."""
    for record in reversed(caplog.records):
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "site-packages" not in f.filename] or frames
            return (
                f"{type(exc).__name__}: {exc} raised at {_place(frames[-1])} via {_place(ours[-1])}"
            )
    return "no exception logged"


def _place(frame: traceback.FrameSummary) -> str:
    return f"{Path(frame.filename).name}:{frame.lineno} ({frame.name})"


def no_server_error(response: Any, what: str, caplog: pytest.LogCaptureFixture) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}; {cause(caplog)}"


def content(name: str, executable: bool) -> bytes:
    data = (CORPUS / name).read_bytes()
    return data.replace(NOT_EXECUTABLE, b'isExecutable="true"') if executable else data


def deploy(client: Any, headers: dict[str, str], names: tuple[str, ...], executable: bool) -> Any:
    if len(names) == 1:
        return client.post(
            "/api/v1/process-definitions",
            query_string={"filename": Path(names[0]).name},
            data=content(names[0], executable),
            content_type="application/xml",
            headers=headers,
        )
    files = {
        f"file{i}": (io.BytesIO(content(name, executable)), Path(name).name)
        for i, name in enumerate(names)
    }
    return client.post(
        "/api/v1/process-definitions",
        data=files,
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.mark.parametrize(("names", "executable"), CASES)
def test_a_public_diagram_deploys_or_is_refused_and_starts_without_a_server_error(
    app: Flask, names: tuple[str, ...], executable: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    client, admin = app.test_client(), bearer(app, "root")
    deployed = deploy(client, admin, names, executable)
    no_server_error(deployed, "deploy", caplog)
    if deployed.status_code != 201:
        assert deployed.content_type == "application/problem+json"
        assert deployed.json["detail"]
        return
    for process in deployed.json["deployed"]:
        started = client.post(
            "/api/v1/process-instances", json={"process": process["key"]}, headers=admin
        )
        no_server_error(started, f"start of {process['key']}", caplog)
        if started.status_code == 201:
            walk(client, admin, started.json["id"], caplog)


def walk(client: Any, admin: dict[str, str], instance_id: str, caplog: Any) -> None:
    """A few rounds of what an admin can do to a running instance: complete its tasks
    with empty forms and run its pending jobs. Refusals are fine; a 5xx is not."""
    for _ in range(WALK_ROUNDS):
        tasks = client.get(f"/api/v1/tasks?instance_id={instance_id}", headers=admin)
        jobs = client.get(f"/api/v1/jobs?instance_id={instance_id}", headers=admin)
        no_server_error(tasks, "task list", caplog)
        no_server_error(jobs, "job list", caplog)
        if not tasks.json and not jobs.json:
            return
        for task in tasks.json:
            done = client.post(
                f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=admin
            )
            no_server_error(done, f"completing {task['name']}", caplog)
        for job in jobs.json:
            ran = client.post(f"/api/v1/jobs/{job['id']}/execute", headers=admin)
            no_server_error(ran, f"running the job of {job['element']}", caplog)


def test_every_file_deployed_together_is_in_the_corpus() -> None:
    assert {name for names in TOGETHER for name in names} <= set(FILES)
