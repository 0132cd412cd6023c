"""The gateways between the runtime's endpoints, as ``typing.Protocol``s (Flink's
ResourceManagerGateway, JobMasterGateway, TaskExecutorGateway).

Each has an in-process implementation (the endpoint object itself: ``JobMaster``,
``TaskExecutor``, ``ResourceManagerEndpoint``; the MiniCluster uses the first two) and a gRPC
one (``flink_py.rpc.gateways``: a ``Remote*Gateway`` client and a servicer that adapts the wire to the endpoint). Both are
checked by one contract test (tests/unit/rpc/test_gateway_contract.py). Every
implementation only enqueues and returns: the work happens on the endpoint's own threads.
The checkpoint roles are the contracts of ``flink_py.runtime.checkpoint.gateways``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Protocol, Tuple

from flink_py.graph.ids import ExecutionAttemptID
from flink_py.runtime.checkpoint.gateways import (
    CheckpointCoordinatorGateway, TaskExecutorCheckpointGateway)
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.resourcemanager.registration import (
    RegistrationResponse, TaskExecutorRegistration)


class OperatorEventGateway(Protocol):
    """Task -> its job's operator coordinators: the collect sink's buffers, the watermark
    alignment groups."""

    def send_collect_batch(self, collect_id: str, values: list) -> None:
        ...

    def send_collect_end(self, collect_id: str) -> None:
        ...

    def report_watermark(self, watermark_group: str, reporter: Tuple[str, int],
                         watermark: int) -> int:
        """A source's current watermark in its alignment group (``Long.MAX_VALUE`` when
        idle or finished); returns the group's combined (smallest) watermark."""
        ...


class JobMasterGateway(CheckpointCoordinatorGateway, Protocol):
    """Task/TaskExecutor -> JobMaster."""

    def update_task_execution_state(self, attempt_id: ExecutionAttemptID,
                                    state: ExecutionState,
                                    error: SerializedError | None = None) -> None:
        ...

    def request_user_artifacts(self) -> Dict[str, bytes]:
        """The job's shipped files (name -> zip archive)."""
        ...

    def operator_event_gateway(self, job_id: str) -> OperatorEventGateway:
        ...


class TaskExecutorGateway(TaskExecutorCheckpointGateway, Protocol):
    """JobMaster -> the TaskExecutor of one slot (a slot worker, or the in-process one)."""

    def submit_task(self, tdd: Any, job_master: JobMasterGateway) -> None:
        ...

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        ...

    def release_job_partitions(self, job_id: str) -> None:
        ...

    def release_partitions(self, job_id: str, partitions: List[Tuple[str, int]]) -> None:
        """Releases the partitions ``(result id, producer subtask)`` of a restarted region."""
        ...

    def cancel_all_tasks(self, reason: str) -> Any:
        """Cancels every task (the TaskManager lost its JobManager)."""
        ...

    def heartbeat_from_resource_manager(self, resource_id: str,
                                        timeout_s: float | None = None) -> None:
        """The ResourceManager's heartbeat request (``heartbeat.rpc-failure-threshold``
        counts the calls that do not reach the worker)."""
        ...


class ResourceManagerGateway(Protocol):
    """TaskManager -> ResourceManager: registration, heartbeats (which answer whether the
    TaskManager is still known: an unknown or suspect one registers again), lost slots."""

    def register(self, registration: TaskExecutorRegistration) -> RegistrationResponse:
        ...

    def heartbeat(self, resource_id: str) -> bool:
        ...

    def report_slot_lost(self, resource_id: str, slot_index: int, reason: str) -> None:
        ...

    def disconnect(self, resource_id: str, reason: str) -> None:
        ...
