"""End to end: a JobManager and TaskManagers as real processes, driven by the `flink` CLI and
REST, as a user drives them (issue 3's tests)."""

from __future__ import annotations

import collections
import os
import re
import signal
import socket
import textwrap
import threading
import time
from typing import Any, Dict, Iterator

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import REPO, ProcessCluster
from flink_py.testing.jobs import endless_program

JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessCluster]:
    """One JobManager and two TaskManagers with two slots each."""
    with ProcessCluster(str(tmp_path_factory.mktemp("cluster")), task_managers=2,
                        slots=2) as c:
        yield c


def _job_id(output: str) -> str:
    match = JOB_ID.search(output)
    assert match, output
    return match.group(1)


def _write(path: str, text: str) -> str:
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


def _task_manager_output(cluster: ProcessCluster) -> str:
    return "".join(cluster.log(f"taskmanager-{i}") for i in range(len(cluster.task_managers)))


# -- word count -----------------------------------------------------------------------------

def test_word_count_at_parallelism_3_runs_on_both_task_managers(
        cluster: ProcessCluster, tmp_path: Any) -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    lines = [" ".join(words[(i * 3 + j) % len(words)] for j in range(i % 5 + 1))
             for i in range(400)]
    text = tmp_path / "input.txt"
    text.write_text("\n".join(lines) + "\n")
    expected = collections.Counter(w for line in lines for w in line.split())

    done = cluster.flink("run", "-p", "3", "-c", "examples.word_count", "--input", str(text),
                         cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = _job_id(done.stdout)
    assert "Program execution finished" in done.stdout
    assert f"Job with JobID {job_id} has finished." in done.stdout
    assert re.search(r"Job Runtime: \d+ ms", done.stdout)

    details = cluster.rest(f"/jobs/{job_id}")
    assert details["state"] == "FINISHED"
    task_managers = set()
    for vertex in details["vertices"]:
        subtasks = cluster.rest(f"/jobs/{job_id}/vertices/{vertex['id']}")["subtasks"]
        task_managers.update(s["taskmanager-id"] for s in subtasks)
    assert len(task_managers) == 2, task_managers

    # The print sink's lines land in the TaskManagers' output: the last count of each word.
    def counts() -> Dict[str, int]:
        found: Dict[str, int] = {}
        for word, count in re.findall(r"^\d+> \(['\"]?(\w+)['\"]?, ?(\d+)\)$",
                                      _task_manager_output(cluster), re.M):
            found[word] = max(found.get(word, 0), int(count))
        return found
    wait_until(lambda: counts() == dict(expected), what="all counts printed", timeout_s=10)


# -- an unbounded job: list and cancel -----------------------------------------------------

class _LineServer:
    """A socket server that sends a line every few ms to whoever connects, until closed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connected.set()
            with conn:
                while not self.stop.wait(0.01):
                    try:
                        conn.sendall(b"to be or not to be\n")
                    except OSError:
                        break

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


def test_an_unbounded_job_is_listed_and_cancelled(cluster: ProcessCluster) -> None:
    server = _LineServer()
    try:
        done = cluster.flink("run", "-d", "-c", "examples.socket_word_count", "--host",
                             "127.0.0.1", "--port", str(server.port), cwd=REPO)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = _job_id(done.stdout)
        wait_until(server.connected.is_set, what="the job reading the socket")

        def listed_running() -> bool:
            out = cluster.flink("list").stdout
            return f": {job_id} : " in out and "(RUNNING)" in out
        wait_until(listed_running, what="the job listed as RUNNING")
        listing = cluster.flink("list").stdout
        assert "------------------ Running/Restarting Jobs -------------------" in listing
        assert re.search(rf"^\d\d\.\d\d\.\d{{4}} \d\d:\d\d:\d\d : {job_id} : .+ \(RUNNING\)$",
                         listing, re.M), listing
        assert cluster.rest("/overview")["slots-available"] < 4

        cancelled = cluster.flink("cancel", job_id)
        assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
        assert f"Cancelling job {job_id}." in cancelled.stdout
        assert f"Cancelled job {job_id}." in cancelled.stdout
        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "CANCELED",
                   what="CANCELED", timeout_s=10)
        cluster.wait_for_slots(4)  # every slot free again
        everything = cluster.flink("list", "-a").stdout
        assert re.search(rf": {job_id} : .+ \(CANCELED\)$", everything, re.M), everything
    finally:
        server.close()


# -- failures ---------------------------------------------------------------------------------

FAILING_JOB = """
    from flink_py.datastream import StreamExecutionEnvironment

    class BadRecord(Exception):
        pass

    def explode(x):
        if x == 7:
            raise BadRecord(f"cannot handle {x}")
        return x

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(list(range(20))).map(explode).add_sink(lambda v, c=None: None)
    env.execute("failing job")
"""


def test_a_failing_job_is_failed_with_the_users_traceback(
        cluster: ProcessCluster, tmp_path: Any) -> None:
    program = _write(str(tmp_path / "failing.py"), FAILING_JOB)
    done = cluster.flink("run", program)
    assert done.returncode != 0
    job_id = _job_id(done.stdout)
    assert "BadRecord: cannot handle 7" in done.stderr
    assert "in explode" in done.stderr  # the user's own frame

    everything = cluster.flink("list", "-a").stdout
    assert re.search(rf": {job_id} : failing job \(FAILED\)$", everything, re.M), everything
    exceptions = cluster.rest(f"/jobs/{job_id}/exceptions")
    entry = exceptions["exceptionHistory"]["entries"][0]
    assert "BadRecord: cannot handle 7" in entry["stacktrace"]
    assert "in explode" in entry["stacktrace"]
    assert "Map" in entry["taskName"]
    assert "BadRecord" in exceptions["root-exception"]


def test_a_module_that_cannot_be_imported_fails_at_submission(cluster: ProcessCluster) -> None:
    done = cluster.flink("run", "-c", "no_such_package.job")
    assert done.returncode != 0
    assert "no_such_package" in done.stderr
    assert "Job has been submitted" not in done.stdout


def test_user_code_is_shipped_with_the_job(cluster: ProcessCluster, tmp_path: Any) -> None:
    """The job's helper module exists only next to the program, not on the TaskManagers."""
    project = tmp_path / "project"
    (project / "mylib").mkdir(parents=True)
    (project / "mylib" / "__init__.py").write_text("")
    marker = f"shipped-{os.getpid()}-{time.monotonic_ns()}"
    (project / "mylib" / "shout.py").write_text(textwrap.dedent(f"""
        def shout(word):
            return word.upper() + "-{marker}"
    """))
    program = _write(str(project / "job.py"), """
        from flink_py.datastream import StreamExecutionEnvironment
        from mylib.shout import shout

        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection(["a", "b"]).map(shout).print()
        env.execute("shipped code")
    """)
    done = cluster.flink("run", "-p", "2", program, cwd=str(project))
    assert done.returncode == 0, done.stdout + done.stderr
    wait_until(lambda: f"A-{marker}" in _task_manager_output(cluster)
               and f"B-{marker}" in _task_manager_output(cluster),
               what="the shipped function's output", timeout_s=10)


def test_a_crash_of_user_code_in_a_slot_leaves_the_task_manager_up(
        cluster: ProcessCluster, tmp_path: Any) -> None:
    program = _write(str(tmp_path / "crash.py"), """
        import os
        from flink_py.datastream import StreamExecutionEnvironment

        def crash(x):
            os._exit(3)

        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection([1]).map(crash).add_sink(lambda v, c=None: None)
        env.execute("crashing job")
    """)
    done = cluster.flink("run", program)
    assert done.returncode != 0
    assert "exited with code 3" in done.stderr, done.stderr
    assert all(tm.poll() is None for tm in cluster.task_managers)
    cluster.wait_for_slots(4)  # the worker was restarted and its slot registered again
    # ... and the cluster still runs jobs.
    again = cluster.flink("run", "-p", "4", "-c", "examples.word_count", cwd=REPO)
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_cli_against_a_jobmanager_that_is_down(tmp_path: Any) -> None:
    down = ProcessCluster(str(tmp_path), start=False)
    for args in (["list"], ["cancel", "0" * 32], ["run", "-c", "examples.word_count"]):
        done = down.flink(*args, cwd=REPO)
        assert done.returncode != 0, args
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert f"localhost:{down.rest_port}" in lines[0]
        assert "Traceback" not in done.stderr


# -- a lost TaskManager ---------------------------------------------------------------------

ENDLESS_JOB = endless_program(pause_s=0.001, rebalance=True)


def test_killing_a_task_manager_fails_its_job(tmp_path: Any) -> None:
    with ProcessCluster(str(tmp_path / "c"), task_managers=2, slots=1,
                        conf={"heartbeat.timeout": 2000}) as cluster:
        program = _write(str(tmp_path / "endless.py"), ENDLESS_JOB)
        done = cluster.flink("run", "-d", "-p", "2", program)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = _job_id(done.stdout)
        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "RUNNING"
                   and cluster.rest("/overview")["slots-available"] == 0, what="running")
        victim = cluster.task_managers[1]
        victim_id, victim_data = _task_manager_of(cluster, victim.pid)
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)

        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "FAILED",
                   what="the job FAILED", timeout_s=15)
        noticed_after = time.monotonic() - killed_at
        assert noticed_after < 2.0 + 3.0, noticed_after  # heartbeat.timeout plus slack
        # Whichever notices first names the lost TaskManager: the heartbeat monitor (by id)
        # or a consumer whose connection to it broke (by its data address), as in Flink.
        root = cluster.rest(f"/jobs/{job_id}/exceptions")["root-exception"]
        # (or its slot workers, which cancel their tasks when their TaskManager dies)
        assert (f"TaskManager with id {victim_id} timed out" in root
                or f"closed by remote task manager '{victim_data}'" in root
                or f"ran on TaskManager ({victim_id})" in root  # the partner it lost
                or f"cancelled by its TaskManager ({victim_id})" in root), root
        # The lost TaskManager and its slot are gone once its heartbeat timed out.
        wait_until(lambda: cluster.rest("/overview")["taskmanagers"] == 1
                   and cluster.rest("/overview")["slots-total"] == 1,
                   what="the lost TaskManager removed", timeout_s=2.0 + 3.0)


def _task_manager_of(cluster: ProcessCluster, pid: int) -> tuple:
    """The id and data address ("host:port") of the TaskManager process ``pid``."""
    found = [(tm["id"], f"{tm['id'].split(':')[0]}:{tm['dataPort']}")
             for tm in cluster.rest("/taskmanagers")["taskmanagers"] if f":{pid}-" in tm["id"]]
    assert len(found) == 1, found
    return found[0]


def test_execute_and_collect_on_the_cluster(cluster: ProcessCluster, tmp_path: Any) -> None:
    """The records come back to the program through the JobManager (REST)."""
    program = _write(str(tmp_path / "collect.py"), """
        from flink_py.datastream import StreamExecutionEnvironment

        env = StreamExecutionEnvironment.get_execution_environment()
        squares = env.from_collection(list(range(3000))).map(lambda x: x * x)
        with squares.execute_and_collect("collected") as results:
            got = list(results)
        assert sorted(got) == [x * x for x in range(3000)], got[:5]
        print("collected", len(got), sum(got))
    """)
    done = cluster.flink("run", "-p", "2", program)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"collected 3000 {sum(x * x for x in range(3000))}" in done.stdout
