"""Watermark alignment on real daemons: the sources report to the JobMaster over gRPC
(``ReportWatermark``), and the fast one stays within reach of the slow one as on the
MiniCluster (tests/integration/test_watermark_alignment.py, same job and bound)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flink_py.testing.process_cluster import ProcessCluster
from tests.integration import alignment_job
from tests.integration.alignment_job import ALLOWED_GAP_MS, RECORDS

JOB = os.path.join(os.path.dirname(os.path.dirname(__file__)), "integration",
                   "alignment_job.py")


def test_the_fast_source_waits_for_the_slow_one_on_a_cluster(tmp_path: Path) -> None:
    with ProcessCluster(str(tmp_path / "c"), task_managers=1, slots=2) as cluster:
        # the two sources in two slot workers (processes): both report over gRPC
        done = cluster.flink("run", JOB, "--gate", str(tmp_path / "gate"), "--separate-slots",
                             timeout_s=120)
        assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("ROWS ")]
    assert len(lines) == 1, done.stdout
    rows = json.loads(lines[0][len("ROWS "):])
    for source in ("slow", "fast"):
        assert sorted(r[1] for r in rows if r[0] == source) == list(range(RECORDS)), source
    assert len({(r[0], r[4]) for r in rows}) == len({r[4] for r in rows}) == 2  # 2 processes
    gaps = alignment_job.largest_gaps(rows)
    assert gaps, "no fast record while the slow source ran"
    assert gaps[0][0] <= ALLOWED_GAP_MS, gaps
    fast_end = max(r[2] for r in rows if r[0] == "fast")
    slow_then = max(r[3] for r in rows if r[0] == "slow" and r[2] <= fast_end)
    assert slow_then >= (RECORDS - 1) * alignment_job.STEP_MS - ALLOWED_GAP_MS, slow_then
