"""Start-up errors a new user meets, with the real daemons started by ``bin/`` (issue 9, part 4).

Each test writes its own configuration directory (free ports, its own pid, log and temp
directories), runs the scripts as a user does, and ends every process it started: with
``stop-cluster.sh``, then SIGKILL to whatever still runs with its configuration directory.
``PYTHONUNBUFFERED`` is taken out of the daemons' environment: a user's shell has none, and
with it output buffering would go unnoticed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import (
    REPO, child_processes, free_port, processes_with_argument)

BIN_DIR = Path(REPO) / "bin"
SCRIPT_TIMEOUT_S = 90
JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or not os.path.isdir("/proc"),
                                reason="the scripts need bash; the test reads /proc")

# Variables the scripts read or export; a test starts from none of them.
SCRIPT_VARIABLES = (
    "FLINK_CONF_DIR", "FLINK_PID_DIR", "FLINK_LOG_DIR", "FLINK_SSH_OPTS", "FLINK_PYTHON",
    "FLINK_IDENT_STRING", "MAX_LOG_FILE_NUMBER", "HIGH_AVAILABILITY", "FLINK_HOME",
    "_FLINK_CONFIG_LOADED_FROM", "FLINK_PY_JOBMANAGER_MODULE", "FLINK_PY_TASKMANAGER_MODULE",
    "FLINK_STOP_TIMEOUT", "FLINK_DAEMON_STARTUP_TIMEOUT", "FLINK_STARTED_DAEMONS_FILE",
    "PYTHONUNBUFFERED", "HOSTNAME", "TMPDIR",
)

TICKS_JOB = """
    import time
    from flink_py.datastream import StreamExecutionEnvironment
    from flink_py.datastream.functions import SourceFunction

    class Ticks(SourceFunction):
        def __init__(self):
            self.running = True

        def run(self, ctx):
            i = 0
            while self.running:
                ctx.collect(i)
                i += 1
                time.sleep(0.5)

        def cancel(self):
            self.running = False

    def show(i):
        if SHOW == "user":
            print(f"tick {i} at {time.time():.3f}")  # a user's own print()
        return f"tick {i} at {time.time():.3f}"

    env = StreamExecutionEnvironment.get_execution_environment()
    ticks = env.add_source(Ticks()).set_parallelism(1).rebalance()
    shown = ticks.map(show).set_parallelism(PARALLELISM)
    if SHOW == "user":  # nothing else in the worker writes (or flushes) stdout
        shown.add_sink(lambda value, context=None: None).set_parallelism(PARALLELISM)
    else:
        shown.print().set_parallelism(PARALLELISM)
    env.execute("ticks")
