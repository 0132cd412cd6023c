"""A JobManager that pauses, a job that waits for slots, a detached job that fails at once:
each on real daemons, with the answers a user sees (issue 9, part 4).

A paused JobManager is a SIGSTOPped process: its kernel still accepts connections and
buffers what is sent, so the client gets no answer and the requests run when it resumes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any, List, Set

from flink_py.rpc.gateways import DEFAULT_RPC_TIMEOUT_S
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import REPO, ProcessCluster
from flink_py.testing.jobs import endless_program

JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
UNKNOWN_OUTCOME = re.compile(
    r"^The JobManager at (\S+) did not answer within 3 s; job ([0-9a-f]{32}) may or may not "
    r"have been submitted: check with 'flink list'\.$")

ENDLESS_JOB = endless_program()


def _write(path: str, text: str) -> str:
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


def _job_id(output: str) -> str:
    match = JOB_ID.search(output)
    assert match, output
    return match.group(1)


def _connections_to(pid: int, port: int) -> Set[int]:
    """The local ports of process ``pid``'s TCP connections to ``port`` (from its open
    socket descriptors and the kernel's tables)."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except FileNotFoundError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            rows = f.read().splitlines()[1:]
        for row in rows:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == port:
                found.add(int(local.rsplit(":", 1)[1], 16))
    return found


