"""``JobClient``: a handle on a submitted job, as in ``pyflink.common.job_client``."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Optional

from flink_py.common.completable_future import CompletableFuture
from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.job_id import JobID
from flink_py.common.job_status import JobStatus


def _completed(value: Any) -> "Future[Any]":
    return CompletableFuture.completed(value)


class JobClient:
    """Status, cancellation and result of one job. Methods return futures
    (:class:`~flink_py.common.CompletableFuture`), as PyFlink's do.

    :param executor: the client side of the cluster running the job (an object with
        ``job_status(job_id)``, ``cancel(job_id)``, ``job_result(job_id)``,
        ``trigger_savepoint(job_id, directory)`` and
        ``stop_with_savepoint(job_id, directory, drain)``).
    """

    def __init__(self, job_id: str, executor: Any) -> None:
        self._job_id = job_id
        self._executor = executor

    def get_job_id(self) -> JobID:
        return JobID.from_hex_string(self._job_id)

    def get_job_status(self) -> "Future[JobStatus]":
        """A completed future holding the job's current status."""
        return _completed(self._executor.job_status(self._job_id))

    def cancel(self) -> "Future[None]":
        """Cancels the job; the future completes when the cancellation was requested."""
        self._executor.cancel(self._job_id)
        return _completed(None)

    def stop_with_savepoint(self, advance_to_end_of_event_time: bool,
                            savepoint_directory: Optional[str] = None) -> "Future[str]":
        """Stops the job with a synchronous savepoint (``flink stop``): the sources stop,
        the savepoint is taken and the job ends FINISHED.

        :param advance_to_end_of_event_time: ``--drain``: emit MAX_WATERMARK and finish every
            operator before the savepoint (event-time timers and windows fire).
        :param savepoint_directory: where the savepoint goes (None:
            ``execution.checkpointing.savepoint-dir``).
        :return: a future of the savepoint's path, completed once the job FINISHED; it
            raises if the savepoint failed (the job runs on) or the job did not finish.

        Example::

            >>> client = env.execute_async("job")  # doctest: +SKIP
            >>> path = client.stop_with_savepoint(False, "/tmp/sp").result()  # doctest: +SKIP
        """
        return self._in_background(
            "stop-with-savepoint",
            lambda: self._executor.stop_with_savepoint(self._job_id, savepoint_directory,
                                                       advance_to_end_of_event_time))

    def trigger_savepoint(self, savepoint_directory: Optional[str] = None) -> "Future[str]":
        """Takes a savepoint of the running job; a future of its path."""
        return self._in_background(
            "savepoint",
            lambda: self._executor.trigger_savepoint(self._job_id, savepoint_directory))

    def get_accumulators(self) -> "Future[Dict[str, Any]]":
        """A future of the job's accumulators, name to value: those of its result once it
        has FINISHED, none before (no flink_py function adds any, as no Python function
        can in PyFlink; PyFlink's come from Java operators)."""
        def read() -> Dict[str, Any]:
            if self._executor.job_status(self._job_id) is JobStatus.FINISHED:
                return self._executor.job_result(self._job_id).get_all_accumulator_results()
            return {}

        return self._in_background("accumulators", read)

    def get_job_execution_result(self) -> "Future[JobExecutionResult]":
        """A future that completes with the result when the job has finished (or raises
        the job's failure)."""
        return self._in_background("result", lambda: self._executor.job_result(self._job_id))

    def _in_background(self, what: str, call: Callable[[], Any]) -> "Future[Any]":
        future: "Future[Any]" = CompletableFuture()

        def run() -> None:
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the future's reader
                future.set_exception(exc)

        threading.Thread(target=run, daemon=True, name=f"{what} of {self._job_id}").start()
        return future