"""


def _ticks_job(parallelism: int, show: str = "print") -> str:
    return TICKS_JOB.replace("PARALLELISM", str(parallelism)).replace("SHOW", repr(show))


class ScriptCluster:
    """A configuration directory for real daemons started by the scripts of ``bin/``."""

    def __init__(self, root: Path, slots: int = 2, extra_conf: str = "") -> None:
        self.root = root
        self.conf_dir = root / "conf"
        self.log_dir = root / "log"
        self.pid_dir = root / "pid"
        self.tmp_dir = root / "tmp"  # the daemons' temp directory (slot work directories)
        self.conf_dir.mkdir(parents=True)
        self.tmp_dir.mkdir()
        self.rpc_port = free_port()
        self.rest_port = free_port()
        (self.conf_dir / "flink-conf.yaml").write_text(textwrap.dedent(f"""\
            jobmanager.rpc.address: localhost
            jobmanager.rpc.port: {self.rpc_port}
            jobmanager.bind-host: localhost
            rest.address: localhost
            rest.port: {self.rest_port}
            rest.bind-address: localhost
            taskmanager.host: localhost
            taskmanager.bind-host: localhost
            taskmanager.numberOfTaskSlots: {slots}
            heartbeat.interval: 500
            heartbeat.timeout: 5000
            env.pid.dir: {self.pid_dir}
            env.log.dir: {self.log_dir}
            """) + extra_conf)
        (self.conf_dir / "workers").write_text("localhost\n")
        self.env: Dict[str, str] = {
            key: value for key, value in os.environ.items() if key not in SCRIPT_VARIABLES}
        self.env.update({"FLINK_CONF_DIR": str(self.conf_dir), "FLINK_PYTHON": sys.executable,
                         "TMPDIR": str(self.tmp_dir)})
        self.host = socket.gethostname()

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess:
        """Runs a script of bin/ to the end; stdout and stderr together in ``.stdout``."""
        return subprocess.run([str(BIN_DIR / script), *args], env=self.env, cwd=self.root,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=SCRIPT_TIMEOUT_S)

    def flink(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN_DIR / "flink"), *args], env=self.env, cwd=self.root,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=SCRIPT_TIMEOUT_S)

    def file(self, daemon: str, index: int, suffix: str) -> Path:
        ident = self.env.get("USER") or subprocess.run(
            ["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        return self.log_dir / f"flink-{ident}-{daemon}-{index}-{self.host}.{suffix}"

    def pids(self, daemon: str) -> List[int]:
        files = list(self.pid_dir.glob(f"flink-*-{daemon}.pid")) if self.pid_dir.exists() else []
        return [int(line) for path in files for line in path.read_text().split()]

    def own_processes(self) -> List[int]:
        """The live processes that run with this test's configuration directory (the
        daemons and their slot workers)."""
        return processes_with_argument(str(self.conf_dir))

    def work_dirs(self) -> List[Path]:
        return sorted(self.tmp_dir.glob("flink_py-tm*-slot*-*"))

    def stop(self) -> None:
        """stop-cluster.sh, then SIGKILL to what is left."""
        try:
            self.run("stop-cluster.sh")
        finally:
            for pid in self.own_processes():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_until(lambda: not self.own_processes(), "the test's processes to end")


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator:
    made: List[ScriptCluster] = []

    def make(**kwargs: object) -> ScriptCluster:
        cluster = ScriptCluster(tmp_path / f"c{len(made)}", **kwargs)  # type: ignore[arg-type]
        made.append(cluster)
        return cluster
    try:
        yield make
    finally:
        for cluster in made:
            cluster.stop()


def _submit(cluster: ScriptCluster, program: str, *args: str) -> str:
    path = cluster.root / "job.py"
    path.write_text(textwrap.dedent(program))
    done = cluster.flink("run", "-d", *args, str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    match = JOB_ID.search(done.stdout)
    assert match, done.stdout
    return match.group(1)


def _printed_at(text: str, what: str, index: int) -> Optional[float]:
    match = re.search(rf"^(?:\d+> )?{what} {index} at ([\d.]+)$", text, re.M)
    return float(match.group(1)) if match else None


@pytest.mark.parametrize("show", ["user", "print"])
def test_what_tasks_print_reaches_the_out_file_within_two_seconds(
        make_cluster, show: str) -> None:
    parallelism = 4
    cluster = make_cluster(slots=parallelism,
                           extra_conf="taskmanager.numberOfTaskSlot: 3\n")  # a typo

    started = cluster.run("start-cluster.sh")

    assert started.returncode == 0, started.stdout
    # the typo is pointed out in both daemons' logs, the closest known key named
    hint = "Unknown configuration key 'taskmanager.numberOfTaskSlot' in " \
           f"{cluster.conf_dir / 'flink-conf.yaml'}; did you mean 'taskmanager.numberOfTaskSlots'?"
    for daemon in ("jobmanager", "taskmanager"):
        assert hint in cluster.file(daemon, 0, "log").read_text()

    _submit(cluster, _ticks_job(parallelism, show))
    out = cluster.file("taskmanager", 0, "out")
    delays: List[float] = []
    for index in range(8):
        printed = wait_until(lambda: _printed_at(out.read_text(), "tick", index),
                             f"'tick {index}' in {out}", timeout_s=30, interval_s=0.05)
        delays.append(time.time() - printed)
    # the first lines may wait for the job to be deployed; none for a buffer to fill
    assert max(delays[2:]) < 2.0, delays


def test_start_cluster_fails_and_starts_nothing_when_the_rest_port_is_taken(
        make_cluster) -> None:
    cluster = make_cluster()
    with socket.socket() as taken:
        taken.bind(("localhost", cluster.rest_port))
        taken.listen()

        result = cluster.run("start-cluster.sh")

    assert result.returncode == 1, result.stdout
    assert "Error starting jobmanager daemon (it exited with code 1)" in result.stdout
    assert (f"Could not start the JobManager: Could not start the REST server on localhost:"
            f"{cluster.rest_port}: Address already in use (127.0.0.1:{cluster.rest_port})"
            ) in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "The JobManager did not start (see above); nothing else was started.")
    assert "Starting taskmanager daemon" not in result.stdout
    assert cluster.own_processes() == []
    assert cluster.pids("jobmanager") == []


def test_start_cluster_fails_on_a_bad_port(make_cluster) -> None:
    cluster = make_cluster()

    result = cluster.run("jobmanager.sh", "start", "-D", "jobmanager.rpc.port=-5")

    assert result.returncode == 1, result.stdout
    assert ("Could not start the JobManager: Could not parse value '-5' for configuration key "
            "'jobmanager.rpc.port': expected a port in 0..65535") in result.stdout
    assert "Traceback" not in result.stdout
    assert cluster.own_processes() == []


def test_jobmanager_start_returns_once_the_jobmanager_serves(make_cluster) -> None:
    cluster = make_cluster()

    started = cluster.run("jobmanager.sh", "start")

    assert started.returncode == 0, started.stdout
    # no waiting: the script returned once RPC and REST were bound
    with socket.create_connection(("localhost", cluster.rest_port), timeout=5):
        pass
    with socket.create_connection(("localhost", cluster.rpc_port), timeout=5):
        pass


def _worker_dir(worker: int) -> Optional[Path]:
    """The ``--work-dir`` of a slot worker's command line."""
    try:
        args = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return Path(args[args.index(b"--work-dir") + 1].decode()) if b"--work-dir" in args else None


