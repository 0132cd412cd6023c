"""Flink's ``JobStatus``: the states of a job once the dispatcher has accepted it."""

from __future__ import annotations

from enum import Enum

__all__ = ["JobStatus"]

_NON_TERMINAL = "NON_TERMINAL"
_LOCALLY = "LOCALLY"
_GLOBALLY = "GLOBALLY"


class JobStatus(Enum):
    """Possible states of a job once it has been accepted by the dispatcher.

    Members and their terminal kinds are Flink's (``org.apache.flink.api.common.JobStatus``).
    The integer values are PyFlink's (``CREATED = 0`` ... ``RECONCILING = 9``); PyFlink has no
    ``INITIALIZING``, which Java Flink lists first, so it gets the next free value, 10. The REST
    API and the CLI print :attr:`name`.

    Example::

        >>> JobStatus.FINISHED.is_globally_terminal_state()
        True
        >>> suspended = JobStatus.SUSPENDED
        >>> suspended.is_terminal_state(), suspended.is_globally_terminal_state()
        (True, False)
    """

    #: The job has been received by the Dispatcher and waits for its JobMaster to be created.
    INITIALIZING = 10
    #: Job is newly created, no task has started to run.
    CREATED = 0
    #: Some tasks are scheduled or running, some may be pending, some may be finished.
    RUNNING = 1
    #: The job has failed and is currently waiting for the cleanup to complete.
    FAILING = 2
    #: The job has failed with a non-recoverable task failure.
    FAILED = 3
    #: Job is being cancelled.
    CANCELLING = 4
    #: Job has been cancelled.
    CANCELED = 5
    #: All of the job's tasks have successfully finished.
    FINISHED = 6
    #: The job is currently undergoing a reset and total restart.
    RESTARTING = 7
    #: The job was stopped but not removed from a potential HA job store.
    SUSPENDED = 8
    #: The job is reconciling and waits for task execution reports to recover its state.
    RECONCILING = 9

    def is_globally_terminal_state(self) -> bool:
        """Checks whether this state is *globally terminal*.

        A globally terminal job is complete, cannot fail any more and will not be restarted or
        recovered by another standby master node; its recovery data is dropped from the
        high-availability services.

        :return: ``True`` for FAILED, CANCELED and FINISHED.
        """
        return _TERMINAL_KIND[self] == _GLOBALLY

    def is_terminal_state(self) -> bool:
        """Checks whether this state is *locally terminal*.

        Locally terminal refers to the state of a job's execution graph within an executing
        JobManager: the JobManager will not do anything more with the job, but another
        JobManager may pick it up (SUSPENDED). Every globally terminal state is also locally
        terminal.

        :return: ``True`` for FAILED, CANCELED, FINISHED and SUSPENDED.
        """
        return _TERMINAL_KIND[self] != _NON_TERMINAL

    @classmethod
    def from_name(cls, name: str) -> "JobStatus":
        """Parses a status name as the REST API prints it (case-insensitive).

        :param name: e.g. ``"RUNNING"``.
        :return: The matching member.
        :raises ValueError: If ``name`` is not a job status.
        """
        try:
            return cls[name.strip().upper()]
        except KeyError:
            expected = ", ".join(member.name for member in cls)
            raise ValueError(
                f"Unknown job status {name!r}; expected one of {expected}"
            ) from None


_TERMINAL_KIND = {
    JobStatus.INITIALIZING: _NON_TERMINAL,
    JobStatus.CREATED: _NON_TERMINAL,
    JobStatus.RUNNING: _NON_TERMINAL,
    JobStatus.FAILING: _NON_TERMINAL,
    JobStatus.FAILED: _GLOBALLY,
    JobStatus.CANCELLING: _NON_TERMINAL,
    JobStatus.CANCELED: _GLOBALLY,
    JobStatus.FINISHED: _GLOBALLY,
    JobStatus.RESTARTING: _NON_TERMINAL,
    JobStatus.SUSPENDED: _LOCALLY,
    JobStatus.RECONCILING: _NON_TERMINAL,
}
