"""Chaos on real daemons (issue 8): a keyed count over a replayable source survives
TaskManagers and slot workers SIGKILLed at random moments, and counts every record exactly
once; its FileSink leaves exactly the input's lines.

The job is ``chaos_jobs/keyed_count.py``, submitted with ``flink run``; the cluster has a
spare TaskManager, and every killed TaskManager is started again.
"""

from __future__ import annotations

import collections
import os
import random
import re
import signal
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster, child_processes

JOB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chaos_jobs", "keyed_count.py")
JOB_ID = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
KEYS = 10
PARALLELISM = 2


def job_args(out: Path, records: int, rate: int, backend: str, unaligned: bool) -> List[str]:
    args = [JOB, "--records", str(records), "--keys", str(KEYS), "--rate", str(rate),
            "--backend", backend, "--checkpoints", str(out / "checkpoints"),
            "--out", str(out)]
    return args + (["--unaligned"] if unaligned else [])


def submit(cluster: ProcessCluster, *args: str) -> str:
    done = cluster.flink("run", "-d", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    match = JOB_ID.search(done.stdout)
    assert match, done.stdout
    return match.group(1)


def job_state(cluster: ProcessCluster, job_id: str) -> str:
    return cluster.rest(f"/jobs/{job_id}")["state"]


def completed_checkpoints(cluster: ProcessCluster, job_id: str) -> int:
    return cluster.rest(f"/jobs/{job_id}/checkpoints")["counts"]["completed"]


def all_running(cluster: ProcessCluster, job_id: str) -> bool:
    details = cluster.rest(f"/jobs/{job_id}")
    if details["state"] != "RUNNING":
        return False
    return all(s["status"] == "RUNNING"
               for v in details["vertices"]
               for s in cluster.rest(f"/jobs/{job_id}/vertices/{v['id']}")["subtasks"])


def live_task_managers(cluster: ProcessCluster) -> List[Any]:
    return [tm for tm in cluster.task_managers if tm.poll() is None]


def kill_one(cluster: ProcessCluster, out: Path, rng: random.Random) -> str:
    """SIGKILLs a TaskManager or a slot worker that runs the counting task."""
    running = {int(name.split("-")[1]) for name in os.listdir(out / "pids")}
    candidates = [(tm, worker) for tm in live_task_managers(cluster)
                  for worker in child_processes(tm.pid) if worker in running]
    assert candidates, "no live process runs the counting task"
    tm, worker = rng.choice(candidates)
    if rng.random() < 0.5:
        os.kill(tm.pid, signal.SIGKILL)
        tm.wait()
        cluster.start_task_manager()
        return f"TaskManager {tm.pid}"
    os.kill(worker, signal.SIGKILL)
    return f"slot worker {worker}"


def read_counts(out: Path) -> Dict[int, int]:
    """The highest count per key that any attempt wrote (a torn last line only lowers it)."""
    highest: Dict[int, int] = collections.defaultdict(int)
    for path in (out / "counts").iterdir():
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) == 2:
                key, n = int(fields[0]), int(fields[1])
                highest[key] = max(highest[key], n)
    return dict(highest)


def read_file_sink(out: Path) -> List[str]:
    """The lines of the FileSink's visible (committed) part files."""
    lines: List[str] = []
    for path in sorted((out / "files").rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            lines += path.read_text().splitlines()
    return lines


def check_exactly_once(out: Path, records: int) -> None:
    per_key = records // KEYS
    assert read_counts(out) == {k: per_key for k in range(KEYS)}, \
        "the highest count per key differs from the input (lost or double counting)"
    lines = read_file_sink(out)
    duplicates = [line for line, n in collections.Counter(lines).items() if n > 1]
    assert not duplicates, f"{len(duplicates)} duplicate lines, e.g. {duplicates[:3]}"
    values = sorted(int(line.split(",")[0]) for line in lines)
    assert values == list(range(records)), \
        f"{len(values)} lines, {records} expected: missing or torn lines"
    # and the FileSink saw each key's counts 1..per_key once each
    pairs = collections.Counter((int(k), int(n)) for _, k, n in
                                (line.split(",") for line in lines))
    assert set(pairs) == {(k, n) for k in range(KEYS) for n in range(1, per_key + 1)}


def run_chaos(tmp_path: Path, backend: str, unaligned: bool, records: int, rate: int,
              kills: int, finish_within_s: float, seed: Optional[int] = None) -> None:
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    out = tmp_path / "out"
    with ProcessCluster(str(tmp_path / "c"), task_managers=PARALLELISM + 1, slots=1) as cluster:
        job_id = submit(cluster, "-p", str(PARALLELISM),
                        *job_args(out, records, rate, backend, unaligned))
        done: List[str] = []
        for _ in range(kills):
            # each kill after a checkpoint completed since the last one, so the job progresses
            seen = completed_checkpoints(cluster, job_id)
            wait_until(lambda: job_state(cluster, job_id) == "FINISHED"
                       or (all_running(cluster, job_id)
                           and completed_checkpoints(cluster, job_id) > seen),
                       what=f"the job running with a new checkpoint (seed {seed})",
                       timeout_s=60)
            if job_state(cluster, job_id) == "FINISHED":
                break
            time.sleep(rng.uniform(0.0, 1.0))  # a random moment: chaos, not synchronization
            if job_state(cluster, job_id) == "FINISHED":
                break
            done.append(kill_one(cluster, out, rng))
        wait_until(lambda: job_state(cluster, job_id) in ("FINISHED", "FAILED", "CANCELED"),
                   what=f"the job finished (seed {seed}, killed {done})",
                   timeout_s=finish_within_s, interval_s=0.2)
        state = job_state(cluster, job_id)
        assert state == "FINISHED", (
            f"{state} (seed {seed}, killed {done}): "
            f"{cluster.rest(f'/jobs/{job_id}/exceptions')['root-exception']}")
        assert done, f"no kill landed before the job finished (seed {seed})"
    check_exactly_once(out, records)


@pytest.mark.parametrize("unaligned", [False, True], ids=["aligned", "unaligned"])
@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_keyed_count_under_kills_counts_every_record_exactly_once(
        tmp_path: Path, backend: str, unaligned: bool) -> None:
    run_chaos(tmp_path, backend, unaligned, records=100_000, rate=10_000, kills=2,
              finish_within_s=120)


@pytest.mark.slow
@pytest.mark.parametrize("unaligned", [False, True], ids=["aligned", "unaligned"])
@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_long_keyed_count_under_many_kills_counts_every_record_exactly_once(
        tmp_path: Path, backend: str, unaligned: bool) -> None:
    run_chaos(tmp_path, backend, unaligned, records=1_000_000, rate=20_000, kills=6,
              finish_within_s=600)
