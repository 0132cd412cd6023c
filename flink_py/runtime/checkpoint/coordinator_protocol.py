"""The CheckpointCoordinator as the JobMaster sees it, and what it sees of the job.

The coordinator is a main-thread component of the JobMaster: every method here is called on
the JobMaster's main thread (a ``MainThreadExecutor``), and the coordinator's timers
(the periodic trigger, checkpoint timeouts) are scheduled on that same executor. It learns
which tasks to trigger, wait for and notify from ``tasks()``, a callable the JobMaster
provides that lists the current attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Protocol, Tuple

from flink_py.graph.ids import ExecutionAttemptID, JobVertexID
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics, TaskExecutorCheckpointGateway
from flink_py.runtime.checkpoint.state_assignment import RestoredVertex
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.state.handles import JobManagerTaskRestore, TaskStateSnapshot


@dataclass(frozen=True)
class CheckpointTask:
    """One current attempt, as the coordinator needs it."""

    attempt_id: ExecutionAttemptID
    vertex_id: JobVertexID
    subtask_index: int
    #: sources (tasks with no inputs) are the ones triggered; the others get barriers
    is_source: bool
    state: ExecutionState
    gateway: TaskExecutorCheckpointGateway


#: ``(savepoint path, None)`` when a savepoint completed, ``(None, error)`` when it failed
SavepointCallback = Callable[[Optional[str], Optional[SerializedError]], None]


class CheckpointCoordinatorProtocol(Protocol):
    """What the JobMaster calls (on its main thread)."""

    #: the job's vertices as the coordinator records them in checkpoints
    vertices: List[RestoredVertex]

    def start_checkpoint_scheduler(self) -> None:
        """All tasks run: trigger every interval from now on."""
        ...

    def stop_checkpoint_scheduler(self) -> None:
        """The job fails over or ends: no more periodic triggers."""
        ...

    def abort_pending_checkpoints(self, reason: str) -> None:
        ...

    def receive_acknowledge_message(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                                    metrics: CheckpointMetrics,
                                    subtask_state: Optional[TaskStateSnapshot]) -> None:
        ...

    def receive_decline_message(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                                reason: SerializedError) -> None:
        ...

    def trigger_savepoint(self, target_directory: Optional[str],
                          on_done: SavepointCallback) -> None:
        ...

    def trigger_synchronous_savepoint(self, target_directory: Optional[str], terminate: bool,
                                      on_done: SavepointCallback) -> None:
        """A stop-with-savepoint's savepoint (``terminate``: with ``--drain``)."""
        ...

    def restore_latest_checkpointed_state(
            self, vertices: List[RestoredVertex]
    ) -> Optional[Dict[Tuple[JobVertexID, int], JobManagerTaskRestore]]:
        """The latest completed checkpoint's state per subtask; None if there is none.
        After a restore, ``vertices`` has the max parallelism to deploy each vertex with
        (adopted from the checkpoint where it was not configured)."""
        ...

    def shutdown(self, job_status_name: str) -> None:
        """The job reached a terminal status: discard or keep checkpoints as configured."""
        ...


#: how the coordinator lists the job's current attempts
TasksProvider = Callable[[], List[CheckpointTask]]
#: how the coordinator fails the job (tolerable checkpoint failures exceeded)
FailJob = Callable[[str], None]
