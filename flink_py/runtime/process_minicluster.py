"""ProcessMiniCluster: a local job whose slots are processes, so that its subtasks use cores.

A plain ``python job.py`` at parallelism > 1 runs here (``python.execution-mode``, see
:func:`flink_py.client.local_executor.choose_execution_mode`). The JobManager's components
(ResourceManager, Dispatcher, a JobMaster per job) run in this process as in
:class:`~flink_py.runtime.minicluster.MiniCluster`; the slots are the cluster's own slot
worker processes (``flink_py.runtime.entrypoint.slot_worker``), started and supervised by an
in-process :class:`~flink_py.runtime.entrypoint.taskmanager.TaskManagerRunner` and reached
over gRPC and the data plane on loopback. So a local parallel job runs exactly as on a
cluster: its functions are pickled into the workers, the keyed exchange crosses processes,
and what the tasks print reaches this process's stdout line by line.

Everything listens on 127.0.0.1 only, and authenticates with a secret made for this process
(or the SecurityContext already installed here): another user of the machine cannot deploy
into the workers.

The workers find the job's modules as this process does: they get its ``sys.path`` (the
script's directory first) and its working directory.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
import time
from typing import Any, Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import (
    JobMasterServicer, RemoteTaskExecutorGateway, ResourceManagerServicer, start_server)
from flink_py.runtime.dispatcher.dispatcher import Dispatcher
from flink_py.runtime.entrypoint.taskmanager import TaskManagerRunner
from flink_py.runtime.resourcemanager.registration import ResourceManagerEndpoint
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager
from flink_py.security import context as security_context
from flink_py.security.cluster_secret import ClusterSecret
from flink_py.security.context import SecurityContext, SecurityNotConfiguredError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
#: how long the slot workers may take to start and register (they import the runtime)
START_TIMEOUT_S = 60.0
#: the in-process TaskManager's heartbeat interval: its workers are supervised directly
HEARTBEAT_INTERVAL_MS = 10_000

_security_lock = threading.Lock()


def local_security() -> SecurityContext:
    """The installed SecurityContext, or a new one with a random secret, installed."""
    with _security_lock:
        try:
            return security_context.current()
        except SecurityNotConfiguredError:
            context = SecurityContext(ClusterSecret(secrets.token_hex(32).encode("ascii"),
                                                    "<local job>"), None)
            security_context.install(context)
            return context


class ProcessMiniCluster:
    """The JobManager's components in this process and ``slots`` slot worker processes.

    :param slots: how many slot workers to start (the job's ``slots_needed``).
    :param configuration: the job's configuration: the workers run with it (network
        buffers, records per buffer, state backend defaults, ...).
    :param slot_request_timeout_s: how long a job waits for its slots.
    :raises FlinkPyError: if a worker did not start, or the workers did not register
        within ``START_TIMEOUT_S``.
    """

    def __init__(self, slots: int, configuration: Configuration,
                 slot_request_timeout_s: float = 10.0) -> None:
        if slots < 1:
            raise FlinkPyError(f"a ProcessMiniCluster needs at least 1 slot, got {slots}")
        self.security = local_security()
        self.resource_manager = ResourceManager()
        self.dispatcher = Dispatcher(self.resource_manager, slot_request_timeout_s)
        self.rpc_address = ""
        endpoint = ResourceManagerEndpoint(
            self.resource_manager, HEARTBEAT_INTERVAL_MS,
            lambda address: RemoteTaskExecutorGateway(address, self.rpc_address))

        def add_services(server: Any) -> None:
            pb_grpc.add_ResourceManagerGatewayServicer_to_server(
                ResourceManagerServicer(endpoint), server)
            pb_grpc.add_JobMasterGatewayServicer_to_server(
                JobMasterServicer(self.dispatcher), server)

        self._rpc_server, port = start_server(add_services, LOOPBACK, 0)
        self.rpc_address = f"{LOOPBACK}:{port}"
        self.task_manager: Optional[TaskManagerRunner] = None
        try:
            self.task_manager = self._start_task_manager(slots, port, configuration)
            self._await_registration(slots)
        except BaseException:
            self.close()
            raise

    def _start_task_manager(self, slots: int, port: int,
                            configuration: Configuration) -> TaskManagerRunner:
        conf = Configuration(configuration.to_dict())
        for option, value in ((options.JOB_MANAGER_RPC_ADDRESS, LOOPBACK),
                              (options.JOB_MANAGER_RPC_PORT, port),
                              (options.NUM_TASK_SLOTS, slots),
                              (options.TASK_MANAGER_HOST, LOOPBACK),
                              (options.TASK_MANAGER_BIND_HOST, LOOPBACK),
                              (options.HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL_MS)):
            conf.set(option, value)
        # the workers get the settings as -D (the secret goes in their environment)
        dynamic = [f"{key}={value}" for key, value in conf.to_dict().items()
                   if not key.startswith("security.")]
        runner = TaskManagerRunner(conf, None, dynamic, security=self.security)
        # the job's modules are found as here; the workers' own log lines only when it matters
        runner.worker_env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) if p else os.getcwd() for p in sys.path)
        runner.worker_args = ["--log-level", "WARNING"]
        runner.start()
        return runner

    def _await_registration(self, slots: int) -> None:
        """Polls until the in-process TaskManager registered its slots (over gRPC, from its
        heartbeat thread, right after its workers started)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.resource_manager.total_slots < slots:
            if time.monotonic() > deadline:
                raise FlinkPyError(f"the {slots} slot worker(s) of the local job did not "
                                   f"register within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.005)

    def close(self, timeout_s: float = 10.0) -> None:
        """Cancels whatever still runs, stops the workers and the RPC server."""
        for master in self.dispatcher.list_jobs():
            if not master.is_terminal:
                master.cancel()
                master.wait_for_termination(timeout_s)
        if self.task_manager is not None:
            self.task_manager.stop()
            self.task_manager = None
        if self._rpc_server is not None:
            self._rpc_server.stop(grace=0.5).wait(2.0)
            self._rpc_server = None

    def __enter__(self) -> "ProcessMiniCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
