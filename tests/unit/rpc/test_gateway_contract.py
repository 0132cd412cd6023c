"""One contract for each gateway, run over its in-process and its gRPC implementation.

TaskExecutor: the JobMaster's calls reach the TaskExecutor with the same arguments whether it
holds the object or a RemoteTaskExecutorGateway to a servicer in front of it (the endpoint is
an in-process fake of the Protocol that records calls). JobMaster: a task's checkpoint
acknowledgements and declines reach the JobMaster's CheckpointCoordinator (a fake of
CheckpointCoordinatorProtocol) on its main thread, directly or through JobMasterServicer; a
source's watermark report gets its alignment group's watermark back either way.
ResourceManager: a TaskManager's registration, heartbeats, lost slots and disconnection reach a
real ResourceManager alike through the in-process ResourceManagerEndpoint and over gRPC.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator, List, Optional, Tuple

import pytest

from flink_py.common.checkpointing_mode import CheckpointingMode
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.graph.ids import ExecutionAttemptID, OperatorID, ResourceID
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import (
    JobMasterServicer, RemoteJobMasterGateway, RemoteResourceManagerGateway,
    RemoteTaskExecutorGateway, ResourceManagerServicer, TaskExecutorServicer, start_server)
from flink_py.rpc.protocols import JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.dispatcher.dispatcher import Dispatcher
from flink_py.runtime.execution.errors import SerializedError
from flink_py.runtime.resourcemanager.registration import (
    RegistrationResponse, ResourceManagerEndpoint, SlotRegistration, TaskExecutorRegistration)
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager
from flink_py.runtime.state.handles import (
    ByteStreamStateHandle, OperatorStateHandle, OperatorSubtaskState, TaskStateSnapshot)
from flink_py.testing.poll import wait_until

DEADLINE_S = 10.0

# gRPC servers and gateways need the process's SecurityContext, as in a daemon
pytestmark = pytest.mark.usefixtures("rpc_security")


class RecordingTaskExecutor:
    """An in-process fake of TaskExecutorGateway: records each call."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, tuple]] = []

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def submit_task(self, tdd: Any, job_master: Any) -> None:
        self._record("submit_task", tdd)

    def cancel_task(self, attempt_id: ExecutionAttemptID) -> None:
        self._record("cancel_task", attempt_id)

    def release_job_partitions(self, job_id: str) -> None:
        self._record("release_job_partitions", job_id)

    def release_partitions(self, job_id: str, partitions: List[Tuple[str, int]]) -> None:
        self._record("release_partitions", job_id, list(partitions))

    def cancel_all_tasks(self, reason: str) -> None:
        self._record("cancel_all_tasks", reason)

    def heartbeat_from_resource_manager(self, resource_id: str,
                                        timeout_s: Optional[float] = None) -> None:
        self._record("heartbeat_from_resource_manager", resource_id)

    def trigger_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int, options: CheckpointOptions) -> None:
        self._record("trigger_checkpoint", attempt_id, checkpoint_id, timestamp, options)

    def confirm_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                           timestamp: int) -> None:
        self._record("confirm_checkpoint", attempt_id, checkpoint_id, timestamp)

    def abort_checkpoint(self, attempt_id: ExecutionAttemptID, checkpoint_id: int,
                         latest_completed_checkpoint_id: int) -> None:
        self._record("abort_checkpoint", attempt_id, checkpoint_id,
                     latest_completed_checkpoint_id)


@pytest.fixture(params=["in-process", "grpc"])
def task_executor(request: Any) -> Iterator[Tuple[TaskExecutorGateway, RecordingTaskExecutor]]:
    endpoint = RecordingTaskExecutor()
    if request.param == "in-process":
        yield endpoint, endpoint
        return
    server, port = start_server(lambda s: pb_grpc.add_TaskExecutorGatewayServicer_to_server(
        TaskExecutorServicer(endpoint, lambda address, job_id: None), s), "127.0.0.1", 0)
    try:
        yield RemoteTaskExecutorGateway(f"127.0.0.1:{port}", "", DEADLINE_S), endpoint
    finally:
        server.stop(grace=None).wait(DEADLINE_S)


