"""The job of the watermark alignment tests: a slow and a fast source in one alignment group.

Both are NumberSequenceSources of ``RECORDS`` numbers with timestamps ``n * STEP_MS``, so
both cover the same event time; a process function chained to each records, per record,
``(source, number, time.monotonic_ns(), current watermark, process id)``. The slow one takes
``SLOW_SLEEP_S`` per record, the fast one ``FAST_SLEEP_S``: the fast source's event time
runs at most ``STEP_MS / FAST_SLEEP_S`` ms per second, ten times the slow one's.

The fast source's first record waits (``wait_until`` on a file) until the slow source has
emitted its first watermark, so that how far apart the two tasks start does not count:
before its first watermark a source does not report to its group (as in Flink), and the
fast source would run unaligned meanwhile.

Run as a program (``flink run alignment_job.py --gate PATH [--unaligned]
[--separate-slots]``) it prints the collected rows as one JSON line after ``ROWS ``. The
monotonic clock is the machine's, so the rows of tasks in different processes compare.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import time
from typing import Any, Iterator, List, Sequence

from flink_py.common import Duration, WatermarkStrategy
from flink_py.common.watermark_strategy import TimestampAssigner
from flink_py.datastream import DataStream, ProcessFunction, StreamExecutionEnvironment
from flink_py.datastream.connectors.number_seq import NumberSequenceSource
from flink_py.testing.poll import wait_until

RECORDS = 300
STEP_MS = 100
SLOW_SLEEP_S = 0.010
FAST_SLEEP_S = 0.001
GROUP = "alignment-group"
MAX_DRIFT_MS = 1000
UPDATE_INTERVAL_MS = 50
AUTO_WATERMARK_INTERVAL_MS = 10
#: the fast source's event time per wall-clock ms, at the most
FAST_EVENT_MS_PER_MS = STEP_MS / (FAST_SLEEP_S * 1000)
#: how far the fast source's watermark may be ahead of the slow one's: the drift plus what
#: the fast source reads in one update (its report, then the answer that includes the slow
#: source's latest report: two update intervals)
ALLOWED_GAP_MS = MAX_DRIFT_MS + 2 * UPDATE_INTERVAL_MS * FAST_EVENT_MS_PER_MS

_NO_WATERMARK = -(2 ** 63)


class StepTimestamps(TimestampAssigner):
    def extract_timestamp(self, value: int, record_timestamp: int) -> int:
        return value * STEP_MS


class RecordWatermarks(ProcessFunction):
    """Paces the source (``sleep_s`` per record) and records each record's watermark."""

    def __init__(self, source: str, sleep_s: float, gate: str, opens_gate: bool) -> None:
        self.source = source
        self.sleep_s = sleep_s
        self.gate = gate
        self.opens_gate = opens_gate
        self.gate_passed = False

    def process_element(self, value: int, ctx: ProcessFunction.Context) -> Iterator[tuple]:
        watermark = ctx.timer_service().current_watermark()
        if not self.gate_passed:
            if self.opens_gate and watermark != _NO_WATERMARK:
                with open(self.gate, "w"):
                    pass
                self.gate_passed = True
            elif not self.opens_gate:
                wait_until(lambda: os.path.exists(self.gate),
                           what="the slow source's first watermark", timeout_s=60)
                self.gate_passed = True
        time.sleep(self.sleep_s)  # the source's pace
        yield self.source, value, time.monotonic_ns(), watermark, os.getpid()


def strategy(aligned: bool) -> WatermarkStrategy:
    result = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        StepTimestamps())
    if aligned:
        result = result.with_watermark_alignment(
            GROUP, Duration.of_millis(MAX_DRIFT_MS), Duration.of_millis(UPDATE_INTERVAL_MS))
    return result


def build(env: StreamExecutionEnvironment, gate: str, aligned: bool = True,
          separate_slots: bool = False) -> DataStream:
    """The job; with ``separate_slots`` the fast source runs in a slot of its own (on a
    cluster: another process than the slow one's)."""
    env.set_parallelism(1)
    env.get_config().set_auto_watermark_interval(AUTO_WATERMARK_INTERVAL_MS)
    slow = env.from_source(NumberSequenceSource(0, RECORDS - 1), strategy(aligned), "slow") \
        .process(RecordWatermarks("slow", SLOW_SLEEP_S, gate, opens_gate=True))
    fast = env.from_source(NumberSequenceSource(0, RECORDS - 1), strategy(aligned), "fast")
    if separate_slots:
        fast = fast.slot_sharing_group("fast")
    fast = fast.process(RecordWatermarks("fast", FAST_SLEEP_S, gate, opens_gate=False))
    if separate_slots:
        fast = fast.slot_sharing_group("fast")
    return slow.union(fast)


def largest_gaps(rows: Sequence[Sequence[Any]], count: int = 3) -> List[tuple]:
    """The ``count`` largest (gap ms, fast row, slow row): how far the fast source's watermark
    was ahead of the slow one's at the time of each fast record (the slow source's watermark
    then: that of its last record before), over the fast records while the slow source had
    a watermark and had not finished."""
    slow = sorted((r for r in rows if r[0] == "slow"), key=lambda r: r[2])
    fast = sorted((r for r in rows if r[0] == "fast"), key=lambda r: r[2])
    times = [r[2] for r in slow]
    gaps = []
    for row in fast:
        i = bisect.bisect_right(times, row[2]) - 1
        if i < 0 or slow[i][3] == _NO_WATERMARK or i == len(slow) - 1:
            continue
        gaps.append((row[3] - slow[i][3], tuple(row), tuple(slow[i])))
    return sorted(gaps, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gate", required=True)
    parser.add_argument("--unaligned", action="store_true")
    parser.add_argument("--separate-slots", action="store_true")
    args = parser.parse_args()
    env = StreamExecutionEnvironment.get_execution_environment()
    stream = build(env, args.gate, not args.unaligned, args.separate_slots)
    with stream.execute_and_collect("alignment") as rows:
        print("ROWS " + json.dumps([list(r) for r in rows]))


if __name__ == "__main__":
    main()
