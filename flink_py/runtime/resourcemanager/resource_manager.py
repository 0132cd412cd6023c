"""ResourceManager: knows the TaskManagers and their slots, hands slots to jobs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from flink_py.errors import FlinkPyError
from flink_py.graph.ids import AllocationID, ResourceID


class NoResourceAvailableError(FlinkPyError):
    """A job asked for more slots than the cluster could give within the timeout."""


@dataclass
class SlotAllocation:
    """One slot given to a job: on which TaskExecutor, which slot, under which allocation."""

    resource_id: ResourceID
    task_executor: Any  # the TaskExecutorGateway
    slot_index: int
    allocation_id: AllocationID
    job_id: str


@dataclass
class _Registration:
    gateway: Any
    num_slots: int
    free: List[int]
    last_heartbeat: float


class ResourceManager:
    """Slot registry: TaskManager registration, slot requests that wait with a timeout."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._task_managers: Dict[ResourceID, _Registration] = {}
        self._allocations: Dict[AllocationID, SlotAllocation] = {}

    def register_task_executor(self, resource_id: ResourceID, gateway: Any,
                               num_slots: int) -> None:
        with self._cond:
            self._task_managers[resource_id] = _Registration(
                gateway, num_slots, list(range(num_slots)), time.monotonic())
            self._cond.notify_all()

    def unregister_task_executor(self, resource_id: ResourceID) -> List[SlotAllocation]:
        """Removes a TaskManager; returns the allocations that were on it."""
        with self._cond:
            self._task_managers.pop(resource_id, None)
            lost = [a for a in self._allocations.values() if a.resource_id == resource_id]
            for a in lost:
                del self._allocations[a.allocation_id]
            return lost

    @property
    def total_slots(self) -> int:
        with self._cond:
            return sum(r.num_slots for r in self._task_managers.values())

    @property
    def free_slots(self) -> int:
        with self._cond:
            return sum(len(r.free) for r in self._task_managers.values())

    def task_managers(self) -> Dict[ResourceID, Any]:
        with self._cond:
            return {rid: r.gateway for rid, r in self._task_managers.items()}

    def request_slots(self, job_id: str, count: int, timeout_s: float) -> List[SlotAllocation]:
        """Allocates ``count`` slots, spreading them over TaskManagers; waits up to timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._free_locked() < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NoResourceAvailableError(
                        f"not enough slots: needed {count}, have {self._free_locked()} free "
                        f"of {sum(r.num_slots for r in self._task_managers.values())}")
                self._cond.wait(remaining)
            allocations: List[SlotAllocation] = []
            # Round robin over TaskManagers, so a job spreads like Flink's
            # cluster.evenly-spread-out-slots.
            while len(allocations) < count:
                for rid, reg in self._task_managers.items():
                    if reg.free and len(allocations) < count:
                        allocation = SlotAllocation(rid, reg.gateway, reg.free.pop(0),
                                                    AllocationID(), job_id)
                        self._allocations[allocation.allocation_id] = allocation
                        allocations.append(allocation)
            return allocations

    def _free_locked(self) -> int:
        return sum(len(r.free) for r in self._task_managers.values())

    def release_slots(self, job_id: str) -> None:
        with self._cond:
            for allocation_id, a in list(self._allocations.items()):
                if a.job_id == job_id:
                    del self._allocations[allocation_id]
                    reg = self._task_managers.get(a.resource_id)
                    if reg is not None:
                        reg.free.append(a.slot_index)
                        reg.free.sort()
            self._cond.notify_all()
