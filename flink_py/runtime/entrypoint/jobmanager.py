"""The JobManager daemon: ResourceManager, Dispatcher (one JobMaster per job), RPC and REST.

    python -m flink_py.runtime.entrypoint.jobmanager --configDir conf [-D key=value ...]

The ResourceManager and JobMaster gateways are served over gRPC on
``jobmanager.bind-host``:``jobmanager.rpc.port`` and advertised as
``jobmanager.rpc.address``; the REST API on ``rest.bind-address``:``rest.port``. TaskManagers
that miss heartbeats for ``heartbeat.timeout`` are removed and their jobs fail over, and so
are those that ``heartbeat.rpc-failure-threshold`` consecutive heartbeat requests could not
reach (a TaskManager whose process is gone is noticed after that many intervals).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Optional, Sequence

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import (
    JobMasterServicer, RemoteTaskExecutorGateway, ResourceManagerServicer, start_server)
from flink_py.runtime.dispatcher.dispatcher import Dispatcher
from flink_py.security.cluster_secret import find_cluster_secret
from flink_py.runtime.entrypoint.common import (
    config_dir_of, install_security, parse_daemon_args, setup_logging, signal_ready,
    take_ready_file, wait_for_termination_signal)
from flink_py.runtime.resourcemanager.heartbeat import TaskManagerHeartbeatSender
from flink_py.runtime.resourcemanager.registration import ResourceManagerEndpoint
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager

log = logging.getLogger(__name__)

#: the heartbeat monitor waking this much later than its period (or a quarter of
#: heartbeat.timeout, if more) means the process was not running: a pause, not load
PAUSE_DETECTION_MIN_S = 1.0


class JobManagerRunner:
    """One JobManager: its components, its RPC server, its REST server, its heartbeat check."""

    def __init__(self, configuration: Configuration, config_dir: Optional[str] = None) -> None:
        self.configuration = configuration
        # before anything can listen: the secret every peer and REST writer must prove
        self.security = install_security(configuration, config_dir, create_secret=True)
        # the REST token comes from the secret even when internal traffic does not use it
        # (security.internal.authentication.enabled: false), as the CLI finds it
        self._rest_secret = self.security.secret or find_cluster_secret(configuration,
                                                                        config_dir)
        self.resource_manager = ResourceManager()
        self.dispatcher = Dispatcher(
            self.resource_manager,
            slot_request_timeout_s=configuration.get(options.SLOT_REQUEST_TIMEOUT) / 1000.0,
            configuration=configuration)
        self.heartbeat_interval_ms = int(configuration.get(options.HEARTBEAT_INTERVAL))
        self.heartbeat_timeout_ms = int(configuration.get(options.HEARTBEAT_TIMEOUT))
        # a request is answered or given up within one interval: the next one is due then
        self.heartbeat_sender = TaskManagerHeartbeatSender(
            self.resource_manager, int(configuration.get(options.HEARTBEAT_RPC_FAILURE_THRESHOLD)),
            rpc_timeout_s=min(self.heartbeat_interval_ms, self.heartbeat_timeout_ms) / 1000.0)
        self._rpc_server: Any = None
        self._rest_server: Any = None
        self._stopped = threading.Event()
        self._monitor: Optional[threading.Thread] = None
        self.rpc_port = 0
        self.rpc_address = ""

    def start(self) -> None:
        config = self.configuration
        from flink_py.runtime.rest.server import RestServer
        from flink_py.security.rest_auth import rest_token
        # loopback unless configured otherwise, like the shipped conf
        rest_host = config.get(options.REST_BIND_ADDRESS) or "localhost"
        rest_port = int(config.get(options.REST_PORT))
        self._rest_server = RestServer(self.dispatcher, self.resource_manager, config,
                                       rest_host, rest_port,
                                       token=rest_token(config, self._rest_secret))
        self._rest_server.check_configuration()  # a bad REST setting opens no port at all
        bind_host = config.get(options.JOB_MANAGER_BIND_HOST)
        port = config.get(options.JOB_MANAGER_RPC_PORT)
        advertised = config.get(options.JOB_MANAGER_RPC_ADDRESS)
        # The address is known only once bound (port 0 picks a free port): the servicers
        # read it from this object.
        # slots are deployed into with this JobManager's address as the tasks' JobMaster
        rm_servicer = ResourceManagerServicer(ResourceManagerEndpoint(
            self.resource_manager, self.heartbeat_interval_ms,
            lambda address: RemoteTaskExecutorGateway(address, self.rpc_address)))

        def add_services(server: Any) -> None:
            pb_grpc.add_ResourceManagerGatewayServicer_to_server(rm_servicer, server)
            pb_grpc.add_JobMasterGatewayServicer_to_server(
                JobMasterServicer(self.dispatcher), server)

        # an open address needs something that authenticates peers (raises with what to set)
        self.security.check_bind_address(options.JOB_MANAGER_BIND_HOST.key, bind_host)
        self._rpc_server, self.rpc_port = start_server(add_services, bind_host, port)
        self.rpc_address = f"{advertised}:{self.rpc_port}"
        log.info("Started the JobManager's RPC endpoint at %s (bound to %s:%d)",
                 self.rpc_address, bind_host, self.rpc_port)

        try:
            self._rest_server.start()
        except BaseException:
            self._rest_server = None
            self._rpc_server.stop(grace=0).wait(2.0)  # nothing half-started stays up
            self._rpc_server = None
            raise

        self._monitor = threading.Thread(target=self._check_heartbeats, daemon=True,
                                         name="TaskManager heartbeat monitor")
        self._monitor.start()

    @property
    def rest_port(self) -> int:
        return self._rest_server.port

    def _check_heartbeats(self) -> None:
        """Every ``period_s``: removes the TaskManagers whose heartbeat timed out, and asks
        each for a heartbeat every ``heartbeat.interval``.

        Timeouts count only time this process could observe: when the loop finds itself
        woken much later than its period (the process was stopped, e.g. SIGSTOP, or
        starved), the TaskManagers could not have been heard meanwhile, so that time is
        taken off their deadlines and heartbeats are requested at once, instead of
        declaring every TaskManager dead on resume.
        """
        timeout_s = self.heartbeat_timeout_ms / 1000.0
        interval_s = self.heartbeat_interval_ms / 1000.0
        period_s = max(0.05, min(self.heartbeat_interval_ms, self.heartbeat_timeout_ms) / 4000.0)
        late_threshold_s = max(PAUSE_DETECTION_MIN_S, timeout_s / 4)
        next_request = time.monotonic() + interval_s
        last_tick = time.monotonic()
        while not self._stopped.wait(period_s):
            now = time.monotonic()
            unobserved_s = now - last_tick - period_s
            last_tick = now
            if unobserved_s > late_threshold_s:
                self.resource_manager.discount_unobserved_time(unobserved_s)
                log.info("JobManager was not running for %.0f s; heartbeat deadlines moved",
                         unobserved_s)
                next_request = now  # ask every TaskManager at once
            for resource_id in self.resource_manager.check_heartbeats(timeout_s):
                log.warning("The heartbeat of TaskManager with id %s timed out.", resource_id)
            if time.monotonic() >= next_request:
                next_request = time.monotonic() + interval_s
                self.heartbeat_sender.request_heartbeats()

    def stop(self) -> None:
        self._stopped.set()
        self.heartbeat_sender.shutdown()
        for master in self.dispatcher.list_jobs():
            if not master.is_terminal:
                master.cancel()
        for master in self.dispatcher.list_jobs():
            master.wait_for_termination(5.0)
        if self._rest_server is not None:
            self._rest_server.stop()
        if self._rpc_server is not None:
            self._rpc_server.stop(grace=1.0).wait(2.0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    setup_logging()
    ready_file = take_ready_file()
    try:
        args, configuration = parse_daemon_args("flink_py JobManager", argv)
        runner = JobManagerRunner(configuration, config_dir_of(args))
        runner.start()
    except FlinkPyError as exc:
        log.error("Could not start the JobManager: %s", exc)
        return 1
    try:  # RPC and REST are bound: bin/flink-daemon.sh counts the JobManager as started
        signal_ready(ready_file, f"rpc={runner.rpc_address} rest={runner.rest_port}")
    except OSError as exc:
        log.error("Could not start the JobManager: cannot write the ready file: %s", exc)
        runner.stop()
        return 1
    signum = wait_for_termination_signal()
    log.info("RECEIVED SIGNAL %d: shutting down the JobManager.", signum)
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
