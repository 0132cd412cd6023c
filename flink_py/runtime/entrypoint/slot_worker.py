"""A slot worker: the process that runs the subtasks of one slot of a TaskManager.

    python -m flink_py.runtime.entrypoint.slot_worker --resource-id ID --slot N --host H \\
        [--configDir conf] [-D key=value ...]

Slots are processes so that a TaskManager's slots run Python on several cores, and so that a
crash of user code in one slot leaves the TaskManager and its other slots running. A worker
serves the TaskExecutor gateway (gRPC) and a data server for its result partitions, both on
free ports, and tells its TaskManager with one line on stdout: ``READY <rpc port> <data port>``.
It exits when its TaskManager closes its stdin (or dies), or on SIGTERM, and with
``EXIT_CODE_TASK_NOT_CANCELLABLE`` when a task's thread did not end within
``task.cancellation.timeout`` after it was cancelled (a user function ignoring cancellation):
the task is reported FAILED first, then the worker exits so that its TaskManager starts a
fresh one in its place (a thread stuck in user code cannot be stopped otherwise).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any, Optional, Sequence

from flink_py.common import config_options as options
from flink_py.errors import FlinkPyError
from flink_py.graph.ids import ResourceID
from flink_py.rpc import cluster_pb2_grpc as pb_grpc
from flink_py.rpc.gateways import RemoteJobMasterGateway, TaskExecutorServicer, start_server
from flink_py.runtime.entrypoint.common import (
    LOG_FORMAT, config_dir_of, install_security, line_buffered_stdout, parse_daemon_args)
from flink_py.runtime.network.remote import DataServer
from flink_py.runtime.taskmanager.task_executor import TaskExecutor
from flink_py.runtime.taskmanager.user_code import UserCodeLoader

log = logging.getLogger(__name__)

#: the exit code of a worker whose task could not be cancelled (Flink's TaskManager exits on
#: this fatal error too)
EXIT_CODE_TASK_NOT_CANCELLABLE = 70


def _exit_on_fatal_error(task: Any, message: str) -> None:
    """A task cannot be stopped: the process must end (see the module docstring)."""
    log.critical("fatal error, slot worker exits: %s", message)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_CODE_TASK_NOT_CANCELLABLE)

#: the exit code of a worker whose JobMaster asked for its restart (a task it cancelled did
#: not end within task.cancellation.timeout): the same fatal condition
RESTART_EXIT_CODE = EXIT_CODE_TASK_NOT_CANCELLABLE


#: the worker's gc thresholds (generation 0, 1, 2); Python's defaults are (700, 10, 10)
WORKER_GC_THRESHOLDS = (50_000, 20, 20)


def main(argv: Optional[Sequence[str]] = None) -> int:
    # what tasks print goes to the TaskManager (a pipe) line by line, not in 8 KB blocks
    line_buffered_stdout()
    args, config = parse_daemon_args("flink_py slot worker", argv, [
        ("--resource-id", {"required": True}),
        ("--slot", {"type": int, "required": True}),
        ("--host", {"required": True, "help": "the address other processes reach us at"}),
        ("--work-dir", {"default": None,
                        "help": "where jobs' code goes; the TaskManager that made it deletes "
                                "it (default: a new temp directory, deleted at exit)"}),
        ("--log-level", {"default": "INFO", "choices": ["DEBUG", "INFO", "WARNING", "ERROR"],
                         "help": "what is logged to stderr (a local job's workers: WARNING)"}),
    ])
    level = getattr(logging, args.log_level)
    logging.basicConfig(level=level, stream=sys.stderr, force=True,
                        format=LOG_FORMAT.replace("[]", f"[slot {args.slot}]"))
    logging.getLogger("flink_py").setLevel(level)
    logging.getLogger("grpc").setLevel(logging.WARNING)
    bind_host = config.get(options.TASK_MANAGER_BIND_HOST)
    try:  # the TaskManager's secret, from the environment it gave us
        security = install_security(config, config_dir_of(args))
        # RPC and data endpoints: an open address needs something that authenticates peers
        security.check_bind_address(options.TASK_MANAGER_BIND_HOST.key, bind_host)
    except FlinkPyError as exc:
        log.error("cannot start: %s", exc)
        return 1
    # The TaskManager's, if it gave one: it deletes it when this process ends, even by SIGKILL.
    own_work_dir = args.work_dir is None
    work_dir = tempfile.mkdtemp(prefix=f"flink_py-slot{args.slot}-") if own_work_dir \
        else args.work_dir
    executor = TaskExecutor(
        1, config.get(options.NETWORK_BUFFERS_PER_CHANNEL)
        + config.get(options.NETWORK_EXTRA_BUFFERS_PER_GATE),
        ResourceID(args.resource_id), config.get(options.NETWORK_LOCAL_HANDOFF),
        user_code_loader=UserCodeLoader(work_dir), configuration=config,
        on_fatal_error=_exit_on_fatal_error)
    data_server = DataServer(executor.partitions, bind_host, 0)
    data_server.start()

    stop = threading.Event()
    restart_reason: list = []

    def restart(reason: str) -> None:
        # Ends the worker with a failure code: the TaskManager reports the slot lost and
        # starts a new worker (a task ignored its cancellation).
        restart_reason.append(reason)
        stop.set()

    def add_services(server: Any) -> None:
        pb_grpc.add_TaskExecutorGatewayServicer_to_server(
            TaskExecutorServicer(executor, RemoteJobMasterGateway, restart), server)

    try:
        rpc_server, rpc_port = start_server(add_services, bind_host, 0)
    except FlinkPyError as exc:
        log.error("cannot start: %s", exc)
        return 1
    print(f"READY {rpc_port} {data_server.address[1]}", flush=True)
    # Buffers queued between tasks keep thousands of young tuples alive at once, so the
    # default threshold (700) ran a collection every few buffers: W2 at -p 2 ran 12% faster
    # with this one. A worker is ours, not the program's (thread mode leaves the program's
    # interpreter as it is).
    gc.set_threshold(*WORKER_GC_THRESHOLDS)

    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the TaskManager, which stops us

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # returns at EOF: our TaskManager closed the pipe or died
        stop.set()

    threading.Thread(target=watch_parent, daemon=True, name="parent watch").start()
    while not stop.wait(3600):
        pass
    if restart_reason:
        log.error("slot worker %d of %s restarts: %s", args.slot, args.resource_id,
                  restart_reason[0])
        rpc_server.stop(grace=0.5).wait(1.0)  # the answer to RestartWorker goes out first
        data_server.stop()
        if own_work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
        return RESTART_EXIT_CODE  # no clean shutdown: a task thread ignores cancellation
    log.info("slot worker %d of %s stopping", args.slot, args.resource_id)
    # No new deployments first: a JobMaster redeploying the tasks cancelled below must not
    # reach this dying worker (its calls fail at once and it deploys elsewhere).
    rpc_server.stop(grace=0.5).wait(1.0)
    executor.shutdown(5.0)
    if own_work_dir:
        shutil.rmtree(work_dir, ignore_errors=True)
    data_server.stop()
    return 0


if __name__ == "__main__":
    # Ending by os._exit: a task thread stuck in user code must not keep the process alive.
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
