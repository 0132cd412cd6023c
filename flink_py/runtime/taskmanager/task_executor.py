"""TaskExecutor: runs the subtasks deployed to this TaskManager's slots.

It builds the process's services once (``TaskManagerServices``: configuration, result
partitions, checkpoint stream factories) and hands each task an ``Environment``. Besides
deploying and cancelling it plays the ``TaskExecutorCheckpointGateway`` role: checkpoint
triggers, confirmations and aborts are routed to the task, whose acknowledgements go to the
JobMaster it was submitted by (or to ``checkpoint_responder`` if one is set).

A task whose thread does not end within ``task.cancellation.timeout`` after cancel() is a fatal
error: ``on_fatal_error`` (the slot worker exits, so that its TaskManager restarts it) or, in
the MiniCluster, the task is reported FAILED so that the job can end.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.common.configuration import Configuration
from flink_py.graph.ids import ExecutionAttemptID, ResourceID
from flink_py.runtime.checkpoint.gateways import CheckpointCoordinatorGateway
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.execution.environment import Environment, TaskManagerServices
from flink_py.runtime.network.local import ResultPartitionManager
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor
from flink_py.runtime.taskmanager.python_environment import (
    PYTHON_ENVIRONMENTS, has_python_dependencies)
from flink_py.runtime.taskmanager.user_code import UserCodeLoader
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.tasks.stream_task import StreamTask

log = logging.getLogger(__name__)

Task = StreamTask

#: what a TaskExecutor calls when a task cannot be stopped: (task, message)
FatalErrorHandler = Callable[[StreamTask, str], None]


class TaskExecutor:
    """Deploys, cancels and reports tasks; owns the local result partitions."""

    def __init__(self, num_slots: int, network_buffers_per_channel: int = 10,
                 resource_id: Optional[ResourceID] = None, local_handoff: bool = True,
                 user_code_loader: Optional[UserCodeLoader] = None,
                 partitions: Optional[ResultPartitionManager] = None,
                 configuration: Optional[Configuration] = None,
                 on_fatal_error: Optional[FatalErrorHandler] = None,
                 services: Optional[TaskManagerServices] = None) -> None:
        self.resource_id = resource_id or ResourceID()
        #: in a slot worker: makes shipped user code importable (None in the MiniCluster,
        #: whose tasks run in the program's own process)
        self.user_code_loader = user_code_loader
        self.num_slots = num_slots
        # TaskExecutors of one process share their services (``services``, or built here),
        # above all the partitions: their tasks exchange locally.
        self.services = services if services is not None else TaskManagerServices(
            partitions if partitions is not None else ResultPartitionManager(
                network_buffers_per_channel, local_handoff),
            configuration if configuration is not None else Configuration(),
            working_dir=None if user_code_loader is None else user_code_loader.work_dir)
        self.partitions = self.services.partitions
        #: receives every task's acknowledgements instead of its JobMaster (tests, embedding)
        self.checkpoint_responder: Optional[CheckpointCoordinatorGateway] = None
        self.on_fatal_error = on_fatal_error
        self._lock = threading.Lock()
        self._tasks: Dict[ExecutionAttemptID, StreamTask] = {}

    def submit_task(self, tdd: TaskDeploymentDescriptor, job_master: Any) -> None:
        """Starts the subtask on its own thread; its states go to ``job_master``."""

        # the job's python.files/requirements/archives, held while this task runs
        python_environment = threading.Event() if has_python_dependencies(
            tdd.job_configuration) else None

        def report(task: StreamTask, state: ExecutionState,
                   error: Optional[SerializedError]) -> None:
            if state.is_terminal:
                with self._lock:
                    self._tasks.pop(task.attempt_id, None)
                if python_environment is not None and python_environment.is_set():
                    python_environment.clear()
                    PYTHON_ENVIRONMENTS.close(tdd.job_id)
            job_master.update_task_execution_state(task.attempt_id, state, error)

        loader = self.user_code_loader
        fetched: List[Dict[str, bytes]] = []

        def fetch_artifacts() -> Dict[str, bytes]:
            # one request for both: the code and the Python dependencies of the job
            if not fetched:
                fetched.append(job_master.request_user_artifacts())
            return fetched[0]

        def load_user_code() -> None:
            if loader is not None:
                loader.prepare(tdd.job_id, fetch_artifacts)
            if python_environment is not None:
                PYTHON_ENVIRONMENTS.open(tdd.job_id, fetch_artifacts)
                python_environment.set()
            fetched.clear()
        responder = self.checkpoint_responder
        if responder is None and hasattr(job_master, "acknowledge_checkpoint") and \
                hasattr(job_master, "decline_checkpoint"):
            responder = job_master
        environment = Environment(tdd, self.services, responder,
                                  job_master.operator_event_gateway(tdd.job_id),
                                  load_user_code if loader is not None
                                  or python_environment is not None else None)
        task = StreamTask(environment, report)
        with self._lock:
            self._tasks[tdd.attempt_id] = task
        task.start()

    def _task(self, attempt_id: ExecutionAttemptID) -> Optional[StreamTask]:
        with self._lock:
            return self._tasks.get(attempt_id)

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        task = self._task(attempt_id)
        if task is not None:
            task.cancel()
            self._watch_cancellation(task)

    def _watch_cancellation(self, task: StreamTask) -> None:
        """Applies ``task.cancellation.timeout`` (0: wait for ever)."""
        timeout_s = self.services.cancellation_timeout_s(task.tdd.job_configuration)
        if timeout_s <= 0:
            return

        def watch() -> None:
            if task.join(timeout_s):
                return
            message = (f"task {task.tdd.task_name_with_subtask} did not stop within "
                       f"{timeout_s:g} s after cancel() (task.cancellation.timeout)")
            task.fail_cancellation(timeout_s)
            with self._lock:
                self._tasks.pop(task.attempt_id, None)
            if self.on_fatal_error is not None:
                self.on_fatal_error(task, message)

        threading.Thread(target=watch, daemon=True,
                         name=f"Cancellation watchdog of {task.tdd.task_name_with_subtask}"
                         ).start()

    # -- TaskExecutorCheckpointGateway ----------------------------------------------------------

    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: CheckpointOptions) -> None:
        """Starts checkpoint ``checkpoint_id`` at a source task (declined if it cannot)."""
        task = self._task(attempt_id)
        if task is None:
            log.info("checkpoint %d: no task %s here (it ended)", checkpoint_id, attempt_id)
            return
        task.trigger_checkpoint(checkpoint_id, timestamp, options)

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        task = self._task(attempt_id)
        if task is not None:
            task.notify_checkpoint_complete(checkpoint_id)

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        task = self._task(attempt_id)
        if task is not None:
            task.notify_checkpoint_aborted(checkpoint_id)

    # -- lifecycle -----------------------------------------------------------------------------

    def release_job_partitions(self, job_id: str) -> None:
        self.partitions.release_job(job_id)

    def release_partitions(self, job_id: str, partitions: List[Tuple[str, int]]) -> None:
        """Releases the partitions ``(result id, producer subtask)`` of a restarted region."""
        self.partitions.release_partitions(job_id, partitions)

    def heartbeat_from_resource_manager(self, resource_id: str,
                                        timeout_s: Optional[float] = None) -> None:
        """The ResourceManager's heartbeat request: answering it is the proof of life
        (registration and slot reports go the other way, with the TaskManager's heartbeats)."""

    def cancel_all_tasks(self, reason: str) -> int:
        """Cancels every task (their JobManager is gone); returns how many there were."""
        tasks = self.running_tasks()
        if tasks:
            log.warning("cancelling %d task(s): %s", len(tasks), reason)
        for task in tasks:
            task.cancel()
        return len(tasks)

    def running_tasks(self) -> List[StreamTask]:
        with self._lock:
            return list(self._tasks.values())

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Cancels every task and waits for their threads to end."""
        tasks = self.running_tasks()
        for task in tasks:
            task.cancel()
        for task in tasks:
            task.join(timeout_s)
