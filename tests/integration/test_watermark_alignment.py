"""Watermark alignment (``WatermarkStrategy.with_watermark_alignment``) on the MiniCluster.

A fast and a slow source in one group (tests/integration/alignment_job.py): the fast one's
watermark stays within the maximal drift (plus what it reads in one update) of the slow
one's, and the job still ends with every record. A source that goes idle, or finishes, does
not hold its group back. The same job on a ProcessCluster is in
tests/e2e/test_watermark_alignment_cluster.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from flink_py.common import Duration, Types, WatermarkStrategy
from flink_py.common.job_status import JobStatus
from flink_py.datastream import (
    CheckpointListener, ProcessFunction, SinkFunction, StreamExecutionEnvironment)
from flink_py.datastream.connectors.number_seq import NumberSequenceSource
from flink_py.runtime.jobmaster.watermark_alignment import (
    MAX_WATERMARK, WatermarkAlignmentCoordinator)
from flink_py.runtime.operators.sources import SourceTaskContext, StreamSource
from flink_py.testing.poll import wait_until
from flink_py.testing.doc_examples import assert_examples_hold
from tests.integration import alignment_job
from tests.integration.alignment_job import ALLOWED_GAP_MS, RECORDS, StepTimestamps

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def _run(tmp_path: Path, aligned: bool) -> List[tuple]:
    env = StreamExecutionEnvironment.get_execution_environment()
    stream = alignment_job.build(env, str(tmp_path / "gate"), aligned)
    with stream.execute_and_collect("alignment") as rows:
        return list(rows)


def test_the_fast_source_waits_for_the_slow_one_and_the_job_ends_with_every_record(
        tmp_path: Path) -> None:
    rows = _run(tmp_path, aligned=True)
    for source in ("slow", "fast"):
        assert sorted(r[1] for r in rows if r[0] == source) == list(range(RECORDS)), source
    gaps = alignment_job.largest_gaps(rows)
    assert gaps, "no fast record while the slow source ran"
    assert gaps[0][0] <= ALLOWED_GAP_MS, gaps
    # it did wait: its last record came once the slow source was close to the end
    fast_end = max(r[2] for r in rows if r[0] == "fast")
    slow_then = max(r[3] for r in rows if r[0] == "slow" and r[2] <= fast_end)
    assert slow_then >= (RECORDS - 1) * alignment_job.STEP_MS - ALLOWED_GAP_MS, slow_then


def test_without_alignment_the_same_job_runs_the_fast_source_far_ahead(
        tmp_path: Path) -> None:
    """The control: what the bound above excludes does happen without alignment."""
    rows = _run(tmp_path, aligned=False)
    gaps = alignment_job.largest_gaps(rows)
    assert gaps and gaps[0][0] > 2 * ALLOWED_GAP_MS, gaps


# -- sources that go idle or finish ----------------------------------------------------------

#: per test token: the idle source's release, the records the sink got
_RELEASE: Dict[str, threading.Event] = {}
_SUNK: Dict[str, List[int]] = {}
_LOCK = threading.Lock()
#: how long these jobs may take (they take about a second)
JOB_DEADLINE_S = 30.0


class _StallingSequence(StreamSource):
    """Emits ``0 .. count-1``, then nothing until the test's event is set (a reader whose
    poll finds no data: each step waits up to 10 ms for it, as a Kafka poll would)."""

    def __init__(self, name: str, count: int, token: str) -> None:
        super().__init__(name)
        self.count = count
        self.token = token
        self.next = 0

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        if self.next < self.count:
            ctx.emit([self.next], None)
            self.next += 1
            return True
        return not _RELEASE[self.token].wait(0.010)


class _StallingSource:
    """A Source for ``from_source`` (test-only: built on the runtime's StreamSource)."""

    bounded = True

    def __init__(self, count: int, token: str) -> None:
        self.count = count
        self.token = token

    def _create_source_operator(self, name: str) -> Any:
        return lambda: _StallingSequence(name, self.count, self.token)

    def _output_type(self) -> Any:
        return Types.LONG()


class _Paced(ProcessFunction):
    """1 ms per record (100 ms of event time: the source cannot finish before its first
    report); sets the idle source's event once the last record is here."""

    def __init__(self, token: str, last: int) -> None:
        self.token = token
        self.last = last

    def process_element(self, value: int, ctx: ProcessFunction.Context) -> Iterator[int]:
        time.sleep(0.001)  # the source's pace
        if value == self.last and self.token in _RELEASE:
            _RELEASE[self.token].set()
        yield value


class _Sink(SinkFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    def invoke(self, value: int, context: Any) -> None:
        with _LOCK:
            _SUNK.setdefault(self.token, []).append(value)


def _aligned(idleness_ms: Optional[int] = None) -> WatermarkStrategy:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        StepTimestamps())
    if idleness_ms is not None:
        strategy = strategy.with_idleness(Duration.of_millis(idleness_ms))
    return strategy.with_watermark_alignment("g", Duration.of_millis(500),
                                             Duration.of_millis(20))


def _env() -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.get_config().set_auto_watermark_interval(10)
    return env


def _run_to_the_end(env: StreamExecutionEnvironment, token: str) -> List[int]:
    """Runs the job; fails (and cancels it) if it does not finish within the deadline."""
    client = env.execute_async(f"alignment {token}")
    try:
        wait_until(lambda: client.get_job_status().result().is_globally_terminal_state(),
                   what="the job to end (an aligned source may wait forever)",
                   timeout_s=JOB_DEADLINE_S)
    except BaseException:
        client.cancel()
        wait_until(lambda: client.get_job_status().result().is_globally_terminal_state(),
                   what="the job CANCELED")
        raise
    assert client.get_job_status().result() is JobStatus.FINISHED
    with _LOCK:
        return sorted(_SUNK.pop(token, []))


def test_an_idle_source_does_not_hold_its_group_back(token: str) -> None:
    """The stalled source's watermark stays at 399; the paced one passes 899 (its drift
    of 500 ms ahead) within 10 ms, and is paused until the stalled source is idle (its
    report is then MAX). The stalled source ends after the paced one's last record: if
    idleness did not count, the job would never end."""
    _RELEASE[token] = threading.Event()
    try:
        env = _env()
        stalled = env.from_source(_StallingSource(5, token), _aligned(idleness_ms=50),
                                  "stalled")
        paced = env.from_source(NumberSequenceSource(0, 499), _aligned(), "paced") \
            .process(_Paced(token, 499), output_type=Types.LONG())
        stalled.union(paced).add_sink(_Sink(token))
        assert _run_to_the_end(env, token) == sorted(list(range(5)) + list(range(500)))
    finally:
        _RELEASE.pop(token)


def test_a_finished_source_does_not_hold_its_group_back(token: str) -> None:
    """Both read at the same pace; the short source ends at 4900 (after it reported): it
    reports MAX, so the long one reads on past 5400."""
    env = _env()
    short = env.from_source(NumberSequenceSource(0, 49), _aligned(), "short") \
        .process(_Paced(token, -1), output_type=Types.LONG())
    paced = env.from_source(NumberSequenceSource(0, 499), _aligned(), "paced") \
        .process(_Paced(token, 499), output_type=Types.LONG())
    short.union(paced).add_sink(_Sink(token))
    assert _run_to_the_end(env, token) == sorted(list(range(50)) + list(range(500)))


class _CountingCheckpoints(ProcessFunction, CheckpointListener):
    """Counts its records; at each completed checkpoint notes how many it had."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.records = 0

    def process_element(self, value: int, ctx: ProcessFunction.Context) -> Iterator[int]:
        self.records += 1
        yield value

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        with _LOCK:
            _SUNK.setdefault(self.token, []).append(self.records)


def test_a_source_paused_for_alignment_still_takes_checkpoints(token: str) -> None:
    """The unthrottled source is paused for good behind the stalled one (not idle: no
    idleness configured); checkpoints still complete in its task, records or not."""
    _RELEASE[token] = threading.Event()
    env = _env()
    env.enable_checkpointing(50)
    stalled = env.from_source(_StallingSource(5, token), _aligned(), "stalled")
    paused = env.from_source(NumberSequenceSource(0, 10 ** 9), _aligned(), "paused") \
        .process(_CountingCheckpoints(token), output_type=Types.LONG())
    stalled.union(paused).add_sink(_Sink(token + "-sink"))
    client = env.execute_async(f"paused {token}")
    try:
        def paused_through_two_checkpoints() -> bool:
            with _LOCK:
                counts = list(_SUNK.get(token, []))
            return len(counts) >= 3 and counts[-1] == counts[-2] == counts[-3] > 0
        wait_until(paused_through_two_checkpoints,
                   what="two checkpoints completed while the source was paused",
                   timeout_s=JOB_DEADLINE_S)
    finally:
        _RELEASE[token].set()
        client.cancel()
        wait_until(lambda: client.get_job_status().result().is_globally_terminal_state(),
                   what="the job CANCELED")
        _RELEASE.pop(token)
        with _LOCK:
            _SUNK.pop(token, None)
            _SUNK.pop(token + "-sink", None)


# -- the coordinator --------------------------------------------------------------------------


def test_the_docstring_examples_run() -> None:
    """The coordinator's, and the pausable clock's (a paused source is not idle)."""
    from flink_py.runtime.jobmaster import watermark_alignment as coordinator
    from flink_py.runtime.operators import watermark_alignment as source_side
    for module in (coordinator, source_side):
        assert_examples_hold(module)


def test_the_group_watermark_is_the_smallest_last_report_and_moves_with_it() -> None:
    coordinator = WatermarkAlignmentCoordinator()
    assert coordinator.report("g", ("a", 0), 100) == 100
    assert coordinator.report("g", ("b", 0), 50) == 50
    assert coordinator.report("other", ("c", 0), 10) == 10  # groups are separate
    assert coordinator.report("g", ("b", 0), 300) == 100  # b moved past a
    assert coordinator.report("g", ("a", 0), MAX_WATERMARK) == 300  # a idle or finished
    assert coordinator.report("g", ("b", 0), MAX_WATERMARK) == MAX_WATERMARK


def test_with_watermark_alignment_checks_its_arguments() -> None:
    from flink_py.errors import InvalidProgramError
    base = WatermarkStrategy.for_monotonous_timestamps()
    with pytest.raises(InvalidProgramError, match="watermark_group"):
        base.with_watermark_alignment("", Duration.of_seconds(1))
    with pytest.raises(InvalidProgramError, match="max_allowed_watermark_drift"):
        base.with_watermark_alignment("g", 1000)  # type: ignore[arg-type]
    with pytest.raises(InvalidProgramError, match="update_interval"):
        base.with_watermark_alignment("g", Duration.of_seconds(1), Duration.of_millis(0))
    aligned = base.with_watermark_alignment("g", Duration.of_seconds(20))
    assert base._alignment is None  # strategies are immutable
    assert (aligned._alignment.watermark_group, aligned._alignment.update_interval_ms,
            aligned._alignment.max_allowed_watermark_drift_ms) == ("g", 1000, 20_000)
