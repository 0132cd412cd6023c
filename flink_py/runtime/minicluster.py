"""MiniCluster: the JobManager's and TaskManagers' components in one process.

``env.execute()`` in a plain ``python job.py`` runs here: the same Dispatcher, JobMaster,
ResourceManager and TaskExecutor code as the distributed cluster, with in-process gateways.
"""

from __future__ import annotations

from typing import List

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.runtime.dispatcher.dispatcher import Dispatcher
from flink_py.runtime.execution.environment import TaskManagerServices
from flink_py.runtime.network.local import ResultPartitionManager
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager
from flink_py.runtime.taskmanager.task_executor import TaskExecutor


class MiniCluster:
    """A whole cluster in this process: one ResourceManager, Dispatcher and N TaskExecutors."""

    def __init__(self, num_task_managers: int = 1, slots_per_task_manager: int = 1,
                 records_per_buffer: int = 1024, network_buffers_per_channel: int = 10,
                 slot_request_timeout_s: float = 10.0, local_handoff: bool = True) -> None:
        self.resource_manager = ResourceManager()
        self.dispatcher = Dispatcher(self.resource_manager, slot_request_timeout_s)
        self.task_executors: List[TaskExecutor] = []
        # One process, one set of per-process services: every TaskExecutor's tasks exchange
        # data through the same partitions.
        # records_per_buffer is the TaskManagers' setting, under each job's own
        configuration = Configuration()
        configuration.set(options.NETWORK_RECORDS_PER_BUFFER, records_per_buffer)
        self.services = TaskManagerServices(
            ResultPartitionManager(network_buffers_per_channel, local_handoff), configuration)
        for _ in range(num_task_managers):
            te = TaskExecutor(slots_per_task_manager, network_buffers_per_channel,
                              local_handoff=local_handoff, services=self.services)
            self.resource_manager.register_task_executor(te.resource_id, te, te.num_slots)
            self.task_executors.append(te)

    def close(self, timeout_s: float = 10.0) -> None:
        """Cancels whatever still runs and waits for the task threads to end."""
        for master in self.dispatcher.list_jobs():
            if not master.is_terminal:
                master.cancel()
                master.wait_for_termination(timeout_s)
        for te in self.task_executors:
            te.shutdown(timeout_s)

    def __enter__(self) -> "MiniCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
