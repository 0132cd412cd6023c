"""Local parallelism: ``python job.py`` at -p 2 against -p 1 on the embedded MiniCluster.

- A CPU-bound keyed job (a few µs of Python per record in a map, a keyed exchange, a
  reduce): -p 2 in slot worker processes (``python.execution-mode: process``, the default at
  parallelism > 1) against -p 1 (in the program's process, the default at parallelism 1).
  Target 1.8.
- W2 (``key_by`` -> rolling ``reduce``, almost no work per record) the same way: the keyed
  exchange is the cost. Target 1.5.
- W2 again with its keys placed so that no record crosses slots, then so that every record
  does: what routing costs within a slot, and what crossing costs.
- Threads at -p 2 (``python.execution-mode: thread``) against -p 1, to show what the
  processes buy: one GIL, so no second core.

Each figure is the ratio of the jobs' net runtimes (``JobExecutionResult.get_net_runtime``:
scheduling to FINISHED, without starting the slot workers), best of ``repeat``; the wall
time of ``env.execute`` is shown beside it, since that is what a user waits for.

Then the cost of one record crossing processes: ``remote_exchange.py``'s DataServer ->
RemoteInputChannel between two processes (which sends ``(int, int)`` buffers in the
columnar encoding), against ``pickle.dumps`` + ``loads`` and the columnar codec's encode +
``loads`` of the same buffers in one process.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import remote_exchange  # noqa: E402
from benchmarks import workloads as w  # noqa: E402
from benchmarks.cluster import ClusterResult, print_cluster_table  # noqa: E402
from flink_py.common import Configuration  # noqa: E402
from flink_py.datastream import StreamExecutionEnvironment  # noqa: E402


def _env(mode: str, parallelism: int) -> StreamExecutionEnvironment:
    config = Configuration()
    config.set_string("python.execution-mode", mode)
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    return env


def _keyed_job(n: int, pair: Callable[[int], Tuple[int, int]], expected: Dict[int, int]
               ) -> Callable[[StreamExecutionEnvironment], None]:
    def build(env: StreamExecutionEnvironment) -> None:
        (env.from_sequence(0, n - 1).map(pair).key_by(w.w2_key).reduce(w.w2_sum)
            .add_sink(w.LastPerKeySink(expected)))
    return build


def _run(build: Callable[[StreamExecutionEnvironment], None], mode: str, parallelism: int,
         repeat: int) -> Tuple[float, float]:
    """(best net runtime s, best wall time s) of ``repeat`` runs."""
    net, wall = float("inf"), float("inf")
    for _ in range(repeat):
        env = _env(mode, parallelism)
        build(env)
        start = time.perf_counter()
        result = env.execute(f"local {mode} p{parallelism}")
        wall = min(wall, time.perf_counter() - start)
        net = min(net, result.get_net_runtime() / 1000.0)
    return net, wall


def _ratio_rows(name: str, n: int, build: Callable[[StreamExecutionEnvironment], None],
                target: float, repeat: int) -> List[ClusterResult]:
    p1_net, p1_wall = _run(build, "thread", 1, repeat)
    p2_net, p2_wall = _run(build, "process", 2, repeat)
    t2_net, _ = _run(build, "thread", 2, repeat)
    return [
        ClusterResult(f"{name} p2 processes / p1 ({n / p2_net:,.0f} / {n / p1_net:,.0f})",
                      p1_net / p2_net, "x", target),
        ClusterResult(f"  the same, wall time of execute ({p2_wall:.2f} / {p1_wall:.2f} s)",
                      p1_wall / p2_wall, "x", target),
        ClusterResult(f"  p2 threads / p1 ({n / t2_net:,.0f} rec/s)", p1_net / t2_net, "x",
                      None),
    ]


def run_local_parallel_benchmarks(repeat: int, scale: float) -> List[ClusterResult]:
    results: List[ClusterResult] = []
    n = int(2_000_000 * scale)
    results += _ratio_rows("CPU-bound keyed", n,
                           _keyed_job(n, w.cpu_pair, w.expected_sums(n, w.cpu_pair)), 1.8,
                           repeat)
    n = int(4_000_000 * scale)
    results += _ratio_rows("W2 keyed reduce", n, _keyed_job(n, w.w2_pair, w.w2_expected(n)),
                           1.5, repeat)
    results += _placement_rows(n, repeat)
    return results


def _placement_rows(n: int, repeat: int) -> List[ClusterResult]:
    """W2 with keys placed so that no record crosses slots, or every record does: how much
    of the keyed exchange's cost is routing within a slot, and how much is crossing."""
    rows: List[ClusterResult] = []
    for crossing, label in ((False, "none crosses"), (True, "all cross")):
        pair = w.w2_placed_pair(n, 2, crossing)
        build = _keyed_job(n, pair, w.expected_sums(n, pair))
        p1_net, _ = _run(build, "thread", 1, repeat)
        p2_net, _ = _run(build, "process", 2, repeat)
        rows.append(ClusterResult(f"  W2 keys placed, {label} ({n / p2_net:,.0f} / "
                                  f"{n / p1_net:,.0f})", p1_net / p2_net, "x", None))
    return rows


def record_crossing(repeat: int, scale: float) -> List[ClusterResult]:
    """ns per record through DataServer -> RemoteInputChannel, and through pickle's and the
    columnar codec's dumps + loads of the same buffers in one process."""
    records = int(1_000_000 * scale)
    buffers = remote_exchange.make_buffers("tuple", records)
    remote = min(remote_exchange.remote_runs("tuple", records, repeat, remote_exchange.CAPACITY,
                                             remote_exchange.CREDITS))
    pickled = min(sum(remote_exchange.pickle_time(buffers)) for _ in range(repeat))
    coded = min(sum(remote_exchange.codec_time(buffers)) for _ in range(repeat))
    ns = 1e9 / records
    # the crossing's producer and consumer run in parallel: it may cost less than pickling
    # one buffer both ways in one process, but should not cost much more
    return [
        ClusterResult("record crossing processes, (int, int), ns", remote * ns, "ns",
                      pickled * ns * 1.5, higher_is_better=False),
        ClusterResult("  pickle dumps + loads of the same buffers, ns", pickled * ns, "ns",
                      None, higher_is_better=False),
        ClusterResult("  columnar encode + loads of the same buffers, ns", coded * ns, "ns",
                      None, higher_is_better=False),
    ]


if __name__ == "__main__":
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    print_cluster_table(run_local_parallel_benchmarks(repeat, scale)
                        + record_crossing(repeat, scale))
