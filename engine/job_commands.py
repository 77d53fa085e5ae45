"""The engine's commands on jobs and incidents: run a due timer or retry (alone, or a
worker's batch in one transaction), and retry an incident. Part of `ProcessEngine`, on
the `EngineScope` every command shares (the unit of work, loading and running steps)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import audit
from . import statements as sql
from .actors import SYSTEM, Actor, instance_view
from .clock import clock
from .engine_scope import STOPPED, EngineScope
from .errors import Conflict, NotFound
from .models import Incident, ProcessInstance
from .persistence import Loaded
from .step import Step


class JobCommands(EngineScope):
    def execute_job(self, job_id: int, worker: str | None = None, actor: Actor = SYSTEM) -> bool:
        """Run one timer or retry. `worker` set: only if this worker holds its lease.
        Without a worker (an admin's "run now") a timer fires even before it is due."""
        with self._step_scope(report=worker is None) as (s, finish):
            # Jobs are read and written as rows (Core), never as session objects: a step
            # deletes and inserts them with plain statements.
            job = sql.run(s, sql.GET_JOB_FOR_UPDATE, {"b_id": job_id}).first()
            if job is None:
                raise NotFound("No such job.")
            if worker is not None and job.locked_by != worker:
                return False
            inst = self._lock_instance(s, job.instance_id)
            if inst.status in STOPPED:
                sql.run(s, sql.UNCLAIM_JOBS, {"b_ids": [job_id]})
                return False
            loaded = self._load(s, inst)
            step = self._run_job(s, finish, inst, loaded, job, actor.name, fire_now=worker is None)
            _recheck_timers(s, [job] if _still_waiting(step, job) else [])
            return True

    def execute_jobs(
        self, job_ids: list[int], worker: str, stop: threading.Event | None = None
    ) -> int:
        """Run a batch of jobs this worker claimed in one transaction: one locked read of
        the jobs, one of their instances, one of the instances' tasks, one commit. One job
        per instance: another job of the same instance goes back to the queue for the next
        round. Returns how many ran. Any failure rolls the whole batch back (its claims
        stay), so the caller can run the jobs one by one and isolate the faulty one. Once
        `stop` is set, the job in hand finishes, the batch commits and the rest go back."""
        ran, waiting = 0, []
        with self._step_scope(report=False) as (s, finish):
            claimed = sql.run(s, sql.CLAIMED_JOBS, {"b_ids": job_ids, "b_worker": worker}).all()
            jobs: dict[str, Any] = {}
            later = []
            for job in claimed:
                if job.instance_id in jobs:
                    later.append(job.id)
                else:
                    jobs[job.instance_id] = job
            instances = s.scalars(sql.LOCK_INSTANCES, {"b_ids": list(jobs)}).all()
            idle = [i for i in instances if i.status in STOPPED]
            later += [jobs[i.id].id for i in idle]
            runnable = [i for i in instances if i not in idle]
            with sql.deferred(s):  # the steps' writes go in one statement per kind
                for n, (inst, loaded) in enumerate(
                    zip(runnable, self._load_many(s, runnable), strict=True)
                ):
                    if stop is not None and stop.is_set():  # shutting down: hand back the rest
                        later += [jobs[i.id].id for i in runnable[n:]]
                        runnable = runnable[:n]
                        break
                    job = jobs[inst.id]
                    step = self._run_job(s, finish, inst, loaded, job, SYSTEM.name)
                    ran += 1
                    if _still_waiting(step, job):
                        waiting.append(job)
            _recheck_timers(s, waiting)
            if later:
                sql.run(s, sql.UNCLAIM_JOBS, {"b_ids": later})
        return ran

    def _run_job(
        self,
        s: Session,
        finish: Any,
        inst: ProcessInstance,
        loaded: Loaded,
        job: Any,
        actor: str,
        fire_now: bool = False,
    ) -> Step:
        """The step a job asks for: a due timer's (`fire_now`: even before it is due) or a
        service task's retry."""
        step = Step(s, inst, loaded, actor)
        if job.kind == "timer" and fire_now:
            _make_due(step.workflow, job.task_id)
        if job.kind == "service":
            step.run_task_ids = {job.task_id}
        self._run(step)
        finish(step)
        return step

    def retry_incident(self, incident_id: int, actor: Actor) -> dict[str, Any]:
        with self._step_scope() as (s, finish):
            incident = s.get(Incident, incident_id)
            if incident is None:
                raise NotFound("No such incident.")
            if incident.status != "open":
                raise Conflict("This incident is already resolved.")
            inst = self._lock_instance(s, incident.instance_id)
            incident.status, incident.resolved_at = "resolved", clock.now()
            incident.resolved_by = actor.name
            audit.record(
                s,
                "incident.resolved",
                instance_id=inst.id,
                actor=actor.name,
                element=incident.element,
                incident=incident.id,
            )
            step = Step(s, inst, self._load(s, inst), actor.name)
            self.stepper.resolve_incident(step, incident.task_id)
            step.run_task_ids = {incident.task_id}
            self._reset_failed(step, incident.task_id)
            self._run(step)
            finish(step)
            return instance_view(actor, inst)

    def _reset_failed(self, step: Step, task_id: str) -> None:
        """An element that failed (ERROR) runs again from scratch, with the data it had:
        after a fix, a migration to a mended version, or just another try."""
        task = step.workflow.get_task_from_id(UUID(task_id))
        if task.state != TaskState.ERROR:
            return
        with self.stepper.watched(step):
            task.reset_branch(task.data)


def _still_waiting(step: Step, job: Any) -> bool:
    """Whether a timer job's step ran without firing it (it fell due a moment later than
    the claim thought): its job row is still there."""
    return job.kind == "timer" and job.task_id in step.mirror["timers"]


def _recheck_timers(s: Session, jobs: list[Any]) -> None:
    """Timers that did not fire yet: look again soon."""
    soon = clock.now() + timedelta(seconds=1)
    if jobs:
        sql.run(s, sql.RECHECK_TIMER, [{"b_id": j.id, "locked_until": soon} for j in jobs])


def _make_due(wf: BpmnWorkflow, task_id: str) -> None:
    """Move a waiting timer's due time into the past, so the next refresh fires it."""
    task = wf.get_task_from_id(UUID(task_id))
    past = (clock.now() - timedelta(seconds=1)).isoformat()
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value["next"] = past
    else:
        task.internal_data["event_value"] = past
