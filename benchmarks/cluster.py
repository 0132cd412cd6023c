"""Cluster benchmarks: jobs on real JobManager and TaskManager processes.

- W2 at -p 2 on one TaskManager with 2 slots, against -p 1 (slots use cores): target 1.7;
  and the same for a CPU-bound map with no exchange, where the slots' cores show plainly.
- A rebalance between two TaskManagers, against the same job with a forward edge inside one
  slot (chaining disabled, so both have an exchange): target 0.6.
- ``flink run`` of a trivial bounded job on a warm cluster, submission to FINISHED: < 1 s.

Throughput is the JobManager's net runtime of the job (scheduling to FINISHED), so the
client's polling does not count; each case runs ``repeat`` times and the best counts.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

import cloudpickle

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import workloads as w  # noqa: E402
from flink_py.client.rest_cluster_client import RestClusterClient  # noqa: E402
from flink_py.common.job_status import JobStatus  # noqa: E402
from flink_py.datastream import StreamExecutionEnvironment  # noqa: E402
from flink_py.testing.process_cluster import ProcessCluster  # noqa: E402

# The workloads' functions travel by value: the TaskManagers do not have benchmarks/.
cloudpickle.register_pickle_by_value(w)


@dataclass
class ClusterResult:
    name: str
    value: float
    unit: str
    target: Optional[float]  # None: measured only
    higher_is_better: bool = True

    @property
    def met(self) -> Optional[bool]:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


def _net_runtime_s(cluster: ProcessCluster, build: Callable[[Any], None], parallelism: int,
                   name: str) -> float:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    build(env)
    client = RestClusterClient(cluster.rest_address, 30.0, token=cluster.secret.rest_token())
    job_id = client.submit_job(env.get_job_graph(name))
    result = client.request_job_result(job_id, timeout_s=300.0)
    if result.status is not JobStatus.FINISHED:
        message = result.failure.error.traceback_text if result.failure else ""
        raise RuntimeError(f"benchmark job {name!r} ended {result.status.name}: {message}")
    return result.net_runtime_ms / 1000.0


def _w2(n: int, expected: dict) -> Callable[[Any], None]:
    def build(env: Any) -> None:
        (env.from_sequence(0, n - 1).map(w.w2_pair).key_by(w.w2_key).reduce(w.w2_sum)
            .add_sink(w.LastPerKeySink(expected)))
    return build


def _cpu_bound(n: int) -> Callable[[Any], None]:
    def build(env: Any) -> None:
        env.from_sequence(0, n - 1).map(w.cpu_heavy).add_sink(w.CountingSink())
    return build


def _exchange(n: int, network: bool) -> Callable[[Any], None]:
    def build(env: Any) -> None:
        doubled = env.from_sequence(0, n - 1).map(w.w1_double)
        if network:  # the sink in its own slot, on the other TaskManager
            doubled.rebalance().add_sink(w.CountingSink()).slot_sharing_group("sink")
        else:
            doubled.forward().add_sink(w.CountingSink()).disable_chaining()
    return build


def run_cluster_benchmarks(repeat: int, scale: float) -> List[ClusterResult]:
    results: List[ClusterResult] = []
    with tempfile.TemporaryDirectory(prefix="flink_py-bench-") as base:
        # One TaskManager with two slots: -p 1 against -p 2.
        with ProcessCluster(os.path.join(base, "a"), task_managers=1, slots=2) as cluster:
            n = int(4_000_000 * scale)
            expected = w.w2_expected(n)
            p1 = min(_net_runtime_s(cluster, _w2(n, expected), 1, "W2 p1")
                     for _ in range(repeat))
            p2 = min(_net_runtime_s(cluster, _w2(n, expected), 2, "W2 p2")
                     for _ in range(repeat))
            results.append(ClusterResult(
                f"W2 p=2 / p=1 records/s ({n / p2:,.0f} / {n / p1:,.0f})", p1 / p2, "x", 1.7))
            n = int(600_000 * scale)
            p1 = min(_net_runtime_s(cluster, _cpu_bound(n), 1, "cpu p1") for _ in range(repeat))
            p2 = min(_net_runtime_s(cluster, _cpu_bound(n), 2, "cpu p2") for _ in range(repeat))
            results.append(ClusterResult(
                f"CPU-bound map p=2 / p=1 ({n / p2:,.0f} / {n / p1:,.0f} rec/s)", p1 / p2, "x",
                1.7))
            results.append(_trivial_run(cluster, base, repeat))
        # Two TaskManagers with one slot each: a rebalance between them.
        with ProcessCluster(os.path.join(base, "b"), task_managers=2, slots=1) as cluster:
            n = int(2_000_000 * scale)
            local = min(_net_runtime_s(cluster, _exchange(n, False), 1, "forward")
                        for _ in range(repeat))
            remote = min(_net_runtime_s(cluster, _exchange(n, True), 1, "rebalance")
                         for _ in range(repeat))
            results.append(ClusterResult(
                f"network / local exchange ({n / remote:,.0f} / {n / local:,.0f} rec/s)",
                local / remote, "x", 0.6))
    return results


TRIVIAL_JOB = '''
from flink_py.datastream import StreamExecutionEnvironment
env = StreamExecutionEnvironment.get_execution_environment()
env.from_collection([1, 2, 3]).map(lambda x: x + 1).add_sink(lambda value, context=None: None)
env.execute("trivial")
'''


def _trivial_run(cluster: ProcessCluster, base: str, repeat: int) -> ClusterResult:
    """Wall time of ``flink run trivial.py``, from starting the CLI to its exit."""
    path = os.path.join(base, "trivial.py")
    with open(path, "w") as f:
        f.write(TRIVIAL_JOB)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        done = cluster.flink("run", path)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"flink run failed: {done.stdout}\n{done.stderr}")
        best = min(best, elapsed)
    return ClusterResult("flink run trivial job, CLI start to exit", best, "s", 1.0,
                         higher_is_better=False)


def print_cluster_table(results: List[ClusterResult]) -> None:
    header = f"{'cluster benchmark':58} {'value':>8} {'target':>8}  met"
    print(header)
    print("-" * len(header))
    for r in results:
        if r.target is None:
            target, met = "-", "-"
        else:
            target = f"{'>=' if r.higher_is_better else '<='}{r.target:.3g}{r.unit}"
            met = "yes" if r.met else "NO"
        print(f"{r.name:58} {r.value:>7.2f}{r.unit} {target:>8}  {met}")


if __name__ == "__main__":
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print_cluster_table(run_cluster_benchmarks(repeat, 1.0))
