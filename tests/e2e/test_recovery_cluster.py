"""End to end failover on real daemons (issue 8's probing bugs): TaskManagers and slot
workers killed outright, a task that ignores cancellation, a JobManager that dies.

Jobs mark what their functions do in files of a marker directory: ``pid-<pid>`` (the worker
that runs a task), ``cancelled-<pid>`` (a source was cancelled there).
"""

from __future__ import annotations

import os
import re
import signal
import textwrap
import time
from typing import Any, List

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster, child_processes

JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")

#: p=1 source -> map -> sink, endless; the source records its worker's pid and its cancel
TICKS_JOB = """
    import os
    import time
    from flink_py.datastream import StreamExecutionEnvironment
    from flink_py.datastream.functions import SourceFunction

    MARKERS = {markers!r}

    class Ticks(SourceFunction):
        def __init__(self):
            self.running = True

        def run(self, ctx):
            open(os.path.join(MARKERS, f"pid-{{os.getpid()}}"), "w").close()
            i = 0
            while self.running:
                ctx.collect(i)
                i += 1
                time.sleep(0.005)

        def cancel(self):
            self.running = False
            open(os.path.join(MARKERS, f"cancelled-{{os.getpid()}}"), "w").close()

    env = StreamExecutionEnvironment.get_execution_environment()
    env.add_source(Ticks()).map(lambda x: x).add_sink(lambda v, c=None: None)
    env.execute("ticks")
"""

#: p=2: subtask 0 fails after a few records; subtask 1 ignores cancellation forever
STUBBORN_JOB = """
    import os
    import time
    from flink_py.datastream import StreamExecutionEnvironment
    from flink_py.datastream.functions import MapFunction

    MARKERS = {markers!r}

    class Stubborn(MapFunction):
        def open(self, runtime_context):
            self.index = runtime_context.get_index_of_this_subtask()

        def map(self, value):
            if self.index == 0:
                while not os.path.exists(os.path.join(MARKERS, "stuck")):
                    time.sleep(0.01)  # wait for the other subtask to be stuck
                raise RuntimeError("subtask 0 fails on purpose")
            open(os.path.join(MARKERS, f"pid-{{os.getpid()}}"), "w").close()
            open(os.path.join(MARKERS, "stuck"), "w").close()
            while True:  # ignores cancellation
                time.sleep(0.05)

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.from_sequence(0, 100).map(Stubborn()).add_sink(lambda v, c=None: None)
    env.execute("stubborn")
"""


#: fails its first attempt (a marker file), then finishes
FLAKY_JOB = """
    import os
    from flink_py.datastream import StreamExecutionEnvironment

    MARKERS = {markers!r}

    def flaky(x):
        first = os.path.join(MARKERS, "failed-once")
        if not os.path.exists(first):
            open(first, "w").close()
            raise RuntimeError("the first attempt fails")
        return x

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(list(range(10))).map(flaky).add_sink(lambda v, c=None: None)
    env.execute("flaky")
"""


def _write(path: str, text: str, markers: str) -> str:
    with open(path, "w") as f:
        f.write(textwrap.dedent(text.format(markers=markers)))
    return path


def _run_detached(cluster: ProcessCluster, program: str, *args: str) -> str:
    done = cluster.flink("run", "-d", *args, program)
    assert done.returncode == 0, done.stdout + done.stderr
    match = JOB_ID.search(done.stdout)
    assert match, done.stdout
    return match.group(1)


def _markers(directory: str, prefix: str) -> List[int]:
    return [int(name.split("-")[1]) for name in os.listdir(directory)
            if name.startswith(prefix + "-")]


def _state(cluster: ProcessCluster, job_id: str) -> str:
    return cluster.rest(f"/jobs/{job_id}")["state"]


def _attempts(cluster: ProcessCluster, job_id: str) -> List[Any]:
    details = cluster.rest(f"/jobs/{job_id}")
    found = []
    for vertex in details["vertices"]:
        subtasks = cluster.rest(f"/jobs/{job_id}/vertices/{vertex['id']}")["subtasks"]
        found += [(s["status"], s["attempt"], s["taskmanager-id"]) for s in subtasks]
    return found


RESTARTS = {"restart-strategy.type": "fixed-delay",
            "restart-strategy.fixed-delay.attempts": 10,
            "restart-strategy.fixed-delay.delay": "200 ms"}


