"""A task's Environment and the per-process services it is built from.

Flink hands every task an ``Environment``: its deployment, the services of its TaskManager
(configuration, network, state backends, checkpoint storage, metrics), the gateways it reports
to and the user-code class loader. Settings reach a task from here, once, instead of being
threaded through constructors.

``TaskManagerServices`` are built once per process (TaskExecutor, MiniCluster, slot worker);
``Environment`` once per task attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.runtime.checkpoint.gateways import CheckpointCoordinatorGateway
from flink_py.runtime.network.local import ResultPartitionManager
from flink_py.runtime.state.checkpoint_streams import CheckpointStreamFactory
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor

__all__ = ["CheckpointStreamFactoryProvider", "Environment", "TaskManagerServices",
           "storage_stream_factory_provider"]

#: (job id, checkpoint id, the barrier's CheckpointOptions, the job's configuration) -> the
#: factory of that checkpoint's streams
CheckpointStreamFactoryProvider = Callable[[str, int, Any, Dict[str, str]],
                                           CheckpointStreamFactory]


def storage_stream_factory_provider(job_id: str, checkpoint_id: int, checkpoint_options: Any,
                                    job_configuration: Dict[str, str]
                                    ) -> CheckpointStreamFactory:
    """The job's configured checkpoint storage (``jobmanager`` or ``filesystem``), as the
    task's side of it sees one checkpoint: rebuilt from the job's configuration, which the
    JobMaster layers over the cluster's before deploying."""
    from flink_py.runtime.checkpoint.storage import create_checkpoint_storage_worker
    worker = create_checkpoint_storage_worker(job_id, job_configuration)
    return worker.resolve_checkpoint_storage_location(checkpoint_id, checkpoint_options)


@dataclass
class TaskManagerServices:
    """What every task of one process shares (built once per TaskExecutor process)."""

    partitions: ResultPartitionManager
    #: the process's configuration (Flink keys)
    configuration: Configuration = field(default_factory=Configuration)
    #: where checkpoint streams go: the job's configured checkpoint storage
    stream_factory_provider: CheckpointStreamFactoryProvider = storage_stream_factory_provider
    #: where tasks keep local files (RocksDB instances): the slot worker's working
    #: directory; None: the system's temporary directory
    working_dir: Optional[str] = None

    def cancellation_timeout_s(self, job_configuration: Dict[str, str]) -> float:
        """``task.cancellation.timeout`` of a job (its own setting first), in seconds; 0 off."""
        merged = Configuration(self.configuration)
        for key, value in job_configuration.items():
            merged.set_string(key, value)
        return merged.get(options.TASK_CANCELLATION_TIMEOUT) / 1000.0


@dataclass
class Environment:
    """Everything one task attempt gets from its TaskExecutor."""

    deployment: TaskDeploymentDescriptor
    services: TaskManagerServices
    #: where acknowledgements and declines go (None: checkpoints are declined as unsupported)
    checkpoint_responder: Optional[CheckpointCoordinatorGateway] = None
    operator_event_gateway: Any = None
    #: makes the job's shipped modules importable before the chain is deserialized
    load_user_code: Optional[Callable[[], None]] = None

    @property
    def partitions(self) -> ResultPartitionManager:
        return self.services.partitions

    def stream_factory(self, checkpoint_id: int,
                       checkpoint_options: Any) -> CheckpointStreamFactory:
        """The checkpoint stream factory of one checkpoint (or savepoint) of this task."""
        tdd = self.deployment
        return self.services.stream_factory_provider(tdd.job_id, checkpoint_id,
                                                     checkpoint_options,
                                                     tdd.job_configuration)

    def job_option(self, option: Any) -> Any:
        """An option of the job's configuration (falling back to the process's)."""
        merged = Configuration(self.services.configuration)
        for key, value in self.deployment.job_configuration.items():
            merged.set_string(key, value)
        return merged.get(option)
