"""RemoteExecutor: the executor seam's cluster side, over the JobManager's REST API.

``flink run`` installs it as the context executor, so ``env.execute()`` in an unchanged
program submits its JobGraph (with the program's code attached as ``user_artifacts``) to
the cluster. Attached, ``execute()`` waits for the job and raises its failure like the
local executor does; detached, it returns a :class:`DetachedJobExecutionResult` right after
the submission.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional

from flink_py.client.local_executor import CloseableIterator, job_result_or_raise
from flink_py.client.rest_cluster_client import RestClusterClient, client_from_configuration
from flink_py.common.configuration import Configuration
from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.job_status import JobStatus
from flink_py.errors import InvalidProgramError
from flink_py.graph.job_graph import JobGraph

_DETACHED_MESSAGE = (
    "Job was submitted in detached mode. Results of job execution, such as accumulators, "
    "runtime, etc. are not available. Please make sure your program doesn't call "
    "getExecutionResult() or any of its methods in detached mode.")


class DetachedJobExecutionResult(JobExecutionResult):
    """What ``execute()`` returns in detached mode (Flink's ``DetachedJobExecutionResult``):
    the job id is known; runtime and accumulators are not, and asking for them raises."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id, 0)

    def is_job_execution_result(self) -> bool:
        return False

    def get_net_runtime(self, time_unit: Optional[str] = None) -> int:
        raise InvalidProgramError(_DETACHED_MESSAGE)

    def get_accumulator_result(self, accumulator_name: str) -> Any:
        raise InvalidProgramError(_DETACHED_MESSAGE)

    def get_all_accumulator_results(self) -> Dict[str, Any]:
        raise InvalidProgramError(_DETACHED_MESSAGE)

    def __str__(self) -> str:
        return f"DetachedJobExecutionResult{{jobId={self.get_job_id()}}}"

    def __repr__(self) -> str:
        return f"DetachedJobExecutionResult(job_id={str(self.get_job_id())!r})"


class RemoteExecutor:
    """Submits JobGraphs to a cluster through a :class:`RestClusterClient`.

    :param client: the JobManager's REST client.
    :param detached: return from ``job_result`` at once instead of waiting for the job.
    :param artifacts: the user's code (archive name -> zip bytes), attached to every
        JobGraph submitted.
    """

    def __init__(self, client: RestClusterClient, detached: bool = False,
                 artifacts: Optional[Dict[str, bytes]] = None) -> None:
        self.client = client
        self.detached = detached
        self.artifacts = dict(artifacts or {})
        self._job_names: Dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def from_configuration(configuration: Configuration, conf_dir: Optional[str] = None,
                           detached: bool = False,
                           artifacts: Optional[Dict[str, bytes]] = None) -> "RemoteExecutor":
        """An executor of the cluster ``configuration`` names, with the REST credential and
        TLS settings found in it and in ``conf_dir``'s cluster secret."""
        return RemoteExecutor(client_from_configuration(configuration, conf_dir), detached,
                              artifacts)

    def submit(self, job_graph: JobGraph) -> str:
        job_graph.user_artifacts = {**job_graph.user_artifacts, **self.artifacts}
        job_id = self.client.submit_job(job_graph)
        with self._lock:
            self._job_names[job_id] = job_graph.job_name
        return job_id

    def job_status(self, job_id: str) -> JobStatus:
        return self.client.job_status(job_id)

    def cancel(self, job_id: str) -> None:
        self.client.cancel_job(job_id)

    def stop_with_savepoint(self, job_id: str, directory: Optional[str], drain: bool) -> str:
        """``POST /jobs/<id>/stop``; the savepoint's path once the job FINISHED."""
        return self.client.wait_for_savepoint(
            job_id, self.client.stop_with_savepoint(job_id, directory, drain))

    def trigger_savepoint(self, job_id: str, directory: Optional[str]) -> str:
        return self.client.wait_for_savepoint(
            job_id, self.client.trigger_savepoint(job_id, directory))

    def job_result(self, job_id: str, timeout_s: Optional[float] = None) -> JobExecutionResult:
        """The job's result once it ended (attached), or at once (detached).

        :raises JobExecutionError: the job failed; ``__cause__`` is the user's exception
            when its class can be loaded here.
        :raises JobCancellationError: the job was cancelled.
        """
        if self.detached:
            return DetachedJobExecutionResult(job_id)
        with self._lock:
            name = self._job_names.get(job_id)
        return job_result_or_raise(self.client.request_job_result(job_id, timeout_s, name))

    def collect(self, job_id: str, collect_id: str) -> Any:
        """The records of the job's collect sink, fetched from the JobManager over REST."""
        client = self.client

        class _RestCollectBuffer:
            def take(self, timeout_s: float) -> Any:
                return client.collect_batch(job_id, collect_id, timeout_s)

        def job_ended() -> bool:
            return client.job_status(job_id).is_globally_terminal_state()

        return CloseableIterator(_AttachedResults(self), job_id, _RestCollectBuffer(),
                                 job_ended)


class _AttachedResults:
    """The executor as the collect iterator sees it: it waits for the job's result even if
    the program was submitted detached (the iterator is how the program reads its output)."""

    def __init__(self, executor: RemoteExecutor) -> None:
        self._executor = executor

    def job_result(self, job_id: str, timeout_s: Optional[float] = None) -> Any:
        return job_result_or_raise(self._executor.client.request_job_result(job_id, timeout_s))

    def cancel(self, job_id: str) -> None:
        self._executor.cancel(job_id)
