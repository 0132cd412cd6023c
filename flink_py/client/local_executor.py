"""LocalExecutor: runs JobGraphs on a MiniCluster started for each job.

This is the executor seam's local side: ``env.execute()`` in a plain ``python job.py`` hands
its JobGraph here. A remote executor (the ``flink run`` client) offers the same methods.
"""

from __future__ import annotations

import bdb
import logging
import queue
import threading
from typing import Any, Callable, Dict, Iterator, Optional

from flink_py.client import debugging
from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.job_status import JobStatus
from flink_py.errors import JobCancellationError, JobExecutionError, UserFunctionError
from flink_py.graph.job_graph import JobGraph
from flink_py.runtime.dispatcher.dispatcher import JobResult
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.user_traceback import with_user_traceback
from flink_py.runtime.minicluster import MiniCluster

#: how long a savepoint or stop-with-savepoint of a local job may take (Flink's default
#: checkpoint timeout, 10 min, bounds the savepoint itself)
SAVEPOINT_TIMEOUT_S = 600.0

log = logging.getLogger(__name__)


def await_savepoint(trigger: Callable[[Callable[[Optional[str], Optional[SerializedError]],
                                                 None]], None],
                    what: str, timeout_s: float = SAVEPOINT_TIMEOUT_S) -> str:
    """Runs ``trigger(on_done)`` (a JobMaster's savepoint entry) and waits for ``on_done``;
    returns the savepoint's ``file:`` URI.

    :raises SavepointFailedError: with the JobMaster's reason.
    :raises TimeoutError: ``on_done`` did not come within ``timeout_s``.
    """
    from flink_py.client.rest_cluster_client import SavepointFailedError
    done: "queue.Queue[tuple]" = queue.Queue()
    trigger(lambda path, error: done.put((path, error)))
    try:
        path, error = done.get(timeout=timeout_s)
    except queue.Empty:
        raise TimeoutError(f"{what} did not complete within {timeout_s:g} s") from None
    if error is not None:
        raise SavepointFailedError(error.message)
    return f"file:{path}"


def job_result_or_raise(result: JobResult) -> JobExecutionResult:
    """The JobExecutionResult of a FINISHED job; a JobExecutionError for any other end."""
    if result.status is JobStatus.FINISHED:
        return JobExecutionResult(result.job_id, result.net_runtime_ms)
    if result.status is JobStatus.CANCELED:
        raise JobCancellationError(f"Job {result.job_name!r} ({result.job_id}) was cancelled.")
    failure = result.failure
    if failure is None:
        raise JobExecutionError(
            f"Job {result.job_name!r} ({result.job_id}) ended {result.status.name}.")
    cause = failure.error.to_exception()
    summary = failure.error.message
    if isinstance(cause, UserFunctionError) and isinstance(cause.__cause__, bdb.BdbQuit):
        # `q` at a breakpoint in a user function: the program quits, as pdb's `q` does in
        # the main thread
        raise cause.__cause__
    if isinstance(cause, UserFunctionError) and cause.__cause__ is not None:
        # The user's exception is the cause, with the user's frames as its traceback: Python
        # prints them first, then this error's one line naming the operator and subtask.
        frames = getattr(cause, "user_frames", None)
        summary = str(cause)
        cause = cause.__cause__
        if frames:
            with_user_traceback(cause, frames)
    elif cause is None or cause.__traceback__ is None:
        # no exception here to carry the traceback (a failure of the runtime, or one that did
        # not unpickle): its text is in the message
        summary = failure.error.traceback_text or summary
    error = JobExecutionError(
        f"Job execution failed: job {result.job_name!r} ({result.job_id}) "
        f"{result.status.name} because task {failure.task_name} failed: {summary}")
    if cause is not None:
        raise error from cause
    raise error


#: ``python.execution-mode`` when the job's configuration leaves it unset (None: chosen per
#: job by :func:`choose_execution_mode`); the test suite sets "thread", as its jobs share
#: objects with the tests
DEFAULT_EXECUTION_MODE: Optional[str] = None


def choose_execution_mode(job_graph: JobGraph, configured: Optional[str]) -> str:
    """``"process"`` (slot worker processes) or ``"thread"`` (this process) for a local job:
    as configured, else processes when some vertex runs at parallelism > 1 and no debugger is
    active (see :func:`flink_py.client.debugging.debugger_active`)."""
    mode = configured or DEFAULT_EXECUTION_MODE
    if mode is not None:
        return mode
    parallel = any(v.parallelism > 1 for v in job_graph.vertices.values())
    if not parallel:
        return "thread"
    reason = debugging.debugger_active()
    if reason is not None:
        log.info("job %r runs in this process, not in slot processes: %s", job_graph.job_name,
                 reason)
        return "thread"
    return "process"


