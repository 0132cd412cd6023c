"""When a stop-with-savepoint is done (Flink's StopWithSavepointTerminationHandlerImpl).

Pure state, no I/O: the JobMaster feeds it the savepoint's outcome and the terminal states of
the attempts that ran when the stop began, and it says what follows. The stop succeeds
with the savepoint's path once the savepoint completed *and* every one of those attempts is
FINISHED. A failed savepoint fails the stop (the JobMaster restarts the periodic checkpoints
and the job runs on). A completed savepoint with an attempt that ended otherwise fails the
stop with Flink's message, and the JobMaster fails the job over globally.

>>> handler = StopWithSavepointTermination("j1", 2)
>>> handler.on_savepoint_created("/sp/savepoint-1")
>>> handler.on_executions_terminated(["FINISHED", "FINISHED"])
>>> handler.outcome
StopOutcome(path='/sp/savepoint-1', failure=None, global_failover=False)
>>> handler = StopWithSavepointTermination("j1", 2)
>>> handler.on_savepoint_created("/sp/savepoint-1")
>>> handler.on_executions_terminated(["FINISHED", "FAILED"])
>>> handler.outcome.global_failover
True
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, Optional

__all__ = ["StopOutcome", "StopWithSavepointTermination", "inconsistent_state_message"]


def inconsistent_state_message(not_finished_states: Iterable[str], job_id: str) -> str:
    """Flink's message when a savepoint was taken but the job did not end FINISHED."""
    return (f"Inconsistent execution state after stopping with savepoint. At least one "
            f"execution is still in one of the following states: "
            f"{', '.join(sorted(set(not_finished_states)))}. A global fail-over is triggered "
            f"to recover the job {job_id}.")


@dataclass(frozen=True)
class StopOutcome:
    """How a stop ended: the savepoint's path, or a failure (and whether to fail over)."""

    path: Optional[str]
    failure: Optional[str]
    global_failover: bool = False


class _State(enum.Enum):
    WAITING_FOR_SAVEPOINT = "WaitingForSavepoint"
    SAVEPOINT_CREATED = "SavepointCreated"
    FINAL = "FinalState"


class StopWithSavepointTermination:
    """One stop-with-savepoint of job ``job_id`` with ``num_executions`` attempts."""

    def __init__(self, job_id: str, num_executions: int) -> None:
        self.job_id = job_id
        self.num_executions = num_executions
        self._state = _State.WAITING_FOR_SAVEPOINT
        self._path: Optional[str] = None
        #: set once the stop ended
        self.outcome: Optional[StopOutcome] = None

    @property
    def savepoint_created(self) -> bool:
        return self._state is _State.SAVEPOINT_CREATED

    @property
    def done(self) -> bool:
        return self._state is _State.FINAL

    def on_savepoint_created(self, path: str) -> None:
        if self._state is _State.WAITING_FOR_SAVEPOINT:
            self._path = path
            self._state = _State.SAVEPOINT_CREATED

    def on_savepoint_failed(self, message: str) -> None:
        """The savepoint failed: the stop fails, the job runs on."""
        if self._state is _State.WAITING_FOR_SAVEPOINT:
            self._state = _State.FINAL
            self.outcome = StopOutcome(None, message)

    def on_executions_terminated(self, states: Iterable[str]) -> None:
        """Every attempt of the stop is terminal, in ``states`` (ExecutionState names)."""
        if self._state is not _State.SAVEPOINT_CREATED:
            return  # still waiting for the savepoint (its abort is on its way), or done
        not_finished = [s for s in states if s != "FINISHED"]
        self._state = _State.FINAL
        if not_finished:
            self.outcome = StopOutcome(None, inconsistent_state_message(not_finished,
                                                                        self.job_id), True)
        else:
            self.outcome = StopOutcome(self._path, None)
