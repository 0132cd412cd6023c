"""End-to-end tests of ``bin/``: the cluster scripts run real processes.

Each test copies ``conf/`` to a temporary directory, points ``FLINK_CONF_DIR`` at it and
``env.pid.dir`` / ``env.log.dir`` into it, and has the scripts run ``standin_daemon`` (this
directory) instead of the real JobManager and TaskManager. Remote hosts are never contacted:
a fake ``ssh`` first on ``PATH`` records how it was called. Every process a test started is
killed when the test ends, whatever happened (found by its ``--configDir``, which is unique
to the test).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import processes_with_argument

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = REPO_ROOT / "bin"
E2E_DIR = Path(__file__).resolve().parent
STANDIN_MODULE = "standin_daemon"
SCRIPT_TIMEOUT_S = 30
DEADLINE_S = 10.0

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the scripts need bash")

# Variables the scripts read or export; a test starts from none of them.
SCRIPT_VARIABLES = (
    "FLINK_CONF_DIR", "FLINK_PID_DIR", "FLINK_LOG_DIR", "FLINK_SSH_OPTS", "FLINK_PYTHON",
    "FLINK_IDENT_STRING", "MAX_LOG_FILE_NUMBER", "HIGH_AVAILABILITY", "FLINK_HOME",
    "_FLINK_CONFIG_LOADED_FROM", "FLINK_PY_JOBMANAGER_MODULE", "FLINK_PY_TASKMANAGER_MODULE",
    "FLINK_STOP_TIMEOUT", "FLINK_DAEMON_STARTUP_TIMEOUT", "FLINK_STARTED_DAEMONS_FILE",
    "STANDIN_FAIL_LOGS", "HOSTNAME",
)


class Cluster:
    """A configuration directory for one test and the environment that runs the scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf_dir = root / "conf"
        self.pid_dir = root / "pid"
        self.log_dir = root / "log"
        shutil.copytree(REPO_ROOT / "conf", self.conf_dir)
        with open(self.conf_dir / "flink-conf.yaml", "a", encoding="utf-8") as conf:
            conf.write(f"\nenv.pid.dir: {self.pid_dir}\nenv.log.dir: {self.log_dir}\n")
        self.env: Dict[str, str] = {
            key: value for key, value in os.environ.items() if key not in SCRIPT_VARIABLES
        }
        python_path = self.env.get("PYTHONPATH")
        self.env.update({
            "FLINK_CONF_DIR": str(self.conf_dir),
            "FLINK_PYTHON": sys.executable,
            "FLINK_PY_JOBMANAGER_MODULE": STANDIN_MODULE,
            "FLINK_PY_TASKMANAGER_MODULE": STANDIN_MODULE,
            "PYTHONPATH": str(E2E_DIR) + (os.pathsep + python_path if python_path else ""),
        })
        self.ident = self.env.get("USER") or pwd.getpwuid(os.getuid()).pw_name
        self.host = socket.gethostname()

    def write_workers(self, *lines: str) -> None:
        (self.conf_dir / "workers").write_text("".join(line + "\n" for line in lines))

    def write_masters(self, *lines: str) -> None:
        (self.conf_dir / "masters").write_text("".join(line + "\n" for line in lines))

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        """Runs a script of bin/ to the end; stdout and stderr together in ``.stdout``."""
        return subprocess.run(
            [str(BIN_DIR / script), *args], env={**self.env, **env}, cwd=self.root,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=SCRIPT_TIMEOUT_S)

    def pid_file(self, daemon: str) -> Path:
        return self.pid_dir / f"flink-{self.ident}-{daemon}.pid"

    def recorded_pids(self, daemon: str) -> List[int]:
        path = self.pid_file(daemon)
        if not path.exists():
            return []
        return [int(line) for line in path.read_text().split()]

    def log_file(self, daemon: str, daemon_id: int, suffix: str = "log") -> Path:
        return self.log_dir / f"flink-{self.ident}-{daemon}-{daemon_id}-{self.host}.{suffix}"

    def own_processes(self) -> List[int]:
        """The live processes that run with this test's configuration directory."""
        return processes_with_argument(str(self.conf_dir))

    def kill_all(self) -> None:
        for pid in self.own_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_until(lambda: not self.own_processes(), "the test's processes to be killed")


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live stand-in daemon (a zombie does not count)."""
    result = subprocess.run(["ps", "-ww", "-p", str(pid), "-o", "stat=,args="],
                            capture_output=True, text=True)
    output = result.stdout.strip()
    return result.returncode == 0 and not output.startswith("Z") and STANDIN_MODULE in output


def file_contains(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text(errors="replace")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path)
    try:
        yield cluster
    finally:
        cluster.kill_all()


@pytest.fixture
def fake_ssh(tmp_path: Path, cluster: Cluster) -> Path:
    """Puts an ``ssh`` first on PATH that records its arguments (one call a line, NUL
    between arguments) instead of connecting; returns the record file."""
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    calls = tmp_path / "ssh-calls"
    ssh = fake_bin / "ssh"
    ssh.write_text(
        "#!/usr/bin/env bash\n"
        f"{{ printf '%s\\0' \"$@\"; printf '\\n'; }} >> '{calls}'\n")
    ssh.chmod(ssh.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    cluster.env["PATH"] = f"{fake_bin}{os.pathsep}{cluster.env.get('PATH', '')}"
    return calls


def ssh_calls(calls: Path) -> List[List[str]]:
    if not calls.exists():
        return []
    return [line.rstrip("\0").split("\0") for line in calls.read_text().splitlines() if line]


def test_start_cluster_starts_a_jobmanager_and_a_taskmanager_per_worker_line(
        cluster: Cluster) -> None:
    cluster.write_workers("# two TaskManagers on this machine", "localhost", "", "localhost")

    started = cluster.run("start-cluster.sh")

    assert started.returncode == 0, started.stdout
    output = started.stdout.splitlines()
    assert output[0] == "Starting cluster."
    assert output.count(f"Starting jobmanager daemon on host {cluster.host}.") == 1
    assert output.count(f"Starting taskmanager daemon on host {cluster.host}.") == 2
    jobmanagers = cluster.recorded_pids("jobmanager")
    taskmanagers = cluster.recorded_pids("taskmanager")
    assert len(jobmanagers) == 1 and len(taskmanagers) == 2
    assert len(set(jobmanagers + taskmanagers)) == 3
    assert all(is_running(pid) for pid in jobmanagers + taskmanagers)

    # Each daemon has its own .log (its stderr) and .out, and got the configuration
    # directory; the JobManager also got host and web UI port of conf/masters.
    for daemon, pids in (("jobmanager", jobmanagers), ("taskmanager", taskmanagers)):
        for daemon_id, pid in enumerate(pids):
            log = cluster.log_file(daemon, daemon_id)
            assert cluster.log_file(daemon, daemon_id, "out").exists()
            wait_until(lambda: file_contains(log, f"started pid={pid} "), f"{log} to be written")
            assert f"configDir={cluster.conf_dir} " in log.read_text()
    jobmanager_log = cluster.log_file("jobmanager", 0).read_text()
    assert "'jobmanager.rpc.address': 'localhost', 'rest.port': '8081'" in jobmanager_log

    stopped = cluster.run("stop-cluster.sh")

    assert stopped.returncode == 0, stopped.stdout
    for pid in taskmanagers:
        assert f"Stopping taskmanager daemon (pid: {pid}) on host {cluster.host}." in stopped.stdout
    assert (f"Stopping jobmanager daemon (pid: {jobmanagers[0]}) on host {cluster.host}."
            in stopped.stdout)
    wait_until(lambda: not any(is_running(pid) for pid in jobmanagers + taskmanagers),
               "the daemons to stop")
    assert not cluster.pid_file("jobmanager").exists()
    assert not cluster.pid_file("taskmanager").exists()
    assert "received SIGTERM" in cluster.log_file("taskmanager", 1).read_text()

    again = cluster.run("taskmanager.sh", "stop")
    assert again.stdout.strip() == f"No taskmanager daemon to stop on host {cluster.host}."


def test_jobmanager_start_foreground_runs_in_this_process(cluster: Cluster) -> None:
    out = cluster.root / "foreground.out"
    with open(out, "w") as out_file:
        process = subprocess.Popen(
            [str(BIN_DIR / "jobmanager.sh"), "start-foreground", "-D", "rest.port=9091"],
            env=cluster.env, cwd=cluster.root, stdin=subprocess.DEVNULL, stdout=out_file,
            stderr=subprocess.STDOUT, text=True)
    try:
        # The script execs the daemon: the script's own process is the daemon.
        wait_until(lambda: file_contains(out, f"started pid={process.pid} "),
                   "the foreground JobManager to start")
        text = out.read_text()
        assert f"Starting jobmanager as a console application on host {cluster.host}." in text
        assert "'rest.port': '9091'" in text
        assert process.poll() is None
        assert not cluster.pid_file("jobmanager").exists()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_start_cluster_without_workers_file_fails_before_starting_anything(
        cluster: Cluster) -> None:
    (cluster.conf_dir / "workers").unlink()

    result = cluster.run("start-cluster.sh")

    assert result.returncode != 0
    assert "No workers file. Please specify workers in 'conf/workers'." in result.stdout
    assert cluster.recorded_pids("jobmanager") == []
    assert cluster.own_processes() == []


def test_remote_hosts_are_started_and_stopped_over_ssh(cluster: Cluster, fake_ssh: Path) -> None:
    cluster.write_masters("jm-host.invalid:8082")
    # A remote worker makes every worker go over ssh, localhost too (as in Flink).
    cluster.write_workers("/rack-1/tm-host-1.invalid", "localhost  # this machine")
    with open(cluster.conf_dir / "flink-conf.yaml", "a", encoding="utf-8") as conf:
        conf.write("env.ssh.opts: -p 2222 -o ConnectTimeout=5\n")

    started = cluster.run("start-cluster.sh")

    assert started.returncode == 0, started.stdout
    bin_dir = BIN_DIR.resolve()
    ssh_options = ["-n", "-p", "2222", "-o", "ConnectTimeout=5"]
    assert ssh_calls(fake_ssh) == [
        [*ssh_options, "jm-host.invalid", "--",
         f'nohup /bin/bash -l "{bin_dir}/jobmanager.sh" "start" "jm-host.invalid" "8082" &'],
        [*ssh_options, "tm-host-1.invalid", "--",
         f'nohup /bin/bash -l "{bin_dir}/taskmanager.sh" "start" &'],
        [*ssh_options, "localhost", "--",
         f'nohup /bin/bash -l "{bin_dir}/taskmanager.sh" "start" &'],
    ]
    fake_ssh.unlink()

    stopped = cluster.run("stop-cluster.sh")

    assert stopped.returncode == 0, stopped.stdout
    assert [call[len(ssh_options)] for call in ssh_calls(fake_ssh)] == [
        "tm-host-1.invalid", "localhost", "jm-host.invalid"]
    assert all(call[-1].endswith('"stop" &') for call in ssh_calls(fake_ssh))
    assert cluster.own_processes() == []
    assert not cluster.pid_dir.exists() or not any(cluster.pid_dir.iterdir())


def test_workers_file_parsing_and_local_host_detection(cluster: Cluster) -> None:
    cluster.write_workers(
        "# comment line", "", "  localhost  ", "127.0.0.1 # trailing comment",
        f"/rack-0/{cluster.host}")
    script = ('. "$1/config.sh"; readWorkers; printf "%s\\n" "${WORKERS[@]}"; '
              'echo "all-local=$WORKERS_ALL_LOCALHOST"')

    result = subprocess.run(["bash", "-c", script, "bash", str(BIN_DIR)], env=cluster.env,
                            capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["localhost", "127.0.0.1", cluster.host,
                                          "all-local=true"]


def test_daemon_that_dies_at_start_is_reported_and_not_recorded(cluster: Cluster) -> None:
    result = cluster.run("taskmanager.sh", "start", "-D", "standin.exit-code=3")

    assert result.returncode == 1
    assert "Error starting taskmanager daemon (it exited with code 3)" in result.stdout
    assert "failing on purpose" in result.stdout  # the end of its log is shown
    assert cluster.recorded_pids("taskmanager") == []


def test_stop_kills_a_daemon_that_ignores_sigterm(cluster: Cluster) -> None:
    started = cluster.run("taskmanager.sh", "start", "-D", "standin.ignore-sigterm=true")
    assert started.returncode == 0, started.stdout
    [pid] = cluster.recorded_pids("taskmanager")

    stopped = cluster.run("taskmanager.sh", "stop", FLINK_STOP_TIMEOUT="1")

    assert stopped.returncode == 0, stopped.stdout
    assert "did not stop within 1 seconds; killing it with SIGKILL." in stopped.stdout
    wait_until(lambda: not is_running(pid), "the TaskManager to be killed")


def test_python_without_flink_py_is_explained(cluster: Cluster, tmp_path: Path) -> None:
    # A Python that ignores PYTHONPATH and site-packages cannot import flink_py.
    bare_python = tmp_path / "bare-python"
    bare_python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -E -S "$@"\n')
    bare_python.chmod(0o755)

    result = cluster.run("jobmanager.sh", "start", FLINK_PYTHON=str(bare_python))

    assert result.returncode == 1
    assert f"The Python '{bare_python}'" in result.stdout
    assert "cannot import flink_py" in result.stdout
    assert "pip install -e ." in result.stdout
    assert cluster.own_processes() == []

    missing = cluster.run("jobmanager.sh", "start", FLINK_PYTHON="no-such-python3")
    assert missing.returncode == 1
    assert "Cannot find the Python 'no-such-python3'" in missing.stdout


def test_flink_command_runs_the_cli(cluster: Cluster) -> None:
    result = cluster.run("flink", "--help")

    assert result.returncode == 0, result.stdout
    assert "run" in result.stdout and "Usage" in result.stdout


# ------------------------------------------------------------------ checked start (issue 9)


def test_start_cluster_starts_no_taskmanager_when_the_jobmanager_fails(cluster: Cluster) -> None:
    cluster.write_workers("localhost", "localhost")

    result = cluster.run("start-cluster.sh", STANDIN_FAIL_LOGS="jobmanager-0-")

    assert result.returncode == 1, result.stdout
    assert "Error starting jobmanager daemon (it exited with code 3)" in result.stdout
    assert "failing on purpose" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "The JobManager on localhost did not start (see above); nothing else was started.")
    assert "Starting taskmanager daemon" not in result.stdout
    assert cluster.recorded_pids("jobmanager") == [] == cluster.recorded_pids("taskmanager")
    assert cluster.own_processes() == []


def test_start_cluster_stops_what_it_started_when_a_taskmanager_fails(cluster: Cluster) -> None:
    cluster.write_workers("localhost", "localhost", "localhost")

    result = cluster.run("start-cluster.sh", STANDIN_FAIL_LOGS="taskmanager-1-")

    assert result.returncode == 1, result.stdout
    assert "Error starting taskmanager daemon (it exited with code 3)" in result.stdout
    assert ("A TaskManager did not start (see above); stopping the 2 daemon(s) this run "
            "started.") in result.stdout
    # the third TaskManager is not started; the first one and the JobManager are stopped
    assert result.stdout.count("Starting taskmanager daemon") == 2
    assert result.stdout.count("Stopping taskmanager daemon (pid: ") == 1
    assert result.stdout.count("Stopping jobmanager daemon (pid: ") == 1
    assert cluster.recorded_pids("jobmanager") == [] == cluster.recorded_pids("taskmanager")
    wait_until(lambda: cluster.own_processes() == [], "the started daemons to be stopped")


def test_daemon_that_is_never_ready_is_stopped_and_reported(cluster: Cluster) -> None:
    result = cluster.run("taskmanager.sh", "start", "-D", "standin.never-ready=true",
                         FLINK_DAEMON_STARTUP_TIMEOUT="1")

    assert result.returncode == 1, result.stdout
    assert "it was not ready within 1 seconds (FLINK_DAEMON_STARTUP_TIMEOUT); stopping it." \
        in result.stdout
    assert "received SIGTERM" in result.stdout  # the end of its log
    assert cluster.recorded_pids("taskmanager") == []
    assert cluster.own_processes() == []


def _path_without_flock(fake_bin: Path, path: str) -> str:
    """A PATH of one directory that has every command of ``path`` but flock (as macOS)."""
    fake_bin.mkdir()
    for directory in path.split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = os.path.join(directory, name)
            if name != "flock" and not (fake_bin / name).exists() and os.access(target, os.X_OK):
                (fake_bin / name).symlink_to(target)
    return str(fake_bin)


@pytest.mark.parametrize("lock", ["flock", "lock directory"])
def test_taskmanagers_on_one_host_get_their_own_log_files(
        cluster: Cluster, tmp_path: Path, lock: str) -> None:
    if lock != "flock":
        cluster.env["PATH"] = _path_without_flock(tmp_path / "no-flock-bin",
                                                  cluster.env.get("PATH", os.defpath))
    for _ in range(2):
        started = cluster.run("taskmanager.sh", "start")
        assert started.returncode == 0, started.stdout
    # and three started at once
    concurrent = [subprocess.Popen([str(BIN_DIR / "taskmanager.sh"), "start"], env=cluster.env,
                                   cwd=cluster.root, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                  for _ in range(3)]
    for process in concurrent:
        output, _ = process.communicate(timeout=SCRIPT_TIMEOUT_S)
        assert process.returncode == 0, output

    pids = cluster.recorded_pids("taskmanager")
    assert len(set(pids)) == 5 and all(is_running(pid) for pid in pids)
    logs = {}
    for daemon_id in range(5):
        log = cluster.log_file("taskmanager", daemon_id)
        wait_until(lambda: file_contains(log, "started pid="), f"{log} to be written")
        [line] = [line for line in log.read_text().splitlines() if "started pid=" in line]
        logs[daemon_id] = int(line.split("started pid=")[1].split()[0])
    assert sorted(logs.values()) == sorted(pids)  # one log file each, none shared
    assert not cluster.log_file("taskmanager", 5).exists()
    assert [path.name for path in cluster.pid_dir.iterdir()] == [
        cluster.pid_file("taskmanager").name]  # no lock directory left behind


def test_killed_daemons_are_dropped_from_the_pid_file_at_start(cluster: Cluster) -> None:
    for _ in range(3):
        assert cluster.run("taskmanager.sh", "start").returncode == 0
    first, second, third = cluster.recorded_pids("taskmanager")
    for killed in (first, third):
        os.kill(killed, signal.SIGKILL)
    wait_until(lambda: not is_running(first) and not is_running(third),
               "the TaskManagers to be killed")

    started = cluster.run("taskmanager.sh", "start")

    assert started.returncode == 0, started.stdout
    assert f"[WARNING] 1 instance(s) of taskmanager are already running on {cluster.host}." \
        in started.stdout
    pids = cluster.recorded_pids("taskmanager")
    assert pids[0] == second and len(pids) == 2 and is_running(pids[1])
    # the new one takes the first free log index (0, the killed first one's), not the
    # index of the one still running (1)
    log = cluster.log_file("taskmanager", 0)
    wait_until(lambda: file_contains(log, f"started pid={pids[1]} "), f"{log} to be written")
    assert file_contains(cluster.log_file("taskmanager", 0, "log.1"), f"started pid={first} ")
    assert f"started pid={second} " in cluster.log_file("taskmanager", 1).read_text()


def test_a_malformed_configuration_file_stops_the_scripts_with_one_line(
        cluster: Cluster) -> None:
    conf = cluster.conf_dir / "flink-conf.yaml"
    lines = conf.read_text().splitlines()
    conf.write_text("\n".join(lines + ["this line is junk"]) + "\n")

    result = cluster.run("start-cluster.sh")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"Cannot read the Flink configuration in '{cluster.conf_dir}': Could not parse "
        f"configuration file {conf}: line {len(lines) + 1} ('this line is junk') is not a "
        f"'key: value' line, and the file is not valid YAML (while scanning a simple key at "
        f"line {len(lines) + 1}, column 1: could not find expected ':' at line "
        f"{len(lines) + 2}, column 1)"]
    assert cluster.own_processes() == []
