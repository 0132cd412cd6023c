"""The ResourceManager's side of the TaskManager protocol (Flink's ResourceManagerGateway as
a TaskExecutor uses it): registration, heartbeats, lost slots, disconnection.

``ResourceManagerEndpoint`` is the in-process implementation of
``flink_py.rpc.protocols.ResourceManagerGateway``; the gRPC servicer adapts the wire to it
and ``RemoteResourceManagerGateway`` is its client, so a TaskManager sees the same answers
whichever it holds (checked by tests/unit/rpc/test_gateway_contract.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Tuple

from flink_py.graph.ids import ResourceID
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager, SlotDescription

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlotRegistration:
    """One slot a TaskManager offers: where its tasks are deployed (``rpc_address``), where
    its partitions are served (``data_address``) and the process its tasks run in."""

    index: int
    rpc_address: str
    data_address: str = ""
    process_id: str = ""


@dataclass(frozen=True)
class TaskExecutorRegistration:
    """What a TaskManager sends to register (Flink's TaskExecutorRegistration)."""

    resource_id: str
    host: str
    rpc_address: str
    data_port: int
    slots: Tuple[SlotRegistration, ...]
    hardware: Dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RegistrationResponse:
    """The answer to a registration; ``was_registered`` tells a TaskManager that registers
    again whether the ResourceManager still knew it (if not, its old tasks belong to no
    JobMaster)."""

    accepted: bool
    heartbeat_interval_ms: int
    was_registered: bool = False
    message: str = ""


class ResourceManagerEndpoint:
    """The ResourceManager's gateway for TaskManagers, in process.

    :param resource_manager: the slot registry the calls go to.
    :param heartbeat_interval_ms: told to each TaskManager at registration.
    :param task_executor_gateway: the gateway through which a slot at an RPC address is
        deployed into (over gRPC in a cluster).
    """

    def __init__(self, resource_manager: ResourceManager, heartbeat_interval_ms: int,
                 task_executor_gateway: Callable[[str], Any]) -> None:
        self.resource_manager = resource_manager
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._task_executor_gateway = task_executor_gateway

    def register(self, registration: TaskExecutorRegistration) -> RegistrationResponse:
        slots = [SlotDescription(s.index, self._task_executor_gateway(s.rpc_address),
                                 s.data_address, s.process_id) for s in registration.slots]
        was_registered = self.resource_manager.register_task_executor(
            ResourceID(registration.resource_id), None, len(slots), slots,
            address=registration.rpc_address, host=registration.host,
            data_port=registration.data_port, hardware=dict(registration.hardware))
        log.info("Registering TaskManager with ResourceID %s (%s) with %d slots",
                 registration.resource_id, registration.rpc_address, len(slots))
        return RegistrationResponse(True, self.heartbeat_interval_ms, was_registered)

    def heartbeat(self, resource_id: str) -> bool:
        return self.resource_manager.heartbeat(ResourceID(resource_id))

    def report_slot_lost(self, resource_id: str, slot_index: int, reason: str) -> None:
        self.resource_manager.slot_lost(ResourceID(resource_id), slot_index, reason)

    def disconnect(self, resource_id: str, reason: str) -> None:
        self.resource_manager.unregister_task_executor(ResourceID(resource_id), reason)
