"""Recovery benchmarks on real processes (ProcessCluster with Flink's default heartbeat
settings, ``heartbeat.interval`` 10 s and ``heartbeat.timeout`` 50 s): the time from a SIGKILL
of a TaskManager, or of one slot worker, until every task of the job is RUNNING again, as
REST reports it. The job is an endless p=2 source -> keyed map -> sink with checkpoints every
500 ms and a fixed-delay restart strategy with a 1 s delay (the first delay of Flink 2.x's
default exponential-delay, which would otherwise double at every one of the repeated kills:
its backoff resets only after an hour without failures). The median over ``runs`` kills
counts.
"""

from __future__ import annotations

import os
import signal
import statistics
import tempfile
import time
from typing import Callable, List

from benchmarks.cluster import ClusterResult
from flink_py.testing.jobs import endless_keyed_job
from flink_py.testing.poll import wait_until
from flink_py.testing.process_cluster import ProcessCluster

DEADLINE_S = 120.0


def _pids(markers: str) -> List[int]:
    return [int(name.split("-")[1]) for name in os.listdir(markers) if name.startswith("pid-")]


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _all_running(cluster: ProcessCluster, job_id: str) -> bool:
    details = cluster.rest(f"/jobs/{job_id}")
    if details["state"] != "RUNNING":
        return False
    return all(v["tasks"].get("RUNNING", 0) == v["parallelism"] for v in details["vertices"])


def _one_kill(cluster: ProcessCluster, job_id: str, markers: str,
              kill: Callable[[int], None]) -> float:
    wait_until(lambda: _all_running(cluster, job_id) and _pids(markers), "all tasks running",
               timeout_s=DEADLINE_S)
    victim = _pids(markers)[0]
    for name in os.listdir(markers):
        os.unlink(os.path.join(markers, name))
    start = time.monotonic()
    kill(victim)
    # the job noticed (a restarted source wrote its marker) and every task runs again
    try:
        wait_until(lambda: _pids(markers) and _all_running(cluster, job_id),
                   "all tasks running again", timeout_s=DEADLINE_S, interval_s=0.02)
    except AssertionError as exc:
        details = cluster.rest(f"/jobs/{job_id}")
        raise AssertionError(f"{exc}: job {details['state']}, tasks "
                             f"{[v['tasks'] for v in details['vertices']]}, markers "
                             f"{_pids(markers)}, overview {cluster.rest('/overview')}") from exc
    return time.monotonic() - start


def run_recovery_benchmarks(runs: int) -> List[ClusterResult]:
    results: List[ClusterResult] = []
    with tempfile.TemporaryDirectory(prefix="flink_py-recovery-") as base:
        markers = os.path.join(base, "markers")
        os.makedirs(markers)
        program = os.path.join(base, "job.py")
        with open(program, "w") as f:
            f.write(endless_keyed_job(markers, 500, 16, "recovery benchmark"))
        conf = {"heartbeat.interval": 10_000, "heartbeat.timeout": 50_000,
                "restart-strategy.type": "fixed-delay",
                "restart-strategy.fixed-delay.attempts": 1000,
                "restart-strategy.fixed-delay.delay": "1 s"}
        with ProcessCluster(os.path.join(base, "c"), task_managers=2, slots=2,
                            conf=conf) as cluster:
            done = cluster.flink("run", "-d", program)
            if done.returncode != 0:
                raise RuntimeError(f"flink run failed: {done.stdout}\n{done.stderr}")
            job_id = cluster.rest("/jobs/overview")["jobs"][0]["jid"]

            def kill_task_manager(worker: int) -> None:
                tm_pid = _parent(worker)
                [tm] = [p for p in cluster.task_managers if p.pid == tm_pid]
                tm.send_signal(signal.SIGKILL)
                tm.wait(DEADLINE_S)
                cluster.task_managers.remove(tm)
                cluster.start_task_manager()  # the lost slots come back for the next run

            def kill_worker(worker: int) -> None:
                os.kill(worker, signal.SIGKILL)

            for name, kill in (("TaskManager", kill_task_manager),
                               ("slot worker", kill_worker)):
                times = []
                for _ in range(runs):
                    times.append(_one_kill(cluster, job_id, markers, kill))
                    # slots for the next failover (a lost TaskManager's may still count
                    # until its heartbeat times out)
                    wait_until(lambda: cluster.rest("/overview")["slots-available"] >= 2,
                               what="free slots", timeout_s=DEADLINE_S)
                results.append(ClusterResult(
                    f"SIGKILL {name} -> all RUNNING, median of {runs} "
                    f"({min(times):.1f}-{max(times):.1f} s)", statistics.median(times), "s",
                    10.0, higher_is_better=False))
            cluster.rest(f"/jobs/{job_id}?mode=cancel", method="PATCH")
    return results


if __name__ == "__main__":
    import sys
    from benchmarks.cluster import print_cluster_table
    print_cluster_table(run_recovery_benchmarks(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