def test_a_killed_task_manager_fails_over_at_once_and_a_new_one_is_used(tmp_path: Any) -> None:
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    with ProcessCluster(str(tmp_path / "c"), task_managers=2, slots=1,
                        conf=dict(RESTARTS, **{"heartbeat.timeout": 20000})) as cluster:
        program = _write(str(tmp_path / "ticks.py"), TICKS_JOB, markers)
        job_id = _run_detached(cluster, program)
        wait_until(lambda: _markers(markers, "pid"), what="the source running")
        [first_worker] = _markers(markers, "pid")
        victim = next(tm for tm in cluster.task_managers if first_worker in child_processes(tm.pid))
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        # Failing over starts at once (its workers cancel their tasks as their TaskManager
        # dies), long before heartbeat.timeout (20 s), and never redeploys to the dead one.
        wait_until(lambda: len(_markers(markers, "pid")) == 2, what="a second attempt running",
                   timeout_s=15)
        assert time.monotonic() - killed_at < 10.0
        assert _state(cluster, job_id) in ("RUNNING", "RESTARTING")
        wait_until(lambda: all(s[0] == "RUNNING" for s in _attempts(cluster, job_id)),
                   what="all tasks RUNNING again")
        exceptions = cluster.rest(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"]
        assert exceptions, "the failure is in the exception history"

        # A TaskManager started again registers; when the job's current one dies, it is used.
        cluster.start_task_manager()
        wait_until(lambda: cluster.rest("/overview")["taskmanagers"] == 2
                   and cluster.rest("/overview")["slots-total"] >= 2,
                   what="the new TaskManager registered", timeout_s=30)
        second_worker = [p for p in _markers(markers, "pid") if p != first_worker][0]
        survivor = next(tm for tm in cluster.task_managers if second_worker in child_processes(tm.pid))
        survivor.send_signal(signal.SIGKILL)
        wait_until(lambda: len(_markers(markers, "pid")) == 3, what="a third attempt",
                   timeout_s=20)
        wait_until(lambda: all(s[0] == "RUNNING" for s in _attempts(cluster, job_id)),
                   what="all tasks RUNNING on the new TaskManager", timeout_s=20)
        done = cluster.flink("cancel", job_id)
        assert done.returncode == 0, done.stdout + done.stderr
        wait_until(lambda: _state(cluster, job_id) == "CANCELED", what="CANCELED")


def test_a_slot_worker_lost_while_its_job_is_failing_ends_the_job(tmp_path: Any) -> None:
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=2,
                        conf={"task.cancellation.timeout": 0}) as cluster:
        program = _write(str(tmp_path / "stubborn.py"), STUBBORN_JOB, markers)
        job_id = _run_detached(cluster, program)
        wait_until(lambda: _state(cluster, job_id) == "FAILING", what="FAILING")
        [stuck_worker] = _markers(markers, "pid")
        time.sleep(0.5)  # not synchronization: shows the job stays FAILING by itself
        assert _state(cluster, job_id) == "FAILING"
        os.kill(stuck_worker, signal.SIGKILL)
        wait_until(lambda: _state(cluster, job_id) == "FAILED", what="FAILED")
        assert "subtask 0 fails on purpose" in cluster.rest(
            f"/jobs/{job_id}/exceptions")["root-exception"]
        cluster.wait_for_slots(2)  # the worker restarted, every slot free again


def test_a_task_ignoring_cancellation_is_ended_by_the_cancellation_timeout(
        tmp_path: Any) -> None:
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=2,
                        conf={"task.cancellation.timeout": 1500}) as cluster:
        program = _write(str(tmp_path / "stubborn.py"), STUBBORN_JOB, markers)
        job_id = _run_detached(cluster, program)
        wait_until(lambda: _state(cluster, job_id) in ("FAILING", "FAILED"),
                   what="the job failing")
        [stuck_worker] = _markers(markers, "pid")
        wait_until(lambda: _state(cluster, job_id) == "FAILED",
                   what="FAILED after the cancellation timeout", timeout_s=15)
        # The stuck worker was restarted: a new process serves the slot, all slots are free.
        wait_until(lambda: not os.path.exists(f"/proc/{stuck_worker}"),
                   what="the stuck worker gone")
        cluster.wait_for_slots(2)


@pytest.mark.slow
def test_task_managers_cancel_the_tasks_of_a_job_manager_that_died(tmp_path: Any) -> None:
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1,
                        conf={"heartbeat.timeout": 2000}) as cluster:
        program = _write(str(tmp_path / "ticks.py"), TICKS_JOB, markers)
        _run_detached(cluster, program)
        wait_until(lambda: _markers(markers, "pid"), what="the source running")
        cluster.jobmanager.send_signal(signal.SIGKILL)
        cluster.jobmanager.wait()
        # Silent past heartbeat.timeout: the TaskManager cancels the dead JobManager's tasks.
        wait_until(lambda: _markers(markers, "cancelled"), what="the task cancelled",
                   timeout_s=15)
        cluster.start_jobmanager()
        cluster.wait_for_slots(1)  # the new JobManager gets a free slot that is free


def test_a_new_job_manager_that_comes_up_fast_gets_slots_freed_of_the_old_tasks(
        tmp_path: Any) -> None:
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1,
                        conf={"heartbeat.timeout": 60000}) as cluster:
        program = _write(str(tmp_path / "ticks.py"), TICKS_JOB, markers)
        _run_detached(cluster, program)
        wait_until(lambda: _markers(markers, "pid"), what="the source running")
        cluster.jobmanager.send_signal(signal.SIGKILL)
        cluster.jobmanager.wait()
        cluster.start_jobmanager()
        # It registers anew at a ResourceManager that never knew it: the old tasks go.
        wait_until(lambda: _markers(markers, "cancelled"), what="the task cancelled",
                   timeout_s=20)
        cluster.wait_for_slots(1)


def test_restarting_shows_in_flink_list_and_rest_while_the_delay_runs(tmp_path: Any) -> None:
    markers = str(tmp_path / "markers")
    os.makedirs(markers)
    conf = dict(RESTARTS, **{"restart-strategy.fixed-delay.delay": "3 s"})
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=1, conf=conf) as cluster:
        program = _write(str(tmp_path / "flaky.py"), FLAKY_JOB, markers)
        job_id = _run_detached(cluster, program)
        wait_until(lambda: _state(cluster, job_id) == "RESTARTING", what="RESTARTING")
        listed = cluster.flink("list")
        assert listed.returncode == 0, listed.stderr
        assert "Running/Restarting Jobs" in listed.stdout
        assert f"{job_id} : flaky (RESTARTING)" in listed.stdout, listed.stdout
        overview = cluster.rest("/jobs/overview")["jobs"]
        assert [j["state"] for j in overview if j["jid"] == job_id] == ["RESTARTING"]
        wait_until(lambda: _state(cluster, job_id) == "FINISHED", what="FINISHED")
        [entry] = cluster.rest(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"]
        assert "the first attempt fails" in entry["stacktrace"]
