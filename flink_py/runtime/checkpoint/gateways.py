"""The checkpoint roles of the gateways (Flink's CheckpointCoordinatorGateway and the
checkpoint part of TaskExecutorGateway).

The full JobMaster and TaskExecutor gateway Protocols include these; the checkpoint path
sees only them. Every implementation (in-process and gRPC) only enqueues and returns.
"""

from __future__ import annotations

from typing import Optional, Protocol

from flink_py.graph.ids import ExecutionAttemptID
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.state.handles import TaskStateSnapshot


class CheckpointMetrics:
    """What a task measured about its part of a checkpoint (ms and bytes)."""

    __slots__ = ("alignment_duration_ms", "sync_duration_ms", "async_duration_ms",
                 "bytes_persisted", "unaligned")

    def __init__(self, alignment_duration_ms: int = 0, sync_duration_ms: int = 0,
                 async_duration_ms: int = 0, bytes_persisted: int = 0,
                 unaligned: bool = False) -> None:
        self.alignment_duration_ms = alignment_duration_ms
        self.sync_duration_ms = sync_duration_ms
        self.async_duration_ms = async_duration_ms
        self.bytes_persisted = bytes_persisted
        self.unaligned = unaligned

    def __reduce__(self):
        return (CheckpointMetrics, (self.alignment_duration_ms, self.sync_duration_ms,
                                    self.async_duration_ms, self.bytes_persisted,
                                    self.unaligned))


class CheckpointCoordinatorGateway(Protocol):
    """Task -> JobMaster: a task's part of a checkpoint is done, or it cannot take part."""

    def acknowledge_checkpoint(self, job_id: str, attempt_id: ExecutionAttemptID,
                               checkpoint_id: int, metrics: CheckpointMetrics,
                               subtask_state: Optional[TaskStateSnapshot]) -> None:
        ...

    def decline_checkpoint(self, job_id: str, attempt_id: ExecutionAttemptID,
                           checkpoint_id: int, reason: SerializedError) -> None:
        ...


class TaskExecutorCheckpointGateway(Protocol):
    """JobMaster -> TaskExecutor: trigger a source task's checkpoint; tell every task how a
    checkpoint ended."""

    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: CheckpointOptions) -> None:
        ...

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        """notify_checkpoint_complete for every operator of the task."""
        ...

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        """notify_checkpoint_aborted for every operator of the task."""
        ...
