"""Why checkpoints fail, and when failures fail the job (Flink's CheckpointFailureReason,
CheckpointException and CheckpointFailureManager).

Only failures that say something about the job's ability to checkpoint count toward
``execution.checkpointing.tolerable-failed-checkpoints`` (expired, declined, I/O and
finalization errors); a checkpoint cancelled because the job fails over, the coordinator shuts
down or a newer checkpoint subsumed it does not, nor do savepoints. A success resets the
count of consecutive failures. More consecutive failures than tolerated fail the job with
Flink's message.

>>> failures = []
>>> manager = CheckpointFailureManager(1, failures.append)
>>> manager.handle_checkpoint_failure(CheckpointFailureReason.CHECKPOINT_EXPIRED, 1)
>>> manager.handle_checkpoint_failure(CheckpointFailureReason.CHECKPOINT_SUBSUMED, 2)
>>> failures
[]
>>> manager.handle_checkpoint_failure(CheckpointFailureReason.CHECKPOINT_DECLINED, 3)
>>> failures
['Exceeded checkpoint tolerable failure threshold.']
"""

from __future__ import annotations

import enum
from typing import Callable, Optional, Set

from flink_py.errors import FlinkPyError

#: Flink's CheckpointFailureManager.EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE
EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE = "Exceeded checkpoint tolerable failure threshold."


class CheckpointFailureReason(enum.Enum):
    """Flink's reasons and messages; ``counts``: toward the tolerable failure number."""

    NOT_ALL_REQUIRED_TASKS_RUNNING = ("Not all required tasks are currently running.", False)
    IO_EXCEPTION = ("An Exception occurred while triggering the checkpoint.", True)
    CHECKPOINT_EXPIRED = ("Checkpoint expired before completing.", True)
    CHECKPOINT_SUBSUMED = ("Checkpoint has been subsumed.", False)
    CHECKPOINT_DECLINED = ("Checkpoint was declined.", True)
    CHECKPOINT_COORDINATOR_SHUTDOWN = ("CheckpointCoordinator shutdown.", False)
    CHECKPOINT_COORDINATOR_SUSPEND = ("Checkpoint Coordinator is suspending.", False)
    JOB_FAILOVER_REGION = ("FailoverRegion is cancelling.", False)
    TRIGGER_CHECKPOINT_FAILURE = ("Trigger checkpoint failure.", False)
    FINALIZE_CHECKPOINT_FAILURE = ("Failure to finalize checkpoint.", True)
    CHECKPOINT_ASYNC_EXCEPTION = ("Asynchronous task checkpoint failed.", True)
    #: a task was not (or no longer) running its input: no fault of the job's checkpoints
    CHECKPOINT_DECLINED_TASK_NOT_READY = ("Checkpoint was declined (tasks not ready)", False)
    CHECKPOINT_DECLINED_TASK_CLOSING = ("Checkpoint was declined (task is closing)", False)
    CHECKPOINT_DECLINED_SUBSUMED = (
        "Checkpoint was canceled because a barrier from newer checkpoint was received.", False)
    CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER = (
        "Task received cancellation from one of its inputs", False)

    def __init__(self, message: str, counts: bool) -> None:
        self.message = message
        self.counts = counts


class CheckpointException(FlinkPyError):
    """A checkpoint or savepoint failed: Flink's message, then what happened."""

    def __init__(self, reason: CheckpointFailureReason, detail: Optional[str] = None) -> None:
        super().__init__(reason.message if not detail else f"{reason.message} {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # travels in a decline: keep the reason
        return (CheckpointException, (self.reason, self.detail))


def failure_reason_of(error: Optional[BaseException]) -> CheckpointFailureReason:
    """The reason a task's decline carries (CHECKPOINT_DECLINED when it names none)."""
    if isinstance(error, CheckpointException):
        return error.reason
    return CheckpointFailureReason.CHECKPOINT_DECLINED


class CheckpointFailureManager:
    """Counts consecutive checkpoint failures; calls ``fail_job`` past the tolerable number."""

    def __init__(self, tolerable_failures: int, fail_job: Callable[[str], None]) -> None:
        if tolerable_failures < 0:
            raise ValueError(
                f"execution.checkpointing.tolerable-failed-checkpoints must be 0 or more, got "
                f"{tolerable_failures}")
        self.tolerable_failures = tolerable_failures
        self._fail_job = fail_job
        self.continuous_failures = 0
        self._counted: Set[int] = set()

    def handle_checkpoint_failure(self, reason: CheckpointFailureReason,
                                  checkpoint_id: int) -> None:
        if not reason.counts or checkpoint_id in self._counted:
            return
        self._counted.add(checkpoint_id)
        self.continuous_failures += 1
        if self.continuous_failures > self.tolerable_failures:
            self._clear()
            self._fail_job(EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE)

    def handle_checkpoint_success(self, checkpoint_id: int) -> None:
        self._clear()

    def _clear(self) -> None:
        self.continuous_failures = 0
        self._counted.clear()