def test_task_executor_gateway_delivers_every_call_with_its_arguments(task_executor) -> None:
    gateway, endpoint = task_executor
    attempt = ExecutionAttemptID()
    options = CheckpointOptions.for_checkpoint(CheckpointingMode.AT_LEAST_ONCE, False)
    gateway.trigger_checkpoint(attempt, 7, 1234, options)
    gateway.confirm_checkpoint(attempt, 7, 1234)
    gateway.abort_checkpoint(attempt, 8, 7)
    gateway.cancel_task(attempt)
    gateway.release_partitions("job", [("result-a", 0), ("result-b", 3)])
    gateway.release_job_partitions("job")
    gateway.cancel_all_tasks("the JobManager is gone")
    gateway.heartbeat_from_resource_manager("tm-1")
    assert endpoint.calls == [
        ("trigger_checkpoint", (attempt, 7, 1234, options)),
        ("confirm_checkpoint", (attempt, 7, 1234)),
        ("abort_checkpoint", (attempt, 8, 7)),
        ("cancel_task", (attempt,)),
        ("release_partitions", ("job", [("result-a", 0), ("result-b", 3)])),
        ("release_job_partitions", ("job",)),
        ("cancel_all_tasks", ("the JobManager is gone",)),
        ("heartbeat_from_resource_manager", ("tm-1",)),
    ]


class RecordingCoordinator:
    """An in-process fake of CheckpointCoordinatorProtocol: records what reaches it, and on
    which thread."""

    def __init__(self) -> None:
        self.received: List[Tuple[str, tuple]] = []
        self.threads: set = set()

    def _record(self, name: str, *args: Any) -> None:
        self.threads.add(threading.current_thread().name)
        self.received.append((name, args))

    def receive_acknowledge_message(self, attempt_id: Any, checkpoint_id: int, metrics: Any,
                                    subtask_state: Any) -> None:
        self._record("ack", attempt_id, checkpoint_id, metrics.sync_duration_ms,
                     subtask_state)

    def receive_decline_message(self, attempt_id: Any, checkpoint_id: int,
                                reason: SerializedError) -> None:
        self._record("decline", attempt_id, checkpoint_id, reason.message)

    def start_checkpoint_scheduler(self) -> None:
        pass

    def stop_checkpoint_scheduler(self) -> None:
        pass

    def abort_pending_checkpoints(self, reason: str) -> None:
        pass

    def trigger_savepoint(self, target_directory: Optional[str], on_done: Any) -> None:
        self._record("savepoint", target_directory)

    def restore_latest_checkpointed_state(self, vertices: Any) -> None:
        return None

    def shutdown(self, job_status_name: str) -> None:
        pass


@pytest.fixture(params=["in-process", "grpc"])
def job_master(request: Any) -> Iterator[Tuple[JobMasterGateway, RecordingCoordinator, str]]:
    coordinator = RecordingCoordinator()
    # No TaskManagers: the job waits for slots, its JobMaster runs.
    dispatcher = Dispatcher(ResourceManager(), checkpoint_coordinator_factory=lambda master:
                            coordinator)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1]).add_sink(lambda value, context=None: None)
    job_id = dispatcher.submit_job(env.get_job_graph("contract"))
    master = dispatcher.job_master(job_id)
    try:
        if request.param == "in-process":
            yield master, coordinator, job_id
        else:
            server, port = start_server(lambda s: pb_grpc.add_JobMasterGatewayServicer_to_server(
                JobMasterServicer(dispatcher), s), "127.0.0.1", 0)
            try:
                yield RemoteJobMasterGateway(f"127.0.0.1:{port}", job_id, DEADLINE_S), \
                    coordinator, job_id
            finally:
                server.stop(grace=None).wait(DEADLINE_S)
    finally:
        master.cancel()
        assert master.wait_for_termination(DEADLINE_S)


