"""TaskExecutor: runs the subtasks deployed to this TaskManager's slots."""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List, Optional, Tuple

from flink_py.graph.ids import ExecutionAttemptID, ResourceID
from flink_py.runtime.network.local import ResultPartitionManager
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor
from flink_py.runtime.taskmanager.user_code import UserCodeLoader
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.tasks.task import Task

log = logging.getLogger(__name__)


class TaskExecutor:
    """Deploys, cancels and reports tasks; owns the local result partitions.

    ``job_master_gateways`` maps a job id to the JobMaster gateway that receives its task state
    updates and operator events.
    """

    def __init__(self, num_slots: int, network_buffers_per_channel: int = 10,
                 resource_id: Optional[ResourceID] = None, local_handoff: bool = True,
                 user_code_loader: Optional[UserCodeLoader] = None,
                 partitions: Optional[ResultPartitionManager] = None) -> None:
        self.resource_id = resource_id or ResourceID()
        #: in a slot worker: makes shipped user code importable (None in the MiniCluster,
        #: whose tasks run in the program's own process)
        self.user_code_loader = user_code_loader
        self.num_slots = num_slots
        # TaskExecutors of one process share their partitions: their tasks exchange locally.
        self.partitions = partitions if partitions is not None else ResultPartitionManager(
            network_buffers_per_channel, local_handoff)
        self._lock = threading.Lock()
        self._tasks: Dict[ExecutionAttemptID, Task] = {}

    def submit_task(self, tdd: TaskDeploymentDescriptor, job_master: Any) -> None:
        """Starts the subtask on its own thread; its states go to ``job_master``."""

        def report(task: Task, state: ExecutionState, error: Optional[SerializedError]) -> None:
            if state.is_terminal:
                with self._lock:
                    self._tasks.pop(task.attempt_id, None)
            job_master.update_task_execution_state(task.attempt_id, state, error)

        loader = self.user_code_loader
        load_user_code = None if loader is None else (
            lambda: loader.prepare(tdd.job_id, job_master.request_user_artifacts))
        task = Task(tdd, self.partitions, report, job_master.operator_event_gateway(tdd.job_id),
                    load_user_code)
        with self._lock:
            self._tasks[tdd.attempt_id] = task
        task.start()

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        with self._lock:
            task = self._tasks.get(attempt_id)
        if task is not None:
            task.cancel()

    def release_job_partitions(self, job_id: str) -> None:
        self.partitions.release_job(job_id)

    def release_partitions(self, job_id: str, partitions: List[Tuple[str, int]]) -> None:
        """Releases the partitions ``(result id, producer subtask)`` of a restarted region."""
        self.partitions.release_partitions(job_id, partitions)

    def cancel_all_tasks(self, reason: str) -> int:
        """Cancels every task (their JobManager is gone); returns how many there were."""
        tasks = self.running_tasks()
        if tasks:
            log.warning("cancelling %d task(s): %s", len(tasks), reason)
        for task in tasks:
            task.cancel()
        return len(tasks)

    # The checkpoint role (TaskExecutorCheckpointGateway). Stubs: the task slice implements
    # the in-process routing to the task's mailbox.
    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: Any) -> None:
        raise NotImplementedError("TaskExecutor.trigger_checkpoint (task slice)")

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        raise NotImplementedError("TaskExecutor.confirm_checkpoint (task slice)")

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        raise NotImplementedError("TaskExecutor.abort_checkpoint (task slice)")

    def running_tasks(self) -> List[Task]:
        with self._lock:
            return list(self._tasks.values())

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Cancels every task and waits for their threads to end."""
        tasks = self.running_tasks()
        for task in tasks:
            task.cancel()
        for task in tasks:
            task.join(timeout_s)