def test_slot_work_directories_do_not_outlive_their_processes(make_cluster) -> None:
    cluster = make_cluster(slots=2)
    assert cluster.run("start-cluster.sh").returncode == 0
    [task_manager] = cluster.pids("taskmanager")
    job_id = _submit(cluster, _ticks_job(1))

    def busy_worker() -> Optional[tuple]:
        for worker in child_processes(task_manager):
            work_dir = _worker_dir(worker)
            if work_dir is not None and (work_dir / job_id).is_dir():
                return worker, work_dir
        return None
    worker, work_dir = wait_until(busy_worker, "a slot worker with the job's code",
                                  timeout_s=30)
    assert work_dir.name.startswith(f"flink_py-tm{task_manager}-slot")
    assert len(cluster.work_dirs()) == 2

    # a worker killed in the middle of the job: its TaskManager deletes its directory and
    # starts a worker with a new one in its place
    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: not work_dir.exists() and len(cluster.work_dirs()) == 2,
               "the killed worker's directory to go and its replacement's to come",
               timeout_s=30)

    # the TaskManager killed: its workers end, their directories stay behind ...
    workers = child_processes(task_manager)
    leftovers = cluster.work_dirs()
    os.kill(task_manager, signal.SIGKILL)
    wait_until(lambda: not any(_worker_dir(w) for w in workers), "the workers to end",
               timeout_s=30)
    assert cluster.work_dirs() == leftovers

    # ... until the next TaskManager starts
    started = cluster.run("taskmanager.sh", "start")

    assert started.returncode == 0, started.stdout
    assert "instance(s) of taskmanager are already running" not in started.stdout
    [new_task_manager] = cluster.pids("taskmanager")
    assert not any(path.exists() for path in leftovers)
    assert {path.name.split("-slot")[0] for path in cluster.work_dirs()} == {
        f"flink_py-tm{new_task_manager}"}


@pytest.mark.parametrize("daemon", ["jobmanager", "taskmanager"])
def test_a_daemon_started_on_a_malformed_configuration_exits_1_with_one_line(
        tmp_path: Path, daemon: str) -> None:
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    conf = conf_dir / "flink-conf.yaml"
    conf.write_text("rest.port: 0\nenv.java.opts: -Da=b: c\njunk without a colon\n")

    done = subprocess.run(
        [sys.executable, "-m", f"flink_py.runtime.entrypoint.{daemon}", "--configDir",
         str(conf_dir)], capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S,
        env=dict(os.environ, PYTHONPATH=REPO))

    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    name = {"jobmanager": "JobManager", "taskmanager": "TaskManager"}[daemon]
    assert line.endswith(
        f"ERROR __main__ [] - Could not start the {name}: Could not parse configuration file {conf}: line 3 ('junk without a colon') is not "
        f"a 'key: value' line, and the file is not valid YAML (mapping values are not allowed "
        f"here at line 2, column 21)"), line


def test_a_slot_worker_killed_while_its_task_manager_starts_is_started_again(
        tmp_path: Path) -> None:
    from flink_py.testing.process_cluster import ProcessCluster
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=0, slots=2) as cluster:
        task_manager = cluster.start_task_manager()
        # the workers start together; the first one seen is killed
        worker = wait_until(lambda: child_processes(task_manager.pid),
                            "the TaskManager's first slot worker", timeout_s=30)[0]
        os.kill(worker, signal.SIGKILL)  # long before it is ready: it is still importing

        cluster.wait_for_slots(2)
        assert task_manager.poll() is None
        log = cluster.log("taskmanager-0")
        assert re.search(r"slot worker [01] was killed by signal 9 before it was ready; "
                         r"starting it again \(attempt 2 of 3\)", log), log
