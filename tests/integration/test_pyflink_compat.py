"""PyFlink programs with only their imports changed print what Flink prints.

``pyflink_jobs/`` holds programs in PyFlink's documented style (generic function classes such
as ``ProcessWindowFunction[tuple, tuple, str, TimeWindow]``, ``key_type=``, output types as the
second positional argument); each test runs one as a script and compares its output with the
output Flink gives for it.
"""

from __future__ import annotations

import os
import subprocess
import sys

JOBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyflink_jobs")


def run_job(name: str) -> str:
    done = subprocess.run([sys.executable, os.path.join(JOBS, name)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tumbling_event_time_windows_with_a_generic_process_window_function() -> None:
    # 10 ms tumbling windows, monotonous timestamps; a typed TUPLE prints as Java's. Windows
    # fire in the order of their ends; for equal ends Flink's timer heap fixes no order.
    lines = run_job("clicks_per_window.py").splitlines()
    assert sorted(lines) == sorted([
        "(home,0,10,3)", "(cart,0,10,1)", "(home,10,20,1)", "(cart,10,20,2)",
        "(home,20,30,1)"])
    ends = [int(line.rstrip(")").split(",")[2]) for line in lines]
    assert ends == sorted(ends)
