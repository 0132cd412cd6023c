"""A trivial job, to measure an engine's start-up time and its smallest peak RSS.

    python startup_job.py flink_py|bytewax|none

Imports the engine, runs one record through a map into a sink that checks it got exactly
one, and prints one JSON line: the seconds the import took, the seconds building and
running the job took, and this process's peak RSS. ``none`` imports and runs nothing: the
interpreter's own share. ``bytewax_runner`` times the whole process from outside (start to
exit) and runs each engine with its own python (flink_py's, the Bytewax venv's), so this
file imports nothing but the standard library before the engine.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable, Dict, List


def peak_rss_kib() -> int:
    """This process's peak RSS (KiB) since its exec: /proc's VmHWM, the high-water mark of
    its own memory map. (getrusage's ru_maxrss would also count the parent's pages that
    the child held between fork and exec: a parent's RSS, whatever the child's.)"""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])  # "VmHWM:   30192 kB"
    raise LookupError("/proc/self/status has no VmHWM line")


def _check_one(outputs: List[Any]) -> None:
    if outputs != [2]:
        raise AssertionError(f"trivial job: outputs {outputs!r}, expected [2]")


def flink_py_job() -> Callable[[], None]:
    """Imports flink_py; returns a job to run."""
    from flink_py.common.typeinfo import Types
    from flink_py.datastream import SinkFunction, StreamExecutionEnvironment

    class CheckingSink(SinkFunction):
        """Fails at close unless it saw exactly the one doubled record."""

        def __init__(self) -> None:
            self.outputs: List[Any] = []

        def invoke(self, value: Any, context: Any) -> None:
            self.outputs.append(value)

        def close(self) -> None:
            _check_one(self.outputs)

    def run() -> None:
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(1)
        (env.from_collection([1], type_info=Types.LONG())
            .map(lambda x: x * 2, output_type=Types.LONG())
            .add_sink(CheckingSink()))
        env.execute("trivial")
    return run


def bytewax_job() -> Callable[[], None]:
    """Imports Bytewax; returns a job to run."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    def run() -> None:
        outputs: List[Any] = []
        flow = Dataflow("trivial")
        s = op.input("inp", flow, TestingSource([1]))
        s = op.map("double", s, lambda x: x * 2)
        op.output("out", s, TestingSink(outputs))
        run_main(flow)
        _check_one(outputs)
    return run


def no_job() -> Callable[[], None]:
    return lambda: None


JOBS: Dict[str, Callable[[], Callable[[], None]]] = {
    "flink_py": flink_py_job, "bytewax": bytewax_job, "none": no_job}


def main(argv: List[str]) -> int:
    if len(argv) != 1 or argv[0] not in JOBS:
        print(f"usage: startup_job.py {'|'.join(JOBS)} (got {argv!r})", file=sys.stderr)
        return 2
    start = time.perf_counter()
    run = JOBS[argv[0]]()
    imported = time.perf_counter()
    run()
    done = time.perf_counter()
    print(json.dumps({"engine": argv[0], "import_s": imported - start, "job_s": done - imported,
                      "peak_rss_kib": peak_rss_kib()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