class LocalExecutor:
    """Starts a MiniCluster per job, sized to the slots the job needs: in this process, or
    with slot worker processes (``python.execution-mode``)."""

    def __init__(self, network_buffers_per_channel: int = 10,
                 local_handoff: bool = True,
                 configuration: Optional[Configuration] = None) -> None:
        self.network_buffers_per_channel = network_buffers_per_channel
        self.local_handoff = local_handoff
        self.configuration = configuration if configuration is not None else Configuration()
        self._clusters: Dict[str, Any] = {}
        self._lock = threading.Lock()

    def _start_cluster(self, job_graph: JobGraph) -> Any:
        mode = choose_execution_mode(
            job_graph, self.configuration.get(options.PYTHON_EXECUTION_MODE))
        if mode == "process":
            from flink_py.runtime.process_minicluster import ProcessMiniCluster
            return ProcessMiniCluster(job_graph.slots_needed(), self.configuration)
        # under pdb, a breakpoint in a user function stops the task that reaches it
        debugging.trace_task_threads(str(job_graph.job_id))
        return MiniCluster(1, job_graph.slots_needed(),
                           network_buffers_per_channel=self.network_buffers_per_channel,
                           local_handoff=self.local_handoff)

    def submit(self, job_graph: JobGraph) -> str:
        cluster = self._start_cluster(job_graph)
        # the failure of a local job reaches the user as execute()'s JobExecutionError; logged
        # at ERROR it would be printed before it (by logging's last-resort handler) as well
        cluster.dispatcher.failure_log_level = logging.INFO
        try:
            job_id = cluster.dispatcher.submit_job(job_graph)
        except BaseException:
            debugging.job_ended(str(job_graph.job_id))
            raise
        with self._lock:
            self._clusters[job_id] = cluster

        def close_when_done() -> None:
            cluster.dispatcher.job_master(job_id).wait_for_termination()
            debugging.job_ended(job_id)
            cluster.close()

        threading.Thread(target=close_when_done, daemon=True,
                         name=f"MiniCluster of {job_id}").start()
        return job_id

    def _cluster(self, job_id: str) -> MiniCluster:
        with self._lock:
            return self._clusters[job_id]

    def job_status(self, job_id: str) -> JobStatus:
        return self._cluster(job_id).dispatcher.request_job_status(job_id)

    def cancel(self, job_id: str) -> None:
        self._cluster(job_id).dispatcher.cancel_job(job_id)

    def stop_with_savepoint(self, job_id: str, directory: Optional[str], drain: bool) -> str:
        """Stops the job with a synchronous savepoint; its path once the job FINISHED."""
        master = self._cluster(job_id).dispatcher.job_master(job_id)
        return await_savepoint(lambda on_done: master.stop_with_savepoint(directory, drain,
                                                                          on_done),
                               f"the stop-with-savepoint of job {job_id}")

    def trigger_savepoint(self, job_id: str, directory: Optional[str]) -> str:
        master = self._cluster(job_id).dispatcher.job_master(job_id)
        return await_savepoint(lambda on_done: master.trigger_savepoint(directory, on_done),
                               f"the savepoint of job {job_id}")

    def job_result(self, job_id: str, timeout_s: Optional[float] = None) -> JobExecutionResult:
        cluster = self._cluster(job_id)
        result = cluster.dispatcher.request_job_result(job_id, timeout_s)
        debugging.job_ended(job_id)  # before the program goes on (pdb may restart it)
        cluster.close()
        return job_result_or_raise(result)

    def collect(self, job_id: str, collect_id: str) -> "CloseableIterator":
        master = self._cluster(job_id).dispatcher.job_master(job_id)
        return CloseableIterator(self, job_id, master.collect.buffer(collect_id),
                                 lambda: master.is_terminal)


class CloseableIterator:
    """The records of ``execute_and_collect``; closing it early cancels the job."""

    def __init__(self, executor: Any, job_id: str, buffer: Any, job_ended: Any) -> None:
        self._executor = executor
        self._job_id = job_id
        self._buffer = buffer
        self._job_ended = job_ended
        self._current: Iterator[Any] = iter(())
        self._done = False

    def __iter__(self) -> "CloseableIterator":
        return self

    def __next__(self) -> Any:
        while True:
            for record in self._current:
                return record
            if self._done:
                raise StopIteration
            batch, ended = self._buffer.take(1.0)
            if batch is not None:
                self._current = iter(batch)
            elif ended or self._job_ended():
                self._done = True
                # Raises the job's failure, if it failed.
                self._executor.job_result(self._job_id)

    def close(self) -> None:
        if not self._done:
            self._done = True
            if not self._job_ended():
                self._executor.cancel(self._job_id)
            try:
                self._executor.job_result(self._job_id)
            except JobCancellationError:
                pass  # we cancelled it ourselves

    def __enter__(self) -> "CloseableIterator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
