"""The TaskManager daemon: one slot worker process per slot, registered at the ResourceManager.

    python -m flink_py.runtime.entrypoint.taskmanager --configDir conf [-D key=value ...]

It starts ``taskmanager.numberOfTaskSlots`` slot workers, registers them with the
ResourceManager at ``jobmanager.rpc.address``:``jobmanager.rpc.port`` (retrying until the
JobManager is up), heartbeats every ``heartbeat.interval``, and supervises the workers: a
worker that dies (user code crashed it) is reported as lost, so its job fails, and is started
again. SIGTERM stops the workers and unregisters.

Each worker gets a work directory (the job's code goes there) that its TaskManager creates,
as ``flink_py-tm<TaskManager pid>-slot<n>-*`` in the temp directory, and deletes when the
worker process ends, however it ends (a worker killed with SIGKILL cannot clean up after
itself). At start a TaskManager deletes the work directories that TaskManagers that are gone
(killed themselves) left.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.rpc.gateways import (
    RemoteResourceManagerGateway, RemoteTaskExecutorGateway, RpcError, RpcUnreachableError)
from flink_py.runtime.entrypoint.common import (
    config_dir_of, install_security, local_address_towards, parse_daemon_args, setup_logging,
    signal_ready, take_ready_file, wait_for_termination_signal)
from flink_py.runtime.resourcemanager.registration import (
    SlotRegistration, TaskExecutorRegistration)
from flink_py.security.context import SecurityContext

log = logging.getLogger(__name__)

WORKER_START_TIMEOUT_S = 60.0
#: how long a worker whose stdout closed before it was ready may take to exit
WORKER_EXIT_TIMEOUT_S = 10.0
#: how often a slot worker killed by a signal while starting is started again at start-up
WORKER_START_ATTEMPTS = 3

#: the prefix of a slot worker's work directory; the TaskManager's pid follows
WORK_DIR_PREFIX = "flink_py-tm"
_WORK_DIR_NAME = re.compile(re.escape(WORK_DIR_PREFIX) + r"(\d+)-slot\d+-")


class JobManagerContact:
    """Whether a TaskManager's JobManager is gone, from the outcomes of its calls to it
    (pure state, no I/O; Flink's TaskExecutor heartbeat target of the JobManager).

    Silence is measured from the start of the first unanswered call after the last answered
    one, so time the TaskManager itself did not run (paused) does not count. Past
    ``heartbeat.timeout`` of silence, a JobManager that refuses connections is lost (its
    tasks are to be cancelled); one that accepts them but does not answer (stopped,
    overloaded) is reported unresponsive once and waited for: cancelling would lose its jobs
    for good, while a resumed JobManager finds them running.

    >>> contact = JobManagerContact(timeout_s=3.0)
    >>> contact.unanswered(started=10.0, now=11.0, refused=False) is None  # not yet
    True
    >>> contact.unanswered(started=11.0, now=14.0, refused=False)
    'unresponsive'
    >>> contact.unanswered(started=14.0, now=24.0, refused=False) is None  # said once
    True
    >>> contact.unanswered(started=24.0, now=24.1, refused=True)  # and now it is gone
    'lost'
    >>> contact.answered()  # was reported silent
    True
    >>> contact.unanswered(started=30.0, now=31.0, refused=True) is None  # a new silence
    True
    """

    UNRESPONSIVE = "unresponsive"
    LOST = "lost"

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        #: the start of the first unanswered call since the last answer; None while answered
        self.silent_since: Optional[float] = None
        #: what this silence was reported as (None: nothing yet)
        self.reported: Optional[str] = None

    def answered(self) -> bool:
        """The JobManager answered; True if its silence had been reported."""
        was_reported = self.reported is not None
        self.silent_since, self.reported = None, None
        return was_reported

    def unanswered(self, started: float, now: float, refused: bool) -> Optional[str]:
        """A call begun at ``started`` got no answer (``refused``: the connection was
        refused or broke, as opposed to a deadline that passed). Returns ``LOST`` or
        ``UNRESPONSIVE`` when this silence is to be reported as that, else None."""
        if self.silent_since is None:
            self.silent_since = started
        if now - self.silent_since <= self.timeout_s or self.reported == self.LOST:
            return None
        verdict = self.LOST if refused else self.UNRESPONSIVE
        if verdict == self.reported:
            return None
        self.reported = verdict
        return verdict


@dataclass
class _Worker:
    slot: int
    process: subprocess.Popen
    rpc_port: int
    data_port: int
    work_dir: str


def _is_task_manager(pid: int) -> bool:
    """Whether ``pid`` is a running TaskManager (not a pid recycled by another process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: not ours to judge
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"taskmanager" in cmdline.read()
    except OSError:
        return True  # no /proc: alive is all that can be told


def remove_orphaned_work_dirs(base: Optional[str] = None) -> List[str]:
    """Deletes the slot workers' work directories (this user's) whose TaskManager is gone;
    returns them. A TaskManager killed with SIGKILL could not delete them, and they hold
    jobs' code."""
    base = base or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(base)
    except OSError as exc:
        log.warning("cannot look for leftover work directories in %s: %s", base, exc)
        return removed
    for name in names:
        match = _WORK_DIR_NAME.match(name)
        path = os.path.join(base, name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            if os.lstat(path).st_uid != os.getuid() or _is_task_manager(int(match.group(1))):
                continue
        except OSError:
            continue  # removed meanwhile
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        log.info("Removed %d work directories of TaskManagers that are gone: %s",
                 len(removed), ", ".join(removed))
    return removed


class SlotWorkerStartError(FlinkPyError):
    """A slot worker ended before it was ready; ``killed``: by a signal."""

    def __init__(self, slot: int, exit_code: int) -> None:
        self.slot = slot
        self.exit_code = exit_code
        self.killed = exit_code < 0
        how = (f"was killed by signal {-exit_code}" if self.killed
               else f"exited with code {exit_code}")
        super().__init__(f"slot worker {slot} {how} before it was ready")


class TaskManagerRunner:
    """Starts and supervises the slot workers; registers and heartbeats."""

    def __init__(self, configuration: Configuration, config_dir: Optional[str],
                 dynamic: Sequence[str], security: Optional[SecurityContext] = None) -> None:
        """:param security: the context to use, already installed in this process (a local
            cluster's); by default the configuration's is resolved and installed."""
        self.configuration = configuration
        self.config_dir = config_dir
        self.dynamic = list(dynamic)
        #: added to the slot workers' environment, and to their command line
        self.worker_env: Dict[str, str] = {}
        self.worker_args: List[str] = []
        # before anything can listen or call: the JobManager's secret (never created here)
        self.security = security or install_security(configuration, config_dir)
        # checked here too, so that a refused address fails the TaskManager at once with the
        # reason, not later as slot workers that did not start
        self.security.check_bind_address(options.TASK_MANAGER_BIND_HOST.key,
                                         configuration.get(options.TASK_MANAGER_BIND_HOST))
        self.num_slots = configuration.get(options.NUM_TASK_SLOTS)
        if self.num_slots < 1:
            raise FlinkPyError(f"taskmanager.numberOfTaskSlots must be at least 1, got "
                               f"{self.num_slots}")
        jm_host = configuration.get(options.JOB_MANAGER_RPC_ADDRESS)
        jm_port = configuration.get(options.JOB_MANAGER_RPC_PORT)
        self.jobmanager_address = f"{jm_host}:{jm_port}"
        self.host = configuration.get(options.TASK_MANAGER_HOST) or local_address_towards(
            jm_host, jm_port)
        self.resource_id = f"{self.host}:{os.getpid()}-{secrets.token_hex(3)}"
        self.heartbeat_interval_s = configuration.get(options.HEARTBEAT_INTERVAL) / 1000.0
        self.heartbeat_timeout_s = configuration.get(options.HEARTBEAT_TIMEOUT) / 1000.0
        self._contacts = JobManagerContact(self.heartbeat_timeout_s)
        self._registered_once = False
        self.resource_manager = RemoteResourceManagerGateway(self.jobmanager_address)
        self._lock = threading.Lock()
        self._workers: Dict[int, _Worker] = {}
        self._stopping = threading.Event()
        self._register_now = threading.Event()

    # -- workers ----------------------------------------------------------------------------

    def _start_worker(self, slot: int) -> _Worker:
        # ours, not the worker's: it is deleted when the worker ends, however it ends
        work_dir = tempfile.mkdtemp(prefix=f"{WORK_DIR_PREFIX}{os.getpid()}-slot{slot}-")
        try:
            return self._start_worker_in(slot, work_dir)
        except BaseException:
            shutil.rmtree(work_dir, ignore_errors=True)
            raise

    def _start_worker_in(self, slot: int, work_dir: str) -> _Worker:
        command = [sys.executable, "-m", "flink_py.runtime.entrypoint.slot_worker",
                   "--resource-id", self.resource_id, "--slot", str(slot), "--host", self.host,
                   "--work-dir", work_dir]
        if self.config_dir:
            command += ["--configDir", self.config_dir]
        for item in self.dynamic:
            command += ["-D", item]
        command += self.worker_args
        env = dict(os.environ)
        env.update(self.worker_env)
        if self.security.secret is not None:  # in the environment: ps shows command lines
            env.update(self.security.secret.environment())
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   env=env)
        ready, ended = _read_ready_line(process, WORKER_START_TIMEOUT_S)
        if ready is None:
            if not ended:  # no READY in time, and the worker still runs
                process.kill()
                process.wait()
                raise FlinkPyError(f"slot worker {slot} did not start within "
                                   f"{WORKER_START_TIMEOUT_S:.0f} s")
            # Its stdout closed: it is ending. A killed process closes its files before it
            # can be waited for, so poll() may still say "running" here: wait for its code.
            try:
                code = process.wait(timeout=WORKER_EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            raise SlotWorkerStartError(slot, code)
        rpc_port, data_port = ready
        log.info("Slot worker %d started (pid %d, rpc port %d, data port %d)", slot,
                 process.pid, rpc_port, data_port)
        return _Worker(slot, process, rpc_port, data_port, work_dir)

    def _supervise(self, worker: _Worker) -> None:
        code = worker.process.wait()
        shutil.rmtree(worker.work_dir, ignore_errors=True)  # the worker may not have
        if self._stopping.is_set():
            return
        reason = (f"The slot worker of TaskManager {self.resource_id} (slot {worker.slot}, "
                  f"pid {worker.process.pid}) exited with code {code}; its tasks are lost.")
        log.error(reason)
        try:
            self.resource_manager.report_slot_lost(self.resource_id, worker.slot, reason)
        except RpcError as exc:
            log.error("could not report the lost slot: %s", exc)
        while not self._stopping.is_set():
            try:
                replacement = self._start_worker(worker.slot)
                break
            except FlinkPyError as exc:
                log.error("restarting slot worker %d failed: %s", worker.slot, exc)
                if self._stopping.wait(1.0):
                    return
        else:
            return
        with self._lock:
            self._workers[worker.slot] = replacement
        self._watch(replacement)
        self._register_now.set()  # the slot's addresses changed

    def _watch(self, worker: _Worker) -> None:
        threading.Thread(target=self._supervise, args=(worker,), daemon=True,
                         name=f"slot worker {worker.slot} supervisor").start()

    # -- registration and heartbeats ---------------------------------------------------------

    def _registration(self) -> TaskExecutorRegistration:
        with self._lock:
            workers = sorted(self._workers.values(), key=lambda w: w.slot)
        slots = tuple(SlotRegistration(w.slot, f"{self.host}:{w.rpc_port}",
                                       f"{self.host}:{w.data_port}",
                                       f"{self.resource_id}/{w.slot}/{w.process.pid}")
                      for w in workers)
        return TaskExecutorRegistration(
            self.resource_id, self.host, slots[0].rpc_address if slots else "",
            workers[0].data_port if workers else 0, slots, _hardware())

    def _register(self) -> "tuple[bool, Optional[RpcError]]":
        """Registers at the ResourceManager: whether it was accepted, and the call's error
        if it failed."""
        try:
            answer = self.resource_manager.register(self._registration())
        except RpcError as exc:
            log.info("Could not register at the ResourceManager (%s); retrying.", exc)
            return False, exc
        if not answer.accepted:
            log.error("The ResourceManager refused the registration: %s", answer.message)
            return False, None
        log.info("Successful registration at the ResourceManager %s as %s",
                 self.jobmanager_address, self.resource_id)
        if self._registered_once and not answer.was_registered:
            self._cancel_all_tasks(
                f"registered anew at the ResourceManager {self.jobmanager_address}, which did "
                f"not know this TaskManager (a new JobManager, or it had given up on it): the "
                f"tasks from before belong to no JobMaster and are cancelled")
        self._registered_once = True
        return True, None

    def _contact(self, ok: bool, started: float, error: Optional[RpcError] = None) -> None:
        """Records whether the JobManager answered a call begun at ``started`` (monotonic);
        cancels its tasks when it is lost (``JobManagerContact`` says when)."""
        if ok:
            if self._contacts.answered():
                log.info("The JobManager at %s is reachable again.", self.jobmanager_address)
            return
        refused = error is None or isinstance(error, RpcUnreachableError)
        now = time.monotonic()
        verdict = self._contacts.unanswered(started, now, refused)
        silent_s = now - (self._contacts.silent_since or now)
        if verdict == JobManagerContact.UNRESPONSIVE:
            log.warning("The JobManager at %s has not answered for %.1f s (heartbeat.timeout: "
                        "%.0f ms) but accepts connections (paused or overloaded?): its tasks "
                        "keep running until it answers or is gone (last error: %s)",
                        self.jobmanager_address, silent_s, self.heartbeat_timeout_s * 1000,
                        error)
        elif verdict == JobManagerContact.LOST:
            # (until JobManager high availability exists, no new JobManager takes them over)
            self._cancel_all_tasks(
                f"The JobManager at {self.jobmanager_address} did not answer for "
                f"{silent_s:.1f} s (heartbeat.timeout: {self.heartbeat_timeout_s * 1000:.0f} "
                f"ms): its tasks are cancelled")

    def _cancel_all_tasks(self, reason: str) -> None:
        log.error(reason)
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            gateway = RemoteTaskExecutorGateway(f"{self.host}:{worker.rpc_port}", "")
            try:
                gateway.cancel_all_tasks(reason)
            except RpcError as exc:
                log.error("could not cancel the tasks of slot worker %d: %s", worker.slot, exc)

    def _heartbeat_loop(self) -> None:
        registered = False
        backoff = 0.1
        while not self._stopping.is_set():
            if self._register_now.is_set():
                self._register_now.clear()
                registered = False
            if not registered:
                started = time.monotonic()
                registered, error = self._register()
                self._contact(registered, started, error)
                if not registered:
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                backoff = 0.1
            else:
                started = time.monotonic()
                try:
                    registered = self.resource_manager.heartbeat(self.resource_id)
                    self._contact(True, started)
                    if not registered:
                        log.warning("The ResourceManager does not know us any more; "
                                    "registering again.")
                        continue
                except RpcError as exc:
                    log.warning("Heartbeat to the ResourceManager failed: %s", exc)
                    self._contact(False, started, exc)
            self._wait_interval()

    def _wait_interval(self) -> None:
        deadline = time.monotonic() + self.heartbeat_interval_s
        while not self._stopping.is_set() and not self._register_now.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._register_now.wait(min(remaining, 0.5))

    # -- lifecycle ---------------------------------------------------------------------------

    def _start_worker_at_start_up(self, slot: int) -> _Worker:
        """Starts a slot's first worker; one killed by a signal from outside before it was
        ready (an operator's kill, the OOM killer) is started again, up to
        ``WORKER_START_ATTEMPTS`` times, as a worker killed later is; one that exits by itself
        fails the start with its exit code."""
        for attempt in range(1, WORKER_START_ATTEMPTS + 1):
            try:
                return self._start_worker(slot)
            except SlotWorkerStartError as exc:
                if not exc.killed or attempt == WORKER_START_ATTEMPTS:
                    raise
                log.warning("%s; starting it again (attempt %d of %d)", exc, attempt + 1,
                            WORKER_START_ATTEMPTS)
        raise AssertionError("unreachable")

    def start(self) -> None:
        remove_orphaned_work_dirs()
        # all at once: each spends most of its start importing, on a core of its own
        with concurrent.futures.ThreadPoolExecutor(self.num_slots) as pool:
            starts = [pool.submit(self._start_worker_at_start_up, slot)
                      for slot in range(self.num_slots)]
        workers = [f.result() for f in starts if f.exception() is None]
        failures = [f.exception() for f in starts if f.exception() is not None]
        if failures:
            for worker in workers:
                worker.process.kill()
                worker.process.wait()
                shutil.rmtree(worker.work_dir, ignore_errors=True)
            raise failures[0]  # type: ignore[misc]
        with self._lock:
            self._workers = {w.slot: w for w in workers}
        for worker in workers:
            self._watch(worker)
        threading.Thread(target=self._heartbeat_loop, daemon=True,
                         name="ResourceManager heartbeat").start()

    def stop(self) -> None:
        self._stopping.set()
        self._register_now.set()
        try:
            self.resource_manager.disconnect(self.resource_id, "the TaskManager is shutting down")
        except RpcError as exc:
            log.info("could not unregister: %s", exc)
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            if worker.process.stdin is not None:
                worker.process.stdin.close()  # the worker exits at EOF
        deadline = time.monotonic() + 10.0
        for worker in workers:
            try:
                worker.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            shutil.rmtree(worker.work_dir, ignore_errors=True)


def _read_ready_line(process: subprocess.Popen, timeout_s: float
                     ) -> Tuple[Optional[tuple], bool]:
    """Reads the worker's ``READY <rpc> <data>`` line: ``(ports, False)``, or ``(None, True)``
    when its stdout ended first (it died), ``(None, False)`` when ``timeout_s`` passed.

    Afterwards the worker's stdout (what its tasks print, e.g. ``print()`` sinks) is copied to
    ours, which the scripts send to the TaskManager's ``.out`` file, as in Flink.
    """
    result: List[tuple] = []
    ready = threading.Event()
    ended = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        out = sys.stdout.buffer
        for raw in iter(process.stdout.readline, b""):
            if not ready.is_set():
                parts = raw.decode("utf-8", "replace").split()
                if len(parts) == 3 and parts[0] == "READY":
                    result.append((int(parts[1]), int(parts[2])))
                    ready.set()
                    continue
            out.write(raw)
            out.flush()
        ended.set()  # EOF: the worker ended
        ready.set()

    threading.Thread(target=read, daemon=True, name=f"stdout of pid {process.pid}").start()
    ready.wait(timeout_s)
    if result:
        return result[0], False
    return None, ended.is_set()


def _hardware() -> Dict[str, int]:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        free = os.sysconf("SC_AVPHYS_PAGES") * page_size
    except (ValueError, OSError):
        pages, page_size, free = 0, 0, 0
    return {"cpuCores": os.cpu_count() or 1, "physicalMemory": pages * page_size,
            "freeMemory": free, "managedMemory": 0}


def main(argv: Optional[Sequence[str]] = None) -> int:
    setup_logging()
    ready_file = take_ready_file()
    try:
        args, configuration = parse_daemon_args("flink_py TaskManager", argv)
        runner = TaskManagerRunner(configuration, config_dir_of(args), args.dynamic)
        runner.start()
    except FlinkPyError as exc:
        log.error("Could not start the TaskManager: %s", exc)
        return 1
    try:  # every slot worker serves: bin/flink-daemon.sh counts the TaskManager as started
        signal_ready(ready_file, f"resource-id={runner.resource_id} slots={runner.num_slots}")
    except OSError as exc:
        log.error("Could not start the TaskManager: cannot write the ready file: %s", exc)
        runner.stop()
        return 1
    log.info("TaskManager %s started with %d slots; JobManager at %s", runner.resource_id,
             runner.num_slots, runner.jobmanager_address)
    signum = wait_for_termination_signal()
    log.info("RECEIVED SIGNAL %d: shutting down the TaskManager.", signum)
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
