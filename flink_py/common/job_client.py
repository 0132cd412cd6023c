"""``JobClient``: a handle on a submitted job, as in ``pyflink.common.job_client``."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.job_id import JobID
from flink_py.common.job_status import JobStatus


def _completed(value: Any) -> "Future[Any]":
    future: "Future[Any]" = Future()
    future.set_result(value)
    return future


class JobClient:
    """Status, cancellation and result of one job. Methods return futures, as PyFlink's do.

    :param executor: the client side of the cluster running the job (an object with
        ``job_status(job_id)``, ``cancel(job_id)`` and ``job_result(job_id)``).
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

    def get_job_execution_result(self) -> "Future[JobExecutionResult]":
        """A future that completes with the result when the job has finished (or raises
        the job's failure)."""
        future: "Future[JobExecutionResult]" = Future()

        def wait() -> None:
            try:
                future.set_result(self._executor.job_result(self._job_id))
            except BaseException as exc:  # handed to the future's reader
                future.set_exception(exc)

        threading.Thread(target=wait, daemon=True, name=f"result of {self._job_id}").start()
        return future