class _Stopped:
    """SIGSTOPs a process for a ``with`` block; it is always continued at the end."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def __enter__(self) -> "_Stopped":
        self.process.send_signal(signal.SIGSTOP)
        return self

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def __exit__(self, *exc: object) -> None:
        self.resume()


def _jobs(cluster: ProcessCluster) -> List[Any]:
    return cluster.rest("/jobs/overview")["jobs"]


# -- 1. a submission the JobManager does not answer -------------------------------------------

def test_a_submission_that_gets_no_answer_is_reported_unknown_and_the_job_runs_once(
        tmp_path: Any) -> None:
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1) as cluster:
        program = _write(str(tmp_path / "endless.py"), ENDLESS_JOB)
        assert cluster.jobmanager is not None
        with _Stopped(cluster.jobmanager):
            done = cluster.flink("run", "-d", "-D", "client.timeout=3 s", program)
        assert done.returncode == 1, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        match = UNKNOWN_OUTCOME.match(lines[0])
        assert match, lines[0]
        assert match.group(1) == cluster.rest_address
        job_id = match.group(2)
        assert "Job has been submitted" not in done.stdout

        # Resumed, the JobManager handles what was sent: the job runs, once.
        wait_until(lambda: any(j["jid"] == job_id and j["state"] == "RUNNING"
                               for j in _jobs(cluster)), what="the job RUNNING")
        wait_until(lambda: cluster.log("jobmanager").count(
            "was submitted again with the same JobGraph") >= 1,
            what="a retried submission answered as the first")
        assert [j["jid"] for j in _jobs(cluster)] == [job_id]
        listing = cluster.flink("list", "-r")
        assert re.search(rf"^\d\d\.\d\d\.\d{{4}} \d\d:\d\d:\d\d : {job_id} : endless "
                         rf"\(RUNNING\)$", listing.stdout, re.M), (listing.stdout, _jobs(cluster),
                                                       cluster.log("jobmanager"))


def test_a_retried_submission_is_answered_as_the_first(tmp_path: Any) -> None:
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1) as cluster:
        program = _write(str(tmp_path / "endless.py"), ENDLESS_JOB)
        assert cluster.jobmanager is not None
        env = dict(os.environ, FLINK_CONF_DIR=cluster.conf_dir)
        with _Stopped(cluster.jobmanager) as stopped:
            client = subprocess.Popen(
                [sys.executable, "-m", "flink_py.cli.main", "run", "-d", "-D",
                 "client.timeout=20 s", program], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=env, cwd=cluster.dir)
            try:
                # the first attempt timed out and the second is on its way: resume now
                seen: Set[int] = set()

                def second_attempt() -> bool:
                    seen.update(_connections_to(client.pid, cluster.rest_port))
                    return len(seen) >= 2
                wait_until(second_attempt, what="a second submission attempt", timeout_s=30)
                stopped.resume()
                out, err = client.communicate(timeout=60)
            finally:
                if client.poll() is None:
                    client.kill()
                    client.wait()
        assert client.returncode == 0, out + err
        job_id = _job_id(out)
        assert "may or may not" not in err
        wait_until(lambda: any(j["jid"] == job_id and j["state"] == "RUNNING"
                               for j in _jobs(cluster)), what="the job RUNNING")
        assert [j["jid"] for j in _jobs(cluster)] == [job_id]
        assert "was submitted again with the same JobGraph" in cluster.log("jobmanager")


def test_another_job_graph_under_a_known_job_id_is_a_conflict(tmp_path: Any) -> None:
    import base64
    import urllib.error
    import urllib.request

    from flink_py.common import pickling
    from flink_py.datastream import StreamExecutionEnvironment

    def graph(name: str) -> Any:
        env = StreamExecutionEnvironment.get_execution_environment()
        env.from_collection([1, 2, 3]).map(lambda x: x).add_sink(lambda v, c=None: None)
        return env.get_job_graph(name)

    def post(job_graph: Any) -> Any:
        body = ('{"jobGraph": "%s"}' % base64.b64encode(pickling.dumps(job_graph))
                .decode("ascii")).encode()
        request = urllib.request.Request(
            f"http://{cluster.rest_address}/jobs", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {cluster.secret.rest_token()}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1) as cluster:
        first = graph("first")
        status, text = post(first)
        assert status == 202, text
        assert f'"/jobs/{first.job_id}"' in text
        again = post(first)
        assert again == (status, text)
        other = graph("other")
        other.job_id = first.job_id
        status, text = post(other)
        assert status == 409, text
        assert '"Job has already been submitted."' in text
        assert [j["jid"] for j in _jobs(cluster)] == [str(first.job_id)]


# -- 2. a paused JobManager ----------------------------------------------------------------

HEARTBEAT_TIMEOUT_S = 3.0
PAUSE_S = 4 * HEARTBEAT_TIMEOUT_S
assert PAUSE_S > DEFAULT_RPC_TIMEOUT_S + 1


def _elapsed(since: float, seconds: float) -> Any:
    """A condition that holds once ``seconds`` passed since ``since`` (monotonic): how long
    a pause lasts is the scenario itself, not a synchronization."""
    return lambda: time.monotonic() - since >= seconds


def _task_managers_of_job(cluster: ProcessCluster, job_id: str) -> Set[str]:
    details = cluster.rest(f"/jobs/{job_id}")
    found = set()
    for vertex in details["vertices"]:
        for subtask in cluster.rest(f"/jobs/{job_id}/vertices/{vertex['id']}")["subtasks"]:
            assert subtask["attempt"] == 0, subtask  # never restarted
            found.add(subtask["taskmanager-id"])
    return found


def test_a_paused_jobmanager_keeps_its_task_managers_and_removes_only_a_dead_one(
        tmp_path: Any) -> None:
    conf = {"heartbeat.interval": 500, "heartbeat.timeout": int(HEARTBEAT_TIMEOUT_S * 1000)}
    with ProcessCluster(str(tmp_path / "c"), task_managers=2, slots=1, conf=conf) as cluster:
        program = _write(str(tmp_path / "endless.py"), ENDLESS_JOB)
        done = cluster.flink("run", "-d", program)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = _job_id(done.stdout)
        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "RUNNING"
                   and cluster.rest("/overview")["slots-available"] == 1, what="running")
        (host,) = _task_managers_of_job(cluster, job_id)
        ids = {tm["id"] for tm in cluster.rest("/taskmanagers")["taskmanagers"]}
        (victim_id,) = ids - {host}
        victim = next(p for p in cluster.task_managers if f":{p.pid}-" in victim_id)
        survivor = next(p for p in cluster.task_managers if p is not victim)
        assert cluster.jobmanager is not None

        with _Stopped(cluster.jobmanager):
            stopped_at = time.monotonic()
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            # past the TaskManagers' heartbeat RPC deadline too: their calls time out
            wait_until(_elapsed(stopped_at, PAUSE_S),
                       what="the JobManager stopped for 4 heartbeat timeouts", timeout_s=30)
        resumed_at = time.monotonic()

        # only the dead TaskManager goes, within one heartbeat.timeout of the resume
        wait_until(lambda: [tm["id"] for tm in cluster.rest("/taskmanagers")["taskmanagers"]]
                   == [host], what="only the killed TaskManager removed",
                   timeout_s=HEARTBEAT_TIMEOUT_S + 5)
        assert time.monotonic() - resumed_at < HEARTBEAT_TIMEOUT_S + 3
        # and the living one stays past a heartbeat.timeout after the resume
        wait_until(_elapsed(resumed_at, HEARTBEAT_TIMEOUT_S + 1.0),
                   what="a heartbeat timeout after the resume")
        assert [tm["id"] for tm in cluster.rest("/taskmanagers")["taskmanagers"]] == [host]
        log = cluster.log("jobmanager")
        assert re.search(r"INFO .* JobManager was not running for \d+ s; heartbeat deadlines "
                         r"moved", log), log
        assert f"TaskManager with id {host} timed out" not in log
        assert f"The heartbeat of TaskManager with id {host}" not in log
        assert cluster.rest(f"/jobs/{job_id}")["state"] == "RUNNING"
        assert _task_managers_of_job(cluster, job_id) == {host}  # attempt 0: no restart
        assert cluster.rest(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"] == []
        survivor_log = cluster.log(f"taskmanager-{cluster.task_managers.index(survivor)}")
        assert "its tasks are cancelled" not in survivor_log
        assert "but accepts connections (paused or overloaded?): its tasks keep running" in \
            survivor_log, survivor_log
        # no spinning on the stopped JobManager: one heartbeat per RPC deadline at most
        failed_heartbeats = survivor_log.count("Heartbeat to the ResourceManager failed")
        assert 1 <= failed_heartbeats <= PAUSE_S / DEFAULT_RPC_TIMEOUT_S + 1, survivor_log


# -- 3. a job that waits for slots ---------------------------------------------------------

SLOT_REQUEST_TIMEOUT_MS = 8000


def test_a_job_wanting_more_slots_than_there_are_waits_visibly_then_fails(
        tmp_path: Any) -> None:
    # long enough for a loaded machine to look at the waiting job (REST, then the CLI)
    conf = {"slot.request.timeout": SLOT_REQUEST_TIMEOUT_MS}
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=2, conf=conf) as cluster:
        program = _write(str(tmp_path / "endless.py"), ENDLESS_JOB)
        done = cluster.flink("run", "-d", "-p", "4", program)
        assert done.returncode == 0, done.stdout + done.stderr
        job_id = _job_id(done.stdout)

        details = wait_until(lambda: (lambda d: d if "waiting-for-resources" in d else None)(
            cluster.rest(f"/jobs/{job_id}")), what="the job waiting for slots")
        assert details["state"] == "CREATED", details
        # Flink's aggregate vertex state of SCHEDULED subtasks is CREATED
        assert {v["status"] for v in details["vertices"]} == {"CREATED"}, details
        assert all(v["tasks"]["SCHEDULED"] == v["parallelism"] for v in details["vertices"])
        assert details["timestamps"]["RUNNING"] == 0
        waiting = details["waiting-for-resources"]
        assert (waiting["required-slots"], waiting["available-slots"],
                waiting["total-slots"]) == (4, 2, 2), waiting
        assert waiting["message"].startswith("waiting for 4 slots, 2 available (of 2)")
        assert f"slot.request.timeout ({SLOT_REQUEST_TIMEOUT_MS} ms)" in waiting["message"]
        assert cluster.rest("/jobs/overview")["jobs"][0]["state"] == "CREATED"
        listing = cluster.flink("list")
        assert listing.returncode == 0, listing.stderr
        lines = listing.stdout.splitlines()
        assert lines[:3] == ["Waiting for response...", "No running jobs.",
                             "----------------------- Scheduled Jobs -----------------------"]
        assert re.fullmatch(rf"\d\d\.\d\d\.\d{{4}} \d\d:\d\d:\d\d : {job_id} : endless "
                            rf"\(CREATED\)", lines[3]), lines
        assert lines[4:] == ["-" * 62], lines

        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "FAILED",
                   what="the job FAILED at slot.request.timeout", timeout_s=30)
        root = cluster.rest(f"/jobs/{job_id}/exceptions")["root-exception"]
        assert (f"Could not acquire the minimum required resources: 4 slot(s) within "
                f"slot.request.timeout ({SLOT_REQUEST_TIMEOUT_MS} ms); the cluster has 2 free "
                f"of 2") in root, root
        assert "waiting-for-resources" not in cluster.rest(f"/jobs/{job_id}")
        assert re.search(rf"ERROR .* Job endless \({job_id}\) FAILED: .*Could not acquire the "
                         rf"minimum required resources", cluster.log("jobmanager"))
        cluster.wait_for_slots(2)

        # a job the slots suffice for runs at once, as before
        done = cluster.flink("run", "-d", "-p", "2", program)
        assert done.returncode == 0, done.stdout + done.stderr
        second = _job_id(done.stdout)
        wait_until(lambda: cluster.rest(f"/jobs/{second}")["state"] == "RUNNING",
                   what="the job with enough slots RUNNING", timeout_s=10)
        assert "waiting-for-resources" not in cluster.rest(f"/jobs/{second}")


# -- 4. a detached job that fails at once ----------------------------------------------------

def test_a_detached_job_that_fails_at_once_shows_in_the_list_and_the_log(
        tmp_path: Any) -> None:
    from flink_py.testing.process_cluster import free_port

    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1) as cluster:
        nobody = free_port()  # the README's socket example, with no server started
        done = cluster.flink("run", "-d", "-c", "examples.socket_word_count", "--host",
                             "127.0.0.1", "--port", str(nobody), cwd=REPO)
        assert done.returncode == 0, done.stdout + done.stderr  # as Flink's run -d
        job_id = _job_id(done.stdout)
        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] == "FAILED",
                   what="the job FAILED")

        listing = cluster.flink("list")
        assert listing.stdout == "Waiting for response...\nNo running jobs.\n" \
                                 "No scheduled jobs.\n", listing.stdout
        assert listing.stderr.strip() == (
            f"Note: 1 job FAILED: {job_id} (socket_word_count); 'flink list -a' lists them, "
            f"the JobManager's log says why."), listing.stderr
        everything = cluster.flink("list", "-a")
        assert re.search(rf"^---------------------- Terminated Jobs -----------------------\n"
                         rf"\d\d\.\d\d\.\d{{4}} \d\d:\d\d:\d\d : {job_id} : socket_word_count "
                         rf"\(FAILED\)\n-{{62}}$", everything.stdout, re.M), everything.stdout
        assert everything.stderr == ""
        failed_lines = [line for line in cluster.log("jobmanager").splitlines()
                        if f"Job socket_word_count ({job_id}) FAILED: " in line]
        assert len(failed_lines) == 1, failed_lines
        assert " ERROR " in failed_lines[0]
        assert "Connection refused" in failed_lines[0], failed_lines[0]
