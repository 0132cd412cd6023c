"""End to end: ``task.cancellation.timeout`` on real daemons.

A task whose user code ignores cancellation is a fatal error of its slot worker: the worker
exits (by its own watchdog or at the JobMaster's request), the job ends and the TaskManager
starts a fresh worker.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster

JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")

STUCK_PROGRAM = """
    import time
    from flink_py.datastream import StreamExecutionEnvironment

    def ignore_cancellation(x):
        print("STUCK IN USER CODE", flush=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.05)
        return x

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([1]).map(ignore_cancellation).add_sink(lambda v, c=None: None)
    env.execute("stuck job")
"""


def test_a_task_ignoring_cancellation_restarts_its_slot_worker(tmp_path: Any) -> None:
    program = tmp_path / "stuck.py"
    program.write_text(textwrap.dedent(STUCK_PROGRAM))
    with ProcessCluster(str(tmp_path / "cluster"), task_managers=1, slots=1,
                        conf={"task.cancellation.timeout": "500 ms"}) as cluster:
        done = cluster.flink("run", "-d", str(program))
        assert done.returncode == 0, done.stdout + done.stderr
        match = JOB_ID.search(done.stdout)
        assert match, done.stdout
        job_id = match.group(1)
        wait_until(lambda: "STUCK IN USER CODE" in cluster.log("taskmanager-0"),
                   what="the task stuck in user code", timeout_s=20)
        cancelled = cluster.flink("cancel", job_id)
        assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
        wait_until(lambda: cluster.rest(f"/jobs/{job_id}")["state"] in ("CANCELED", "FAILED"),
                   what="the end of the job", timeout_s=20)
        # Whichever notices first ends the worker: its own watchdog, or the JobMaster asking
        # the TaskManager to restart it (both after task.cancellation.timeout).
        wait_until(lambda: re.search(r"did not stop within 0\.5 s|slot worker \d+ of \S+ "
                                     r"restarts", cluster.log("taskmanager-0")),
                   what="the worker's fatal error or restart in the log", timeout_s=20)
        cluster.wait_for_slots(1, free=1)  # a fresh worker registered its slot again
