"""``make bench``: records/s of each workload on the engine and as a plain Python loop.

Prints a table with the ratio engine/plain (higher is better; 1.0 = as fast as the loop)
and the issue's target for each. Each side runs ``--repeat`` times; the best run counts.
Then (unless ``--no-bytewax``) W1–W4 against Bytewax 0.21 with both engines' start-up time
and peak RSS (``bytewax_runner.py``), then local parallelism (``local_parallel.py``: -p 2 in
slot worker processes against -p 1, and one record's crossing between processes), then the
cluster benchmarks (unless ``--no-cluster``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Callable, Dict, List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import workloads as w  # noqa: E402


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    return min(w._timed(fn)[0] for _ in range(repeat))


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the record counts (e.g. 0.1 for a quick run)")
    parser.add_argument("--no-cluster", action="store_true",
                        help="skip the benchmarks on real JobManager/TaskManager processes")
    parser.add_argument("--recovery-runs", type=int, default=5,
                        help="SIGKILLs per recovery benchmark (the median counts)")
    parser.add_argument("--bytewax", action=argparse.BooleanOptionalAction, default=True,
                        help="compare W1-W4 with Bytewax 0.21, installed into a venv of its "
                             "own (benchmarks/bytewax_runner.py); on by default")
    args = parser.parse_args(argv)
    r = args.repeat
    rows = []

    n1 = int(2_000_000 * args.scale)
    # W1-W4 at p=1 are also flink_py's side of the Bytewax comparison
    p1: Dict[str, w.Result] = {}
    p1["W1"] = w.Result("W1 stateless chain (p=1)", n1,
                        best_of(r, lambda: w.w1_engine(n1)),
                        best_of(r, lambda: w.w1_plain(n1)))
    rows.append((p1["W1"], 0.8))

    n2 = int(1_000_000 * args.scale)
    expected2 = w.w2_expected(n2)
    p1["W2"] = w.Result("W2 keyed rolling reduce (p=1)", n2,
                        best_of(r, lambda: w.w2_engine(n2, expected2)),
                        best_of(r, lambda: w.w2_plain(n2, expected2)))
    rows.append((p1["W2"], 0.5))

    # W2 with checkpoints every 1 s (filesystem storage in a temp dir) against without, per
    # backend; and rocksdb against hashmap (no checkpoints)
    w2_rates = {}
    # (long enough runs for several checkpoints: about 3 s and 9 s)
    for backend, n in (("hashmap", int(10_000_000 * args.scale)), ("rocksdb", n2)):
        expected = w.w2_expected(n)
        plain_backend = best_of(r, lambda b=backend: w.w2_engine(n, expected, backend=b))
        w.completed_checkpoints[0] = 0
        with tempfile.TemporaryDirectory(prefix="w2-checkpoints-") as directory:
            checkpointed = best_of(r, lambda b=backend, d=directory: w.w2_engine(
                n, expected, backend=b, checkpoint_interval_ms=1000, checkpoint_dir=d))
        w2_rates[backend] = plain_backend / n  # s a record
        rows.append((w.Result(f"W2 {backend} chk 1 s ({w.completed_checkpoints[0] // r} "
                              f"per run) / none", n, checkpointed, plain_backend),
                     0.85 if backend == "hashmap" else None))
    rows.append((w.Result("W2 rocksdb / hashmap (per record)", 1, w2_rates["rocksdb"],
                          w2_rates["hashmap"]), None))

    n4 = int(1_000_000 * args.scale)
    path, expected4 = w.make_words_file(n4)
    try:
        p1["W4"] = w.Result("W4 word count (p=1)", n4,
                            best_of(r, lambda: w.w4_engine(path, expected4)),
                            best_of(r, lambda: w.w4_plain(path, expected4)))
        rows.append((p1["W4"], 0.5))
    finally:
        os.unlink(path)

    n5 = int(1_000_000 * args.scale)
    n3 = int(1_000_000 * args.scale)
    p1["W3"] = w.Result("W3 event-time tumbling window (p=1)", n3,
                        best_of(r, lambda: w.w3_engine(n3)),
                        best_of(r, lambda: w.w3_plain(n3)))
    rows.append((p1["W3"], 0.5))  # issue 11; and >= 1.16 M records/s (PyFlink's Java SQL)

    rows.append((w.Result("W5 keyed state + timers (p=1)", n5,
                          best_of(r, lambda: w.w5_engine(n5)),
                          best_of(r, lambda: w.w5_plain(n5))), 0.35))  # issue 11

    header = (f"{'workload':40} {'records':>10} {'engine rec/s':>14} {'plain rec/s':>14} "
              f"{'ratio':>7} {'target':>7}  met")
    print(header)
    print("-" * len(header))
    for result, target in rows:
        if target is None:  # no target yet: measured only
            target_text, met = f"{'-':>7}", "-"
        else:
            target_text, met = f"{target:>7.2f}", "yes" if result.ratio >= target else "NO"
        print(f"{result.name:40} {result.records:>10,} {result.engine_rate:>14,.0f} "
              f"{result.plain_rate:>14,.0f} {result.ratio:>7.2f} {target_text}  {met}")
    if args.bytewax:
        from benchmarks import bytewax_runner
        print()
        compared = bytewax_runner.run(r, args.scale, measured=p1)
        if compared is not None:
            bytewax_runner.print_tables(*compared)
    from benchmarks import cluster, local_parallel
    print()
    cluster.print_cluster_table(local_parallel.run_local_parallel_benchmarks(min(r, 3),
                                                                             args.scale)
                                + local_parallel.record_crossing(min(r, 3), args.scale))
    if not args.no_cluster:
        print()
        cluster.print_cluster_table(cluster.run_cluster_benchmarks(min(r, 3), args.scale))
        from benchmarks import recovery
        print()
        cluster.print_cluster_table(recovery.run_recovery_benchmarks(args.recovery_runs))
        from benchmarks import bench_auth
        print()
        bench_auth.print_table(*bench_auth.run(min(r, 3), args.scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
