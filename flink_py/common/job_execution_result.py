"""PyFlink's ``JobExecutionResult``: the job id, net runtime and accumulators of a finished job."""

from __future__ import annotations

from typing import Any, Mapping

from flink_py.common.job_id import JobID
from flink_py.errors import InvalidProgramError

__all__ = ["JobExecutionResult"]

_MILLISECOND_UNITS = frozenset({"ms", "millis", "milliseconds", "MILLISECONDS"})


class JobExecutionResult:
    """The result of a job execution: its id, execution time and accumulator values.

    Example::

        >>> result = JobExecutionResult(
        ...     JobID.from_hex_string("fd72014d4c864993a2e5a9287b4a9c5d"), 1234, {"lines": 3})
        >>> result.get_net_runtime()
        1234
        >>> result.get_accumulator_result("lines")
        3
    """

    def __init__(
        self,
        job_id: JobID | str,
        net_runtime_ms: int,
        accumulators: Mapping[str, Any] | None = None,
    ) -> None:
        """:param job_id: The job's id, or its 32 hex digits.
        :param net_runtime_ms: The net execution time in milliseconds.
        :param accumulators: Accumulator name to final value.
        """
        self._job_id = job_id if isinstance(job_id, JobID) else JobID.from_hex_string(job_id)
        if isinstance(net_runtime_ms, bool) or not isinstance(net_runtime_ms, int):
            raise InvalidProgramError(
                f"net_runtime_ms must be an int of milliseconds, got {net_runtime_ms!r}"
            )
        self._net_runtime_ms = net_runtime_ms
        self._accumulators = dict(accumulators or {})

    def get_job_id(self) -> JobID:
        """Returns the JobID assigned to the job by the Flink runtime."""
        return self._job_id

    def is_job_execution_result(self) -> bool:
        """Checks if this JobSubmissionResult is also a JobExecutionResult (always ``True``)."""
        return True

    def get_job_execution_result(self) -> "JobExecutionResult":
        """Returns the JobExecutionResult (this object)."""
        return self

    def get_net_runtime(self, time_unit: str | None = None) -> int:
        """Gets the net execution time of the job, without pre-flight steps.

        :param time_unit: ``None`` or ``"ms"``/``"milliseconds"``; only milliseconds are
                          supported.
        :return: The net execution time in milliseconds.
        """
        if time_unit is not None and time_unit not in _MILLISECOND_UNITS:
            raise InvalidProgramError(
                f"Unsupported time unit {time_unit!r} for get_net_runtime; "
                "only milliseconds ('ms') are supported"
            )
        return self._net_runtime_ms

    def get_accumulator_result(self, accumulator_name: str) -> Any:
        """Gets the accumulator with the given name, or ``None`` if there is none.

        :param accumulator_name: The name of the accumulator.
        :return: The value of the accumulator with the given name.
        """
        return self._accumulators.get(accumulator_name)

    def get_all_accumulator_results(self) -> dict[str, Any]:
        """Gets all accumulators produced by the job, name to value (a copy)."""
        return dict(self._accumulators)

    def to_string(self) -> str:
        """Converts the result to a string (PyFlink's ``to_string``)."""
        return str(self)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, JobExecutionResult)
            and self._job_id == other._job_id
            and self._net_runtime_ms == other._net_runtime_ms
            and self._accumulators == other._accumulators
        )

    __hash__ = None  # type: ignore[assignment]  # accumulators are mutable values

    def __str__(self) -> str:
        # The layout of Java's JobExecutionResult.toString() and
        # AccumulatorHelper.getResultsFormatted(), which the `flink run` client prints.
        lines = [
            "Program execution finished",
            f"Job with JobID {self._job_id} has finished.",
            f"Job Runtime: {self._net_runtime_ms} ms",
        ]
        text = "\n".join(lines) + "\n"
        if self._accumulators:
            formatted = []
            for name, value in self._accumulators.items():
                kind = type(value).__name__
                if isinstance(value, (list, tuple, set, frozenset)):
                    formatted.append(f"- {name} ({kind}) [{len(value)} elements]\n")
                else:
                    formatted.append(f"- {name} ({kind}): {value}\n")
            text += "Accumulator Results: \n" + "".join(formatted) + "\n"
        return text

    def __repr__(self) -> str:
        return (
            f"JobExecutionResult(job_id={self._job_id!r}, "
            f"net_runtime_ms={self._net_runtime_ms}, accumulators={self._accumulators!r})"
        )
