"""The ResourceManager's heartbeat requests to its TaskManagers, and the rule that marks one
unreachable (Flink's ``HeartbeatManagerSenderImpl`` and ``HeartbeatMonitorImpl``).

TaskManagers push their heartbeats to the ResourceManager every ``heartbeat.interval``, and
one silent for ``heartbeat.timeout`` is removed; alone, that takes the whole timeout (50 s by
default) to notice a TaskManager whose process is gone. So the ResourceManager also requests
a heartbeat from every TaskManager each ``heartbeat.interval`` (an RPC to its slot workers),
and ``heartbeat.rpc-failure-threshold`` consecutive requests that cannot reach it (connection
refused: ``RpcUnreachableError``) mark it unreachable at once: it is removed as if its
heartbeat had timed out, and its jobs fail over. As in Flink, a request that only runs past
its deadline does not count (the TaskManager may be alive and busy), and -1 turns the rule
off. A TaskManager answers when any of its slot workers does: one dead worker is a lost slot,
which its TaskManager reports itself, not a lost TaskManager.
"""

from __future__ import annotations

import enum
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence

from flink_py.errors import FlinkPyError
from flink_py.graph.ids import ResourceID
from flink_py.rpc.gateways import RpcError, RpcUnreachableError

log = logging.getLogger(__name__)

#: ``heartbeat.rpc-failure-threshold`` value that disables the rule (Flink's
#: ``FAILED_RPC_DETECTION_DISABLED``)
FAILED_RPC_DETECTION_DISABLED = -1
#: heartbeat requests in flight at once (one per TaskManager at most)
REQUEST_THREADS = 4


class HeartbeatMonitor:
    """Counts the consecutive failed heartbeat RPCs of one target (pure state, no I/O).

    :param failed_rpcs_until_unreachable: ``heartbeat.rpc-failure-threshold``: > 0, or -1
        (never unreachable through failed RPCs).

    >>> monitor = HeartbeatMonitor(2)
    >>> monitor.report_rpc_failure(), monitor.report_rpc_failure(), monitor.is_unreachable
    (False, True, True)
    >>> monitor = HeartbeatMonitor(2)
    >>> monitor.report_rpc_failure(); monitor.report_rpc_success(); monitor.report_rpc_failure()
    False
    False
    """

    def __init__(self, failed_rpcs_until_unreachable: int) -> None:
        if failed_rpcs_until_unreachable <= 0 and \
                failed_rpcs_until_unreachable != FAILED_RPC_DETECTION_DISABLED:
            raise FlinkPyError(
                f"heartbeat.rpc-failure-threshold must be larger than 0 or "
                f"{FAILED_RPC_DETECTION_DISABLED} (deactivated), got "
                f"{failed_rpcs_until_unreachable}")
        self.failed_rpcs_until_unreachable = failed_rpcs_until_unreachable
        #: consecutive failed heartbeat RPCs since the last success
        self.failed_rpcs = 0
        self.is_unreachable = False

    def report_rpc_success(self) -> None:
        self.failed_rpcs = 0

    def report_rpc_failure(self) -> bool:
        """A heartbeat RPC could not reach the target; True when this marks it unreachable
        (once)."""
        self.failed_rpcs += 1
        if self.failed_rpcs_until_unreachable == FAILED_RPC_DETECTION_DISABLED or \
                self.is_unreachable or self.failed_rpcs < self.failed_rpcs_until_unreachable:
            return False
        self.is_unreachable = True
        return True


class _Outcome(enum.Enum):
    ANSWERED = "answered"
    UNREACHABLE = "unreachable"
    #: failed otherwise (a deadline passed): counts neither way
    FAILED = "failed"


class TaskManagerHeartbeatSender:
    """Requests heartbeats from every TaskManager a ResourceManager knows; removes the ones
    ``heartbeat.rpc-failure-threshold`` consecutive requests could not reach.

    ``request_heartbeats()`` is called every ``heartbeat.interval`` (by the JobManager's
    heartbeat thread); the RPCs run on a small pool, each with ``rpc_timeout_s``.
    """

    def __init__(self, resource_manager: Any, failed_rpcs_until_unreachable: int,
                 rpc_timeout_s: float) -> None:
        HeartbeatMonitor(failed_rpcs_until_unreachable)  # validates the threshold
        self.resource_manager = resource_manager
        self.failed_rpcs_until_unreachable = failed_rpcs_until_unreachable
        self.rpc_timeout_s = rpc_timeout_s
        self._lock = threading.Lock()
        self._monitors: Dict[ResourceID, HeartbeatMonitor] = {}
        self._in_flight: set = set()
        self._pool = ThreadPoolExecutor(REQUEST_THREADS,
                                        thread_name_prefix="TaskManager heartbeat request")

    def request_heartbeats(self) -> List[Future]:
        """Sends one heartbeat request to each TaskManager that has none in flight; returns
        the requests' futures (done once their outcome is handled)."""
        if self.failed_rpcs_until_unreachable == FAILED_RPC_DETECTION_DISABLED:
            return []
        task_managers = self.resource_manager.task_managers()
        futures = []
        with self._lock:
            for gone in set(self._monitors) - set(task_managers):
                del self._monitors[gone]
            for resource_id, gateways in task_managers.items():
                if resource_id in self._in_flight or not gateways:
                    continue
                self._in_flight.add(resource_id)
                self._monitors.setdefault(
                    resource_id, HeartbeatMonitor(self.failed_rpcs_until_unreachable))
                futures.append(self._pool.submit(self._request, resource_id,
                                                 list(gateways.values())))
        return futures

    def _request(self, resource_id: ResourceID, gateways: Sequence[Any]) -> None:
        try:
            outcome, error = self._send(resource_id, gateways)
            self._handle(resource_id, outcome, error)
        finally:
            with self._lock:
                self._in_flight.discard(resource_id)

    def _send(self, resource_id: ResourceID,
              gateways: Sequence[Any]) -> "tuple[_Outcome, Optional[RpcError]]":
        outcome, error = _Outcome.UNREACHABLE, None
        for gateway in gateways:
            try:
                gateway.heartbeat_from_resource_manager(str(resource_id), self.rpc_timeout_s)
                return _Outcome.ANSWERED, None
            except RpcUnreachableError as exc:
                error = exc
            except RpcError as exc:  # answered with an error, or too slow: not unreachable
                outcome, error = _Outcome.FAILED, exc
        return outcome, error

    def _handle(self, resource_id: ResourceID, outcome: _Outcome,
                error: Optional[RpcError]) -> None:
        with self._lock:
            monitor = self._monitors.get(resource_id)
            if monitor is None:
                return  # unregistered meanwhile
            if outcome is _Outcome.ANSWERED:
                monitor.report_rpc_success()
                return
            if outcome is _Outcome.FAILED:
                log.info("Heartbeat request to TaskManager %s failed: %s", resource_id, error)
                return
            unreachable = monitor.report_rpc_failure()
            failed = monitor.failed_rpcs
            if unreachable:
                del self._monitors[resource_id]
        if not unreachable:
            log.info("Heartbeat request %d to TaskManager %s could not reach it: %s", failed,
                     resource_id, error)
            return
        reason = (f"TaskManager with id {resource_id} is unreachable: {failed} consecutive "
                  f"heartbeat requests could not reach it (heartbeat.rpc-failure-threshold: "
                  f"{self.failed_rpcs_until_unreachable}); last: {error}")
        log.warning(reason)
        self.resource_manager.unregister_task_executor(resource_id, reason)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
