"""Savepoint -> stop -> resume through the CLI on real daemons (issue 8): the keyed count
resumes at another parallelism and on the other state backend, and the result equals an
uninterrupted run's (each key counted to records/keys, the FileSink holds exactly the input's
lines). Uses the chaos tests' job (``chaos_jobs/keyed_count.py``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster
from tests.e2e.test_chaos import (
    check_exactly_once, completed_checkpoints, job_args, job_state, submit)

SAVEPOINT = re.compile(r"Savepoint completed\. Path: (\S+)")
TERMINAL = ("FINISHED", "CANCELED", "FAILED")
RECORDS = 100_000


def savepoint_path(output: str) -> str:
    match = SAVEPOINT.search(output)
    assert match, output
    path = match.group(1)
    local = path[len("file:"):] if path.startswith("file:") else path
    assert os.path.isfile(os.path.join(local, "_metadata")), path
    return path


@pytest.mark.parametrize("first, second", [(("hashmap", 2), ("rocksdb", 3)),
                                           (("rocksdb", 3), ("hashmap", 1))],
                         ids=["hashmap-p2-to-rocksdb-p3", "rocksdb-p3-to-hashmap-p1"])
def test_a_job_stopped_with_a_savepoint_resumes_rescaled_on_the_other_backend(
        tmp_path: Path, first: tuple, second: tuple) -> None:
    out = tmp_path / "out"
    savepoints = tmp_path / "savepoints"
    with ProcessCluster(str(tmp_path / "c"), task_managers=2, slots=2) as cluster:
        (backend, parallelism), (backend2, parallelism2) = first, second
        job_id = submit(cluster, "-p", str(parallelism),
                        *job_args(out, RECORDS, 4_000, backend, unaligned=False))
        wait_until(lambda: completed_checkpoints(cluster, job_id) >= 1,
                   what="a completed checkpoint", timeout_s=60)
        taken = cluster.flink("savepoint", job_id, str(savepoints))
        assert taken.returncode == 0, taken.stdout + taken.stderr
        savepoint_path(taken.stdout)
        assert job_state(cluster, job_id) == "RUNNING", "a savepoint leaves the job running"

        stopped = cluster.flink("stop", "-p", str(savepoints), job_id)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        path = savepoint_path(stopped.stdout)
        # Flink's stop: a synchronous savepoint, then the job FINISHED (not CANCELED)
        wait_until(lambda: job_state(cluster, job_id) in TERMINAL, what="the job stopped")
        assert job_state(cluster, job_id) == "FINISHED"
        cluster.wait_for_slots(4)

        resumed = submit(cluster, "-s", path, "-p", str(parallelism2),
                         *job_args(out, RECORDS, 0, backend2, unaligned=False))
        wait_until(lambda: job_state(cluster, resumed) in TERMINAL,
                   what="the resumed job finished", timeout_s=120, interval_s=0.2)
        state = job_state(cluster, resumed)
        assert state == "FINISHED", cluster.rest(f"/jobs/{resumed}/exceptions")
        restored = cluster.rest(f"/jobs/{resumed}/checkpoints")["latest"]["restored"]
        assert restored and restored["is_savepoint"], restored
    check_exactly_once(out, RECORDS)


def test_a_stop_into_an_unwritable_directory_fails_with_flinks_message_and_the_job_runs_on(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=2) as cluster:
        job_id = submit(cluster, "-p", "2", *job_args(out, RECORDS, 4_000, "hashmap",
                                                      unaligned=False))
        wait_until(lambda: completed_checkpoints(cluster, job_id) >= 1,
                   what="a completed checkpoint", timeout_s=60)
        stopped = cluster.flink("stop", "-p", str(blocker / "savepoints"), job_id)
        assert stopped.returncode == 1, stopped.stdout + stopped.stderr
        assert f'Could not stop with a savepoint job "{job_id}".' in stopped.stderr
        assert job_state(cluster, job_id) == "RUNNING"
        before = completed_checkpoints(cluster, job_id)
        wait_until(lambda: completed_checkpoints(cluster, job_id) > before,
                   what="checkpoints after the failed stop", timeout_s=60)
        cancelled = cluster.flink("cancel", job_id)
        assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
        wait_until(lambda: job_state(cluster, job_id) in TERMINAL, what="the job cancelled")
