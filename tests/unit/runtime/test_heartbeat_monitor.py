"""heartbeat.rpc-failure-threshold: the ResourceManager's heartbeat requests over real gRPC;
a TaskManager whose workers refuse connections is removed after that many requests, one that
answers (or has one live worker) stays, -1 turns the rule off."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Iterator, List, Tuple

import pytest

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.graph.ids import ResourceID
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import (
    RemoteTaskExecutorGateway, RpcUnreachableError, TaskExecutorServicer, start_server)
from flink_py.runtime.resourcemanager.heartbeat import (
    HeartbeatMonitor, TaskManagerHeartbeatSender)
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager, SlotDescription
from flink_py.runtime.taskmanager.task_executor import TaskExecutor
from flink_py.testing.process_cluster import free_port

DEADLINE_S = 10.0

# gRPC servers and gateways need the process's SecurityContext, as in a daemon
pytestmark = pytest.mark.usefixtures("rpc_security")


@pytest.fixture
def live_worker() -> Iterator[str]:
    """The address of a gRPC TaskExecutor endpoint that answers."""
    executor = TaskExecutor(1)
    server, port = start_server(lambda s: pb_grpc.add_TaskExecutorGatewayServicer_to_server(
        TaskExecutorServicer(executor, lambda address, job_id: None), s), "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait(DEADLINE_S)


def _dead_worker() -> str:
    return f"127.0.0.1:{free_port()}"  # nothing listens: connection refused


def _cluster(*addresses: str) -> Tuple[ResourceManager, ResourceID, List[str]]:
    rm = ResourceManager()
    lost: List[str] = []
    rm.add_lost_listener(lambda resource_id, reason, allocations: lost.append(reason))
    resource_id = ResourceID()
    slots = [SlotDescription(i, RemoteTaskExecutorGateway(address, "", DEADLINE_S))
             for i, address in enumerate(addresses)]
    rm.register_task_executor(resource_id, None, len(slots), slots)
    return rm, resource_id, lost


def _round(sender: TaskManagerHeartbeatSender) -> None:
    done, pending = concurrent.futures.wait(sender.request_heartbeats(), DEADLINE_S)
    assert not pending
    for future in done:
        future.result()  # a failure of the sender itself fails the test


@pytest.fixture
def senders() -> Iterator[Any]:
    made: List[TaskManagerHeartbeatSender] = []

    def make(rm: ResourceManager, threshold: int) -> TaskManagerHeartbeatSender:
        made.append(TaskManagerHeartbeatSender(rm, threshold, rpc_timeout_s=DEADLINE_S))
        return made[-1]

    yield make
    for sender in made:
        sender.shutdown()


def test_the_option_is_flinks_with_default_2() -> None:
    assert options.HEARTBEAT_RPC_FAILURE_THRESHOLD.key == "heartbeat.rpc-failure-threshold"
    assert Configuration().get(options.HEARTBEAT_RPC_FAILURE_THRESHOLD) == 2


def test_a_refused_heartbeat_request_raises_rpc_unreachable() -> None:
    with pytest.raises(RpcUnreachableError, match="HeartbeatFromResourceManager"):
        RemoteTaskExecutorGateway(_dead_worker(), "", DEADLINE_S) \
            .heartbeat_from_resource_manager("tm", DEADLINE_S)


def test_a_task_manager_that_refuses_is_removed_after_threshold_requests(senders) -> None:
    rm, resource_id, lost = _cluster(_dead_worker(), _dead_worker())
    sender = senders(rm, 2)
    _round(sender)
    assert resource_id in rm.task_managers() and not lost
    _round(sender)
    assert resource_id not in rm.task_managers()
    assert len(lost) == 1 and "2 consecutive heartbeat requests" in lost[0], lost


def test_a_task_manager_that_answers_stays(senders, live_worker: str) -> None:
    rm, resource_id, lost = _cluster(live_worker)
    sender = senders(rm, 1)
    for _ in range(3):
        _round(sender)
    assert resource_id in rm.task_managers() and not lost


def test_one_live_slot_worker_keeps_its_task_manager(senders, live_worker: str) -> None:
    rm, resource_id, lost = _cluster(_dead_worker(), live_worker)
    sender = senders(rm, 1)
    for _ in range(3):
        _round(sender)
    assert resource_id in rm.task_managers() and not lost


def test_minus_one_disables_the_rule(senders) -> None:
    rm, resource_id, lost = _cluster(_dead_worker())
    sender = senders(rm, -1)
    for _ in range(3):
        _round(sender)
    assert resource_id in rm.task_managers() and not lost


@pytest.mark.parametrize("threshold", [0, -2])
def test_a_threshold_that_is_neither_positive_nor_minus_one_is_rejected(threshold) -> None:
    with pytest.raises(FlinkPyError, match="larger than 0 or -1"):
        HeartbeatMonitor(threshold)
