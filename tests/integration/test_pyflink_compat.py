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


def test_tumbling_event_time_window_with_a_process_window_function() -> None:
    # PyFlink's documented example (event-time tumbling windows of 5 ms, monotonous
    # timestamps): Flink prints one row per window, with the window's bounds.
    assert run_job("tumbling_time_window.py").splitlines() == [
        "(hi,0,5,4)", "(hi,5,10,3)", "(hi,15,20,1)"]
