"""ResourceManager: knows the TaskManagers and their slots, hands slots to jobs.

TaskManagers register with their slots; each slot names the gateway that deploys tasks
into it (in a cluster, the slot's worker process; in the MiniCluster, the in-process
TaskExecutor) and the address of its data plane. Registered TaskManagers heartbeat; one that
stays silent longer than ``heartbeat.timeout`` is removed with its slots, and the listener
(the Dispatcher) fails the jobs that had slots on it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from flink_py.errors import FlinkPyError
from flink_py.graph.ids import AllocationID, ResourceID

log = logging.getLogger(__name__)


class NoResourceAvailableError(FlinkPyError):
    """A job asked for more slots than the cluster could give within the timeout."""


class SlotRequestWithdrawnError(FlinkPyError):
    """A pending slot request ended because its job was cancelled."""


@dataclass
class SlotAllocation:
    """One slot given to a job: on which TaskExecutor, which slot, under which allocation."""

    resource_id: ResourceID
    task_executor: Any  # the TaskExecutorGateway that deploys into this slot
    slot_index: int
    allocation_id: AllocationID
    job_id: str
    #: "host:port" of the data plane serving this slot's partitions; "" in-process
    data_address: str = ""
    #: the process the slot's tasks run in: equal ids exchange data locally
    process_id: str = ""


@dataclass
class SlotDescription:
    """A slot as a TaskManager reports it at registration."""

    index: int
    gateway: Any
    data_address: str = ""
    process_id: str = ""


@dataclass
class TaskManagerInfo:
    """What the REST API shows of a registered TaskManager."""

    resource_id: ResourceID
    address: str  # "host:port" of its RPC endpoint, or "" in-process
    host: str
    data_port: int
    num_slots: int
    free_slots: int
    last_heartbeat_ms: int  # wall clock, ms
    registered_ms: int
    hardware: Dict[str, int] = field(default_factory=dict)  # cpuCores, physicalMemory, ...


@dataclass
class _Registration:
    slots: Dict[int, SlotDescription]
    free: List[int]
    last_heartbeat: float  # monotonic
    last_heartbeat_ms: int
    registered_ms: int
    address: str
    host: str
    data_port: int
    hardware: Dict[str, int]


LostListener = Callable[[ResourceID, str, List[SlotAllocation]], None]

#: ``on_done(allocations, None)`` once the slots are there, ``on_done(None, error)`` if not
SlotRequestCallback = Callable[[Optional[List[SlotAllocation]], Optional[Exception]], None]


class PendingSlotRequest:
    """A slot request waiting for free slots; ``cancel()`` withdraws it."""

    def __init__(self, manager: "ResourceManager", job_id: str, count: int,
                 on_done: SlotRequestCallback) -> None:
        self._manager = manager
        self.job_id = job_id
        self.count = count
        self.on_done = on_done
        self.done = False

    def cancel(self) -> bool:
        """Withdraws the request; False if it was already fulfilled (or cancelled)."""
        return self._manager._withdraw(self)


class ResourceManager:
    """Slot registry: TaskManager registration, heartbeats, slot requests with a timeout."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._task_managers: Dict[ResourceID, _Registration] = {}
        self._allocations: Dict[AllocationID, SlotAllocation] = {}
        self._lost_listeners: List[LostListener] = []
        self._withdrawn: set = set()  # job ids whose pending slot request was withdrawn
        self._pending: List[PendingSlotRequest] = []
        #: TaskManagers a JobMaster could not reach: no slots of theirs are handed out until
        #: they prove alive (their next heartbeat makes them register again)
        self._suspect: set = set()

    # -- TaskManagers ---------------------------------------------------------------------

    def register_task_executor(self, resource_id: ResourceID, gateway: Any, num_slots: int,
                               slots: Optional[Sequence[SlotDescription]] = None,
                               address: str = "", host: str = "", data_port: int = 0,
                               hardware: Optional[Dict[str, int]] = None) -> bool:
        """Registers (or re-registers) a TaskManager; returns whether it was registered.

        ``slots`` describes each slot; without it every slot deploys through ``gateway``.
        A re-registration replaces the slots' descriptions but keeps its allocations.
        """
        if slots is None:
            slots = [SlotDescription(i, gateway) for i in range(num_slots)]
        now_ms = time.time_ns() // 1_000_000
        with self._cond:
            old = self._task_managers.get(resource_id)
            in_use = {a.slot_index for a in self._allocations.values()
                      if a.resource_id == resource_id}
            self._task_managers[resource_id] = _Registration(
                {s.index: s for s in slots},
                [s.index for s in slots if s.index not in in_use],
                time.monotonic(), now_ms, old.registered_ms if old else now_ms,
                address, host, data_port, dict(hardware or {}))
            self._suspect.discard(resource_id)
            self._cond.notify_all()
        self._fulfill_pending()
        return old is not None

    def heartbeat(self, resource_id: ResourceID) -> bool:
        """Records a heartbeat; False if the TaskManager is not registered (re-register)."""
        with self._cond:
            reg = self._task_managers.get(resource_id)
            if reg is None or resource_id in self._suspect:
                return False  # a suspect re-registers: that offers its slots again
            reg.last_heartbeat = time.monotonic()
            reg.last_heartbeat_ms = time.time_ns() // 1_000_000
            return True

    def add_lost_listener(self, listener: LostListener) -> None:
        """``listener(resource_id, reason, lost_allocations)`` when a TaskManager is lost."""
        self._lost_listeners.append(listener)

    def unregister_task_executor(self, resource_id: ResourceID,
                                 reason: str = "") -> List[SlotAllocation]:
        """Removes a TaskManager; tells the listeners; returns the allocations it had."""
        with self._cond:
            self._suspect.discard(resource_id)
            if self._task_managers.pop(resource_id, None) is None:
                return []
            lost = [a for a in self._allocations.values() if a.resource_id == resource_id]
            for a in lost:
                del self._allocations[a.allocation_id]
            self._cond.notify_all()
        for listener in list(self._lost_listeners):
            listener(resource_id, reason, lost)
        return lost

    def slot_lost(self, resource_id: ResourceID, slot_index: int, reason: str) -> None:
        """A slot's worker died: the jobs using that slot are told, and the slot is taken
        out of service until its TaskManager registers it again (with its new worker)."""
        with self._cond:
            lost = [a for a in self._allocations.values()
                    if a.resource_id == resource_id and a.slot_index == slot_index]
            for a in lost:
                del self._allocations[a.allocation_id]
            reg = self._task_managers.get(resource_id)
            if reg is not None:
                reg.slots.pop(slot_index, None)
                if slot_index in reg.free:
                    reg.free.remove(slot_index)
        for listener in list(self._lost_listeners):
            listener(resource_id, reason, lost)

    def report_unreachable(self, resource_id: ResourceID, reason: str) -> None:
        """A JobMaster's call to this TaskManager failed: hand out none of its slots until it
        registers again (its next heartbeat asks it to), so no job deploys to a dead one."""
        with self._cond:
            if resource_id in self._task_managers and resource_id not in self._suspect:
                self._suspect.add(resource_id)
                log.warning("TaskManager %s is unreachable (%s): its slots are not offered "
                            "until it registers again", resource_id, reason)

    def is_allocation_alive(self, allocation: SlotAllocation) -> bool:
        """Whether ``allocation`` still holds its slot on a TaskManager not known to be gone."""
        with self._cond:
            return (allocation.allocation_id in self._allocations
                    and allocation.resource_id not in self._suspect)

    def discount_unobserved_time(self, unobserved_s: float) -> None:
        """Treats ``unobserved_s`` seconds as not elapsed for every TaskManager's heartbeat
        deadline: the JobManager was not running (paused, starved) and could not have
        received their heartbeats then. A deadline never moves past now, so a TaskManager
        heard since is not given more than one ``heartbeat.timeout`` from now."""
        now = time.monotonic()
        with self._cond:
            for reg in self._task_managers.values():
                reg.last_heartbeat = min(reg.last_heartbeat + unobserved_s, now)

    def check_heartbeats(self, timeout_s: float) -> List[ResourceID]:
        """Removes every TaskManager silent for longer than ``timeout_s``; returns them."""
        now = time.monotonic()
        with self._cond:
            dead = [(rid, now - reg.last_heartbeat) for rid, reg in self._task_managers.items()
                    if now - reg.last_heartbeat > timeout_s]
        for rid, silent in dead:
            self.unregister_task_executor(
                rid, f"Heartbeat of TaskManager with id {rid} timed out: no heartbeat for "
                     f"{int(silent * 1000)} ms (heartbeat.timeout: {int(timeout_s * 1000)} ms)")
        return [rid for rid, _ in dead]

    @property
    def total_slots(self) -> int:
        with self._cond:
            return sum(len(r.slots) for r in self._task_managers.values())

    @property
    def free_slots(self) -> int:
        with self._cond:
            return self._free_locked()

    def task_managers(self) -> Dict[ResourceID, Any]:
        """Each TaskManager's gateways, by slot index."""
        with self._cond:
            return {rid: {i: s.gateway for i, s in r.slots.items()}
                    for rid, r in self._task_managers.items()}

    def task_manager_infos(self) -> List[TaskManagerInfo]:
        with self._cond:
            return [TaskManagerInfo(rid, r.address, r.host, r.data_port, len(r.slots),
                                    len(r.free), r.last_heartbeat_ms, r.registered_ms,
                                    dict(r.hardware))
                    for rid, r in self._task_managers.items()]

    # -- slots ----------------------------------------------------------------------------

    def request_slots(self, job_id: str, count: int, timeout_s: float) -> List[SlotAllocation]:
        """Allocates ``count`` slots, spreading them over TaskManagers; waits up to timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._free_locked() < count:
                if job_id in self._withdrawn:
                    self._withdrawn.discard(job_id)
                    raise SlotRequestWithdrawnError(
                        f"the slot request of job {job_id} was withdrawn")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NoResourceAvailableError(
                        f"not enough slots: needed {count}, have {self._free_locked()} free "
                        f"of {sum(len(r.slots) for r in self._task_managers.values())}")
                self._cond.wait(remaining)
            return self._allocate_locked(job_id, count)

    def withdraw_slot_request(self, job_id: str) -> None:
        """Ends a pending ``request_slots`` of ``job_id`` (its job was cancelled)."""
        with self._cond:
            self._withdrawn.add(job_id)
            self._cond.notify_all()

    def request_slots_async(self, job_id: str, count: int,
                            on_done: SlotRequestCallback) -> PendingSlotRequest:
        """Asks for ``count`` slots without waiting: ``on_done`` is called (on the thread that
        freed or registered the slots, or this one) when they are allocated. The caller owns
        the timeout: it ``cancel()``s the request when it gives up."""
        request = PendingSlotRequest(self, job_id, count, on_done)
        with self._cond:
            self._pending.append(request)
        self._fulfill_pending()
        return request

    def _withdraw(self, request: PendingSlotRequest) -> bool:
        with self._cond:
            if request.done:
                return False
            request.done = True
            if request in self._pending:
                self._pending.remove(request)
            return True

    def _fulfill_pending(self) -> None:
        """Serves pending requests in order while there are slots for the first one."""
        served = []
        with self._cond:
            while self._pending and self._free_locked() >= self._pending[0].count:
                request = self._pending.pop(0)
                request.done = True
                served.append((request, self._allocate_locked(request.job_id, request.count)))
        for request, allocations in served:
            request.on_done(allocations, None)

    def _allocate_locked(self, job_id: str, count: int) -> List[SlotAllocation]:
        allocations: List[SlotAllocation] = []
        # Round robin over TaskManagers, so a job spreads like Flink's
        # cluster.evenly-spread-out-slots.
        while len(allocations) < count:
            for rid, reg in self._task_managers.items():
                if rid in self._suspect:
                    continue
                if reg.free and len(allocations) < count:
                    slot = reg.slots[reg.free.pop(0)]
                    allocation = SlotAllocation(rid, slot.gateway, slot.index,
                                                AllocationID(), job_id, slot.data_address,
                                                slot.process_id)
                    self._allocations[allocation.allocation_id] = allocation
                    allocations.append(allocation)
        return allocations

    def _free_locked(self) -> int:
        return sum(len(r.free) for rid, r in self._task_managers.items()
                   if rid not in self._suspect)

    def allocations_of(self, resource_id: ResourceID) -> List[SlotAllocation]:
        with self._cond:
            return [a for a in self._allocations.values() if a.resource_id == resource_id]

    def release_slots(self, job_id: str) -> None:
        """Frees every slot of ``job_id`` and withdraws its pending requests."""
        with self._cond:
            self._withdrawn.discard(job_id)
            for request in [r for r in self._pending if r.job_id == job_id]:
                request.done = True
                self._pending.remove(request)
            self._release_locked([a for a in self._allocations.values() if a.job_id == job_id])
        self._fulfill_pending()

    def release_allocations(self, allocations: Sequence[SlotAllocation]) -> None:
        """Frees these slots (a job gives back what it no longer needs)."""
        with self._cond:
            self._release_locked(allocations)
        self._fulfill_pending()

    def _release_locked(self, allocations: Sequence[SlotAllocation]) -> None:
        for a in list(allocations):
            if self._allocations.pop(a.allocation_id, None) is None:
                continue  # already released, or lost with its TaskManager
            reg = self._task_managers.get(a.resource_id)
            if reg is not None and a.slot_index in reg.slots:
                reg.free.append(a.slot_index)
                reg.free.sort()
        self._cond.notify_all()
