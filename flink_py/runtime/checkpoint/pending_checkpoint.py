"""A checkpoint that was triggered and waits for every task's acknowledgement (Flink's
PendingCheckpoint).

Pure bookkeeping, no I/O except in ``discard``: the coordinator creates one per trigger,
feeds it acknowledgements, and either finalizes it into a :class:`CompletedCheckpoint` or
aborts it. Acknowledged snapshots are collected per operator into ``OperatorState``s (every
operator of the job gets one, with or without state, so that ``_metadata`` lists them all).
"""

from __future__ import annotations

import enum
from typing import Callable, Dict, List, Optional

from flink_py.graph.ids import ExecutionAttemptID, JobVertexID, OperatorID
from flink_py.runtime.checkpoint.completed_checkpoint_store import (
    CompletedCheckpoint, SharedStateRegistry, shared_handles)
from flink_py.runtime.checkpoint.coordinator_protocol import CheckpointTask, SavepointCallback
from flink_py.runtime.checkpoint.metadata import OperatorState
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.checkpoint.state_assignment import RestoredVertex
from flink_py.runtime.checkpoint.storage import CheckpointStorageLocation
from flink_py.runtime.concurrent.main_thread_executor import ScheduledMail
from flink_py.runtime.state.handles import OperatorSubtaskState, TaskStateSnapshot


class TaskAcknowledgeResult(enum.Enum):
    """Flink's PendingCheckpoint.TaskAcknowledgeResult."""

    SUCCESS = "SUCCESS"
    DUPLICATE = "DUPLICATE"
    UNKNOWN = "UNKNOWN"
    DISCARDED = "DISCARDED"


class PendingCheckpoint:
    """One checkpoint in flight."""

    def __init__(self, job_id: str, checkpoint_id: int, timestamp: int,
                 options: CheckpointOptions, location: CheckpointStorageLocation,
                 tasks_to_acknowledge: List[CheckpointTask], vertices: List[RestoredVertex],
                 on_savepoint_done: Optional[SavepointCallback] = None) -> None:
        self.job_id = job_id
        self.checkpoint_id = checkpoint_id
        self.timestamp = timestamp
        self.options = options
        self.location = location
        self.on_savepoint_done = on_savepoint_done
        self.tasks: Dict[ExecutionAttemptID, CheckpointTask] = {
            task.attempt_id: task for task in tasks_to_acknowledge}
        self._not_yet_acknowledged = set(self.tasks)
        self.acknowledged: Dict[ExecutionAttemptID, Optional[TaskStateSnapshot]] = {}
        self.operator_states: Dict[OperatorID, OperatorState] = {}
        self._vertices: Dict[JobVertexID, RestoredVertex] = {v.vertex_id: v for v in vertices}
        for vertex in vertices:
            for operator_id in vertex.operator_ids:
                self.operator_states[operator_id] = OperatorState(
                    operator_id, vertex.parallelism, vertex.max_parallelism)
        self.timeout_mail: Optional[ScheduledMail] = None
        self.disposed = False

    @property
    def is_savepoint(self) -> bool:
        return self.options.checkpoint_type.is_savepoint

    @property
    def number_of_tasks(self) -> int:
        return len(self.tasks)

    @property
    def number_of_acknowledged_tasks(self) -> int:
        return len(self.acknowledged)

    def is_fully_acknowledged(self) -> bool:
        return not self._not_yet_acknowledged and not self.disposed

    def acknowledge_task(self, attempt_id: ExecutionAttemptID,
                         snapshot: Optional[TaskStateSnapshot]) -> TaskAcknowledgeResult:
        """Records a task's snapshot."""
        if self.disposed:
            return TaskAcknowledgeResult.DISCARDED
        if attempt_id not in self.tasks:
            return TaskAcknowledgeResult.UNKNOWN
        if attempt_id not in self._not_yet_acknowledged:
            return TaskAcknowledgeResult.DUPLICATE
        self._not_yet_acknowledged.discard(attempt_id)
        self.acknowledged[attempt_id] = snapshot
        if snapshot is not None:
            subtask_index = self.tasks[attempt_id].subtask_index
            for operator_id, subtask_state in snapshot.subtask_state_by_operator.items():
                operator_state = self.operator_states.get(operator_id)
                if operator_state is None:
                    # an operator the coordinator was not told about: keep its state anyway,
                    # with the parallelism of the vertex of the task that sent it
                    vertex = self._vertices[self.tasks[attempt_id].vertex_id]
                    operator_state = OperatorState(operator_id, vertex.parallelism,
                                                   vertex.max_parallelism)
                    self.operator_states[operator_id] = operator_state
                operator_state.subtask_states[subtask_index] = subtask_state
        return TaskAcknowledgeResult.SUCCESS

    def finalize(self, completion_timestamp: int) -> CompletedCheckpoint:
        """The completed checkpoint (``_metadata`` is the coordinator's to write first)."""
        if not self.is_fully_acknowledged():
            raise AssertionError(
                f"checkpoint {self.checkpoint_id} finalized with "
                f"{len(self._not_yet_acknowledged)} tasks not acknowledged")
        self.disposed = True
        self._cancel_timeout()
        return CompletedCheckpoint(
            self.job_id, self.checkpoint_id, self.timestamp, completion_timestamp,
            list(self.operator_states.values()), self.is_savepoint,
            self.location.directory, self.location)

    def abort(self) -> None:
        """Marks it disposed; the state is the caller's to ``discard`` (on the I/O thread)."""
        self.disposed = True
        self._cancel_timeout()

    def _cancel_timeout(self) -> None:
        if self.timeout_mail is not None:
            self.timeout_mail.cancel()
            self.timeout_mail = None

    def acknowledged_subtask_states(self) -> List[OperatorSubtaskState]:
        return [s for state in self.operator_states.values()
                for s in state.subtask_states.values()]

    def discard_work(self, registry: SharedStateRegistry) -> Callable[[], None]:
        """What deletes the files the acknowledged tasks wrote: exclusive files, shared files
        that no completed checkpoint refers to, and the checkpoint's directory.

        Decided now (the registry belongs to the main thread), run later on the I/O thread.
        """
        subtask_states = self.acknowledged_subtask_states()
        unregistered = [handle for subtask_state in subtask_states
                        for handle in shared_handles(subtask_state)
                        if not registry.is_registered(handle)]
        location = self.location

        def discard() -> None:
            for handle in unregistered:
                handle.discard_state()
            for subtask_state in subtask_states:
                subtask_state.discard_state()
            location.dispose()

        return discard
