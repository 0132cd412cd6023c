"""A real local cluster for tests and benchmarks: a JobManager and TaskManagers as processes.

Each cluster gets its own configuration directory with free ports, its daemons log to files
in that directory, and ``stop()`` ends every process it started (SIGTERM, then SIGKILL).
Waiting is always polling a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

from flink_py.common.configuration import Configuration
from flink_py.security.cluster_secret import SECRET_FILE_NAME, create_secret_file
from flink_py.security.rest_auth import rest_client_ssl_context
from flink_py.testing.poll import wait_until

#: the directory holding the flink_py package (put on the daemons' PYTHONPATH)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_processes(pid: int) -> List[int]:
    """The pids of the child processes of ``pid`` (Linux /proc): a TaskManager's slot
    workers."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def processes_with_argument(text: str) -> List[int]:
    """The live (not zombie) processes whose command line contains ``text``: a test's
    daemons and slot workers, found by their configuration directory."""
    listing = subprocess.run(["ps", "-ww", "-eo", "pid=,stat=,args="],
                             capture_output=True, text=True, check=True).stdout
    pids = []
    for line in listing.splitlines():
        pid, process_state, args = (line.split(None, 2) + ["", ""])[:3]
        if text in args and not process_state.startswith("Z"):
            pids.append(int(pid))
    return pids


class ProcessCluster:
    """One JobManager and some TaskManagers, started as processes from a fresh conf dir."""

    def __init__(self, base_dir: str, task_managers: int = 2, slots: int = 2,
                 conf: Optional[Dict[str, Any]] = None, jobmanager_host: str = "localhost",
                 start: bool = True) -> None:
        self.dir = base_dir
        self.conf_dir = os.path.join(base_dir, "conf")
        self.log_dir = os.path.join(base_dir, "log")
        os.makedirs(self.conf_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self.jobmanager_host = jobmanager_host
        self.rpc_port = free_port()
        self.rest_port = free_port()
        while self.rest_port == self.rpc_port:  # a port freed at once can be handed out again
            self.rest_port = free_port()
        self.slots = slots
        settings: Dict[str, Any] = {
            "jobmanager.rpc.address": jobmanager_host,
            "jobmanager.rpc.port": self.rpc_port,
            "rest.address": jobmanager_host,
            "rest.port": self.rest_port,
            "taskmanager.numberOfTaskSlots": slots,
            "parallelism.default": 1,
            "heartbeat.interval": 500,
            "heartbeat.timeout": 3000,
            "slot.request.timeout": 20000,
        }
        settings.update(conf or {})
        with open(os.path.join(self.conf_dir, "flink-conf.yaml"), "w") as f:
            for key, value in settings.items():
                f.write(f"{key}: {value}\n")
        # what bin/start-cluster.sh does: one secret for the daemons and the CLI of this dir
        self.secret = create_secret_file(os.path.join(self.conf_dir, SECRET_FILE_NAME))
        self._rest_ssl_context = rest_client_ssl_context(
            Configuration({k: str(v) for k, v in settings.items()}))
        self.jobmanager: Optional[subprocess.Popen] = None
        self.task_managers: List[subprocess.Popen] = []
        self._logs: List[Any] = []
        if start:
            try:
                self.start_jobmanager()
                for _ in range(task_managers):
                    self.start_task_manager()
                self.wait_for_slots(task_managers * slots)
            except BaseException:
                self.stop()
                raise

    # -- processes --------------------------------------------------------------------------

    def _spawn(self, module: str, name: str, prefix: Sequence[str] = (),
               extra: Sequence[str] = ()) -> subprocess.Popen:
        log = open(os.path.join(self.log_dir, f"{name}.log"), "ab")
        self._logs.append(log)
        env = dict(os.environ, FLINK_CONF_DIR=self.conf_dir,
                   PYTHONPATH=os.pathsep.join(
                       [REPO] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                 if p]))
        return subprocess.Popen(
            [*prefix, sys.executable, "-m", module, "--configDir", self.conf_dir, *extra],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=self.dir)

    def start_jobmanager(self, prefix: Sequence[str] = ()) -> None:
        self.jobmanager = self._spawn("flink_py.runtime.entrypoint.jobmanager", "jobmanager",
                                      prefix)
        wait_until(lambda: self._rest_up(), what="the JobManager's REST endpoint")

    def start_task_manager(self, prefix: Sequence[str] = (),
                           extra: Sequence[str] = ()) -> subprocess.Popen:
        process = self._spawn("flink_py.runtime.entrypoint.taskmanager",
                              f"taskmanager-{len(self.task_managers)}", prefix, extra)
        self.task_managers.append(process)
        return process

    def wait_for_slots(self, total: int, free: Optional[int] = None) -> Dict[str, Any]:
        free = total if free is None else free

        def ready() -> Any:
            overview = self.rest("/overview")
            return overview if (overview["slots-total"] == total
                                and overview["slots-available"] == free) else None
        return wait_until(ready, what=f"{total} slots ({free} free)")

    def _rest_up(self) -> bool:
        if self.jobmanager is not None and self.jobmanager.poll() is not None:
            raise AssertionError(f"the JobManager exited with {self.jobmanager.returncode}:\n"
                                 f"{self.log('jobmanager')}")
        try:
            self.rest("/overview")
            return True
        except OSError:
            return False

    def log(self, name: str) -> str:
        path = os.path.join(self.log_dir, f"{name}.log")
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self) -> None:
        processes = [p for p in [*self.task_managers, self.jobmanager] if p is not None]
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in self._logs:
            log.close()

    # -- clients ----------------------------------------------------------------------------

    @property
    def rest_address(self) -> str:
        return f"{self.jobmanager_host}:{self.rest_port}"

    @property
    def rest_scheme(self) -> str:
        return "https" if self._rest_ssl_context is not None else "http"

    def client(self, timeout_s: float = 30.0) -> Any:
        """A RestClusterClient of this cluster, made from its conf dir as the CLI makes one
        (the secret's token, REST TLS when configured)."""
        from flink_py.client.rest_cluster_client import client_from_configuration
        from flink_py.common.configuration import GlobalConfiguration
        configuration = GlobalConfiguration.load_configuration(self.conf_dir)
        return client_from_configuration(configuration, self.conf_dir, self.rest_address,
                                         timeout_s)

    def rest(self, path: str, method: str = "GET", body: Optional[bytes] = None) -> Any:
        """A REST request; all but GETs carry the bearer token of :attr:`secret`."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if method != "GET":
            headers["Authorization"] = f"Bearer {self.secret.rest_token()}"
        request = urllib.request.Request(f"{self.rest_scheme}://{self.rest_address}{path}",
                                         data=body, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=10,
                                    context=self._rest_ssl_context) as answer:
            data = answer.read()
        return json.loads(data) if data else None

    def flink(self, *args: str, timeout_s: float = 60.0,
              cwd: Optional[str] = None) -> subprocess.CompletedProcess:
        """Runs the ``flink`` CLI against this cluster."""
        env = dict(os.environ, FLINK_CONF_DIR=self.conf_dir)
        return subprocess.run([sys.executable, "-m", "flink_py.cli.main", *args],
                              capture_output=True, text=True, timeout=timeout_s, env=env,
                              cwd=cwd or self.dir)

    def __enter__(self) -> "ProcessCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
