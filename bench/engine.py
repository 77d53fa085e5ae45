"""Durable engine vs plain in-memory SpiffWorkflow on a linear process.

A process of N user steps, each followed by a service task, runs through the durable
engine on SQLite (every step its own transaction: load, complete, run the handler,
save, commit) and through plain SpiffWorkflow in memory, in the same run. Prints the
time of each, their ratio, and the per-step persistence overhead at 15 and 60 steps.
Targets: durable <= 3x in-memory at 60 steps; overhead per step at 60 <= 1.3x at 15.

    .venv/bin/python bench/engine.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.actors import Actor
from engine.db import unit_of_work
from engine.models import WorkItem
from engine.parser import build_parser, read_file
from engine.registry import Registry
from engine.scripting import RestrictedScriptEngine
from engine.stepper import is_service
from service_layer.config import Config
from tokenflow.schema import upgrade
from tokenflow.system import build_system

USER = Actor("bench", frozenset({"customer"}), user_id=1)


def linear_bpmn(steps: int) -> bytes:
    nodes, flows, refs = [], [], []
    previous = "start"
    for i in range(steps):
        user, service = f"ask_{i}", f"work_{i}"
        nodes.append(
            f'<bpmn:userTask id="{user}" name="Step {i}"><bpmn:extensionElements>'
            f'<camunda:formData><camunda:formField id="value_{i}" label="Value" type="long" />'
            f"</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
            f'<bpmn:serviceTask id="{service}" name="Work {i}" camunda:type="external" '
            f'camunda:topic="work" />'
        )
        flows.append(f'<bpmn:sequenceFlow id="f{i}a" sourceRef="{previous}" targetRef="{user}" />')
        flows.append(f'<bpmn:sequenceFlow id="f{i}b" sourceRef="{user}" targetRef="{service}" />')
        refs += [user, service]
        previous = service
    flows.append(f'<bpmn:sequenceFlow id="fend" sourceRef="{previous}" targetRef="end" />')
    lane = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="bench">
  <bpmn:process id="linear_{steps}" isExecutable="true" camunda:candidateStarterGroups="customer">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="customer">{lane}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />{"".join(nodes)}<bpmn:endEvent id="end" />{"".join(flows)}
  </bpmn:process>
</bpmn:definitions>""".encode()


def in_memory(steps: int) -> float:
    parser = build_parser([read_file("b.bpmn", linear_bpmn(steps))])
    spec = parser.get_spec(f"linear_{steps}")
    started = time.perf_counter()
    wf = BpmnWorkflow(spec, {}, script_engine=RestrictedScriptEngine())
    wf.do_engine_steps()
    for i in range(steps):
        task = wf.get_next_task(state=TaskState.READY, manual=True)
        task.set_data(**{f"value_{i}": i})
        task.run()
        wf.do_engine_steps()
        for service in wf.get_tasks(state=TaskState.STARTED):
            if is_service(service):
                service.set_data(done=i)
                service.complete()
        wf.do_engine_steps()
    assert wf.is_completed()
    return time.perf_counter() - started


def durable(steps: int, workdir: Path) -> float:
    db = workdir / f"bench_{steps}_{time.monotonic_ns()}.db"
    config = Config.from_env(
        {"TOKENFLOW_INSTANCE_DIR": str(workdir), "TOKENFLOW_DATABASE_URL": f"sqlite:///{db}"}
    )
    upgrade(config.database_url)
    registry = Registry()
    registry.handler("work")(lambda ctx: {"done": ctx.data.get("done", 0) + 1})
    system = build_system(config, registry=registry, services={})
    system.engine.deploy(
        [("b.bpmn", linear_bpmn(steps))], USER.__class__("bench", frozenset({"admin"}))
    )
    # A running server parses each deployed version once; keep that out of the step cost,
    # as the in-memory run keeps its parse out too.
    system.engine.start(f"linear_{steps}", USER)
    started = time.perf_counter()
    view = system.engine.start(f"linear_{steps}", USER)
    with unit_of_work(system.session_factory) as s:
        task_id = s.scalar(select(WorkItem.id).where(WorkItem.instance_id == view["id"]))
    for i in range(steps):
        # Completing a task answers with the instance's tasks now waiting for the same
        # person, as the API and the pages do: the next step needs no lookup.
        view, _, waiting = system.engine.complete_task(task_id, {f"value_{i}": str(i)}, USER)
        task_id = waiting[0]["id"] if waiting else None
    elapsed = time.perf_counter() - started
    assert view["status"] == "completed", view
    system.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for steps in (15, 60):
            # Interleaved, so that a slow spell of a shared machine hits both sides alike.
            mems, durs = [], []
            for _ in range(args.repeat):
                mems.append(in_memory(steps))
                durs.append(durable(steps, Path(tmp)))
            mem, dur = statistics.median(mems), statistics.median(durs)
            results[steps] = (mem, dur)
            print(
                f"{steps:>3} steps: in-memory {mem * 1000:8.1f} ms   durable {dur * 1000:8.1f} ms"
                f"   ratio {dur / mem:5.2f}x   overhead/step {(dur - mem) / steps * 1000:6.2f} ms"
            )
    over = {n: (d - m) / n for n, (m, d) in results.items()}
    print(f"durable/in-memory at 60 steps: {results[60][1] / results[60][0]:.2f}x (target <= 3x)")
    print(f"overhead per step, 60 vs 15: {over[60] / over[15]:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