def test_job_master_gateway_hands_checkpoint_messages_to_the_coordinator_on_its_main_thread(
        job_master) -> None:
    gateway, coordinator, job_id = job_master
    attempt = ExecutionAttemptID()
    state = TaskStateSnapshot({OperatorID(): OperatorSubtaskState(managed_operator_state=[
        OperatorStateHandle({"offsets": ("SPLIT_DISTRIBUTE", [(0, 1)])},
                        ByteStreamStateHandle("h", b"\x01"))])})
    gateway.acknowledge_checkpoint(job_id, attempt, 3, CheckpointMetrics(sync_duration_ms=5),
                                   state)
    gateway.acknowledge_checkpoint(job_id, attempt, 4, CheckpointMetrics(), None)
    gateway.decline_checkpoint(job_id, attempt, 5, SerializedError("no room", "trace"))
    wait_until(lambda: len(coordinator.received) == 3, "three messages at the coordinator")
    assert coordinator.received == [("ack", (attempt, 3, 5, state)),
                                    ("ack", (attempt, 4, 0, None)),
                                    ("decline", (attempt, 5, "no room"))]
    assert coordinator.threads == {f"JobMaster {job_id}"}


def test_job_master_gateway_answers_a_watermark_report_with_its_group_watermark(
        job_master) -> None:
    gateway, _, job_id = job_master
    events = gateway.operator_event_gateway(job_id)
    assert events.report_watermark("g", ("source-a", 0), 2_000) == 2_000
    assert events.report_watermark("g", ("source-b", 1), 1_500) == 1_500
    assert events.report_watermark("g", ("source-b", 1), 2 ** 63 - 1) == 2_000  # finished
    assert events.report_watermark("other", ("source-a", 0), -5) == -5


@pytest.fixture(params=["in-process", "grpc"])
def resource_manager(request: Any
                     ) -> Iterator[Tuple[ResourceManagerGateway, ResourceManager, List[tuple]]]:
    manager = ResourceManager()
    lost: List[tuple] = []
    manager.add_lost_listener(lambda rid, reason, allocations: lost.append((rid, reason)))
    # the slots' deployment gateways, as the endpoint makes them from their addresses
    endpoint = ResourceManagerEndpoint(manager, 7000, lambda address: ("gateway", address))
    if request.param == "in-process":
        yield endpoint, manager, lost
        return
    server, port = start_server(lambda s: pb_grpc.add_ResourceManagerGatewayServicer_to_server(
        ResourceManagerServicer(endpoint), s), "127.0.0.1", 0)
    try:
        yield RemoteResourceManagerGateway(f"127.0.0.1:{port}", DEADLINE_S), manager, lost
    finally:
        server.stop(grace=None).wait(DEADLINE_S)


def test_resource_manager_gateway_registers_heartbeats_and_loses_task_managers(
        resource_manager) -> None:
    gateway, manager, lost = resource_manager
    registration = TaskExecutorRegistration(
        "host-a:4242-1a2b3c", "host-a", "host-a:5001", 6001,
        (SlotRegistration(0, "host-a:5001", "host-a:6001", "host-a/0/11"),
         SlotRegistration(1, "host-a:5002", "host-a:6002", "host-a/1/12")),
        {"cpuCores": 2, "physicalMemory": 1 << 30})
    resource_id = ResourceID(registration.resource_id)
    assert gateway.heartbeat(registration.resource_id) is False, "unknown: register first"
    assert gateway.register(registration) == RegistrationResponse(True, 7000, False)
    [info] = manager.task_manager_infos()
    assert (info.resource_id, info.address, info.host, info.data_port, info.num_slots,
            info.free_slots, info.hardware) == (
        resource_id, "host-a:5001", "host-a", 6001, 2, 2,
        {"cpuCores": 2, "physicalMemory": 1 << 30})
    assert manager.task_managers() == {resource_id: {0: ("gateway", "host-a:5001"),
                                                     1: ("gateway", "host-a:5002")}}
    assert gateway.heartbeat(registration.resource_id) is True
    assert gateway.register(registration).was_registered is True, "known: a re-registration"
    gateway.report_slot_lost(registration.resource_id, 1, "slot worker 1 died")
    assert manager.total_slots == 1
    assert lost == [(resource_id, "slot worker 1 died")]
    gateway.disconnect(registration.resource_id, "the TaskManager is shutting down")
    assert manager.task_managers() == {}
    assert lost[-1] == (resource_id, "the TaskManager is shutting down")
    assert gateway.heartbeat(registration.resource_id) is False
