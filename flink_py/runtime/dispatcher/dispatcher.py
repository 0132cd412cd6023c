"""Dispatcher: accepts JobGraphs, starts one JobMaster per job, keeps finished jobs' results."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.errors import FlinkPyError
from flink_py.graph.ids import ResourceID
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.checkpoint.coordinator import create_checkpoint_coordinator_for_job
from flink_py.runtime.checkpoint.coordinator_protocol import CheckpointCoordinatorProtocol
from flink_py.runtime.jobmaster.job_master import CoordinatorFactory, JobFailure, JobMaster
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager, SlotAllocation

log = logging.getLogger(__name__)


class UnknownJobError(FlinkPyError):
    """No job with this id is known to the Dispatcher."""


class DuplicateJobSubmissionError(FlinkPyError):
    """A job with this id was submitted before, with another JobGraph (Flink's
    ``DuplicateJobSubmissionException``)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Job has already been submitted: job {job_id} is known to the "
                         f"Dispatcher with another JobGraph.")
        self.job_id = job_id


@dataclass
class JobResult:
    """A job's final outcome, as the client sees it."""

    job_id: str
    job_name: str
    status: JobStatus
    net_runtime_ms: int
    failure: Optional[JobFailure]


class Dispatcher:
    """The cluster's entry point for jobs."""

    #: the level of the log line of a FAILED job (each JobMaster's ``failure_log_level``)
    failure_log_level: int = logging.ERROR

    def __init__(self, resource_manager: ResourceManager,
                 slot_request_timeout_s: float = 300.0,
                 configuration: Optional[Configuration] = None,
                 checkpoint_coordinator_factory: Optional[CoordinatorFactory] = None) -> None:
        """:param configuration: the cluster's configuration, under each job's own settings
        :param checkpoint_coordinator_factory: makes a job's CheckpointCoordinator (default:
            the CheckpointCoordinator of runtime/checkpoint, for every job: savepoints work
            without periodic checkpoints)"""
        self.resource_manager = resource_manager
        self.configuration = configuration
        self.checkpoint_coordinator_factory = (
            checkpoint_coordinator_factory or self._create_checkpoint_coordinator)
        self.slot_request_timeout_s = slot_request_timeout_s
        self._lock = threading.Lock()
        self._jobs: Dict[str, JobMaster] = {}
        #: the digest of each job's submitted JobGraph: a retried submission (same id, same
        #: bytes) is answered as the first was instead of starting the job twice
        self._submission_digests: Dict[str, Optional[str]] = {}
        resource_manager.add_lost_listener(self._on_task_manager_lost)

    def _create_checkpoint_coordinator(self, master: JobMaster) -> CheckpointCoordinatorProtocol:
        return create_checkpoint_coordinator_for_job(
            master.job_graph, self.configuration or Configuration(),
            master.main_thread_executor, master.tasks, master.fail_job_from_checkpointing)

    def _on_task_manager_lost(self, resource_id: ResourceID, reason: str,
                              lost: List[SlotAllocation]) -> None:
        """Tells every job that had a slot on a lost TaskManager (or a lost slot worker): its
        attempts there fail over."""
        for job_id in sorted({a.job_id for a in lost}):
            with self._lock:
                master = self._jobs.get(job_id)
            if master is not None and not master.is_terminal:
                master.notify_allocations_lost([a for a in lost if a.job_id == job_id], reason)

    def submit_job(self, job_graph: JobGraph, submission_digest: Optional[str] = None) -> str:
        """Starts a JobMaster for the job; returns the job's id.

        Submission is idempotent on the job id, which the client chooses: a client that got
        no answer sends the same submission again, and a job known with the same
        ``submission_digest`` (e.g. the SHA-256 of the serialized JobGraph) is not started
        again: its id is returned as the first submission's was.

        :raises DuplicateJobSubmissionError: if a job with this id is known with another
            JobGraph (or without a digest to compare).
        """
        job_id = str(job_graph.job_id)
        with self._lock:
            if job_id in self._jobs:
                known = self._submission_digests.get(job_id)
                if submission_digest is None or known != submission_digest:
                    raise DuplicateJobSubmissionError(job_id)
                log.info("Job %s (%s) was submitted again with the same JobGraph (a client's "
                         "retry): it runs once.", job_graph.job_name, job_id)
                return job_id
            master = JobMaster(job_graph, self.resource_manager, self.slot_request_timeout_s,
                               configuration=self.configuration,
                               checkpoint_coordinator_factory=self.checkpoint_coordinator_factory)
            master.failure_log_level = self.failure_log_level
            self._jobs[job_id] = master
            self._submission_digests[job_id] = submission_digest
        master.start()
        return job_id

    def job_master(self, job_id: str) -> JobMaster:
        with self._lock:
            master = self._jobs.get(job_id)
        if master is None:
            raise UnknownJobError(f"job {job_id} not found")
        return master

    def cancel_job(self, job_id: str) -> None:
        self.job_master(job_id).cancel()

    def request_job_status(self, job_id: str) -> JobStatus:
        return self.job_master(job_id).status

    def request_job_result(self, job_id: str, timeout_s: Optional[float] = None) -> JobResult:
        """Waits for the job to end (up to ``timeout_s``) and returns its result."""
        master = self.job_master(job_id)
        if not master.wait_for_termination(timeout_s):
            raise TimeoutError(f"job {job_id} did not finish within {timeout_s} s")
        return JobResult(job_id, master.job_name, master.status,
                         master.end_time_ms - master.start_time_ms, master.failure)

    def list_jobs(self) -> List[JobMaster]:
        with self._lock:
            return list(self._jobs.values())
