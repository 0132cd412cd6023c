"""Flink's stop-with-savepoint on the MiniCluster: a synchronous savepoint after which the job
ends FINISHED (``JobClient.stop_with_savepoint``, the JobMaster's ``stop_with_savepoint``).

- without drain nothing is processed after the savepoint's barrier, so a job resumed from it
  counts every key exactly once across both runs (even into a plain, non-transactional sink);
- with drain the sources emit MAX_WATERMARK and every operator finishes first: an open
  event-time window fires before FINISHED; without drain it fires only in the resumed run;
- two-phase-commit sinks commit the savepoint's transaction at its completion notice;
- a savepoint declined by a user's ``snapshot_state`` fails the stop: the job stays RUNNING and
  its periodic checkpoints go on;
- a task that ends other than FINISHED after the savepoint completed fails the stop with
  Flink's "Inconsistent execution state ..." and the job fails over.

User functions are module-level (pickled by reference): the MiniCluster runs them here.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from flink_py.common import Types
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.common.time import Time
from flink_py.common.watermark_strategy import WatermarkStrategy
from flink_py.datastream import (
    KeyedProcessFunction, SinkFunction, SourceFunction, StreamExecutionEnvironment)
from flink_py.datastream.checkpointing_sinks import TwoPhaseCommitSinkFunction
from flink_py.datastream.functions import (
    CheckpointedFunction, CheckpointListener, MapFunction, RuntimeContext)
from flink_py.datastream.state import ListStateDescriptor, ValueStateDescriptor
from flink_py.datastream.window import TumblingEventTimeWindows
from flink_py.runtime.minicluster import MiniCluster
from flink_py.testing.poll import wait_until

DEADLINE_S = 60.0
N = 1500


# -- user functions ----------------------------------------------------------------------------


def throttle(value: int) -> int:
    """Slow enough that the stop comes in the middle of the input."""
    time.sleep(0.002)
    return value


def append_line(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


def read_lines(path: str) -> List[str]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


class EmitKeyOnTimer(KeyedProcessFunction):
    """Emits each key once, from a processing-time timer 20 ms after its record."""

    def process_element(self, value: int, ctx: Any) -> Any:
        timers = ctx.timer_service()
        timers.register_processing_time_timer(timers.current_processing_time() + 20)
        return iter(())

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield str(ctx.get_current_key())


class SlowSnapshot(MapFunction, CheckpointedFunction):
    """Its snapshots take 300 ms (a large state, say)."""

    def initialize_state(self, context: Any) -> None:
        pass

    def snapshot_state(self, context: Any) -> None:
        time.sleep(0.3)  # the snapshot's own duration, not synchronization

    def map(self, value: Any) -> Any:
        return value


class CountingSource(SourceFunction, CheckpointedFunction):
    """A legacy source of ``1 .. n``, throttled, that emits and advances its position under
    the checkpoint lock (Flink's pattern) and keeps the position in operator state."""

    def __init__(self, n: int) -> None:
        self.n = n

    def initialize_state(self, context: Any) -> None:
        self.state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor("position", Types.LONG()))
        restored = list(self.state.get() or [])
        self.position = restored[0] if restored else 0
        self.running = threading.Event()
        self.running.set()

    def snapshot_state(self, context: Any) -> None:
        self.state.update([self.position])

    def run(self, ctx: Any) -> None:
        while self.running.is_set() and self.position < self.n:
            with ctx.get_checkpoint_lock():
                self.position += 1
                ctx.collect(self.position)
            time.sleep(0.002)  # the source's own pace, not synchronization

    def cancel(self) -> None:
        self.running.clear()


class AppendSink(SinkFunction):
    """Writes every record at once (at least once: only the stop's semantics make it exact)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def invoke(self, value: Any, context: Any) -> None:
        append_line(self.path, str(value))


class CountPerKey(MapFunction):
    """``key,count``: the count of the records of the key so far (keyed state)."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def map(self, value: int) -> str:
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        return f"{value},{n}"


class FileTransactionSink(TwoPhaseCommitSinkFunction):
    """A transaction is a file under ``<dir>/pending``; commit moves it to ``<dir>/committed``
    (idempotent: a restored, committed transaction is gone from pending)."""

    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = directory

    def begin_transaction(self) -> str:
        pending = os.path.join(self.directory, "pending")
        os.makedirs(pending, exist_ok=True)
        path = os.path.join(pending, uuid.uuid4().hex)
        open(path, "a").close()
        return path

    def invoke(self, transaction: str, value: Any, context: Any) -> None:
        append_line(transaction, str(value))

    def pre_commit(self, transaction: str) -> None:
        pass

    def commit(self, transaction: str) -> None:
        committed = os.path.join(self.directory, "committed")
        os.makedirs(committed, exist_ok=True)
        if os.path.exists(transaction):
            os.replace(transaction, os.path.join(committed, os.path.basename(transaction)))

    def abort(self, transaction: str) -> None:
        if os.path.exists(transaction):
            os.remove(transaction)


def committed_lines(directory: str) -> List[str]:
    committed = os.path.join(directory, "committed")
    if not os.path.isdir(committed):
        return []
    return [line for name in sorted(os.listdir(committed))
            for line in read_lines(os.path.join(committed, name))]


class DeclineWhileAsked(MapFunction, CheckpointedFunction):
    """Its ``snapshot_state`` raises while ``declining`` is set (MiniCluster: the test's own
    process and class)."""

    declining = threading.Event()

    def initialize_state(self, context: Any) -> None:
        pass

    def snapshot_state(self, context: Any) -> None:
        if DeclineWhileAsked.declining.is_set():
            raise RuntimeError("planned: this operator declines the snapshot")

    def map(self, value: int) -> int:
        return value


class FailOnCompletionNotice(MapFunction, CheckpointListener):
    """Fails its task at the first checkpoint completion notice it gets after ``armed``."""

    armed = threading.Event()

    def map(self, value: int) -> int:
        return value

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        if FailOnCompletionNotice.armed.is_set():
            FailOnCompletionNotice.armed.clear()
            raise RuntimeError(f"planned failure at the notice of checkpoint {checkpoint_id}")


# -- helpers -----------------------------------------------------------------------------------


def new_env(settings: Optional[Dict[str, str]] = None,
            interval_ms: int = 200) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(
        Configuration(dict({"restart-strategy.type": "none"}, **(settings or {}))))
    env.set_parallelism(2)
    env.enable_checkpointing(interval_ms)
    return env


def keyed_count(env: StreamExecutionEnvironment, out: str, transactions: str) -> None:
    counted = (env.from_sequence(1, N).uid("numbers").map(throttle).uid("throttle")
               .key_by(lambda x: x).map(CountPerKey()).uid("count"))
    counted.add_sink(AppendSink(out)).uid("plain")
    counted.add_sink(FileTransactionSink(transactions)).uid("transactional")


def windowed_count(env: StreamExecutionEnvironment, out: str, progress: str,
                   legacy: bool = False) -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, record_timestamp: value)
    if legacy:  # one subtask: each emits 1..N
        numbers = env.add_source(CountingSource(N)).set_parallelism(1).uid("numbers")
    else:
        numbers = env.from_sequence(1, N).uid("numbers").map(throttle).uid("throttle")
    numbers.add_sink(AppendSink(progress)).uid("progress")
    (numbers.assign_timestamps_and_watermarks(strategy).uid("timestamps")
     .map(lambda x: 1).uid("ones").key_by(lambda x: 0)
     .window(TumblingEventTimeWindows.of(Time.days(3650)))
     .reduce(lambda a, b: a + b).uid("window")
     .add_sink(AppendSink(out)).uid("sink"))


def job_client_running(env: StreamExecutionEnvironment, name: str) -> Any:
    client = env.execute_async(name)
    wait_until(lambda: client.get_job_status().result(timeout=DEADLINE_S)
               is JobStatus.RUNNING, what="the job to run", timeout_s=DEADLINE_S)
    return client


def local_path(uri: str) -> str:
    return uri[len("file:"):] if uri.startswith("file:") else uri


# -- stop without and with drain ---------------------------------------------------------------


def test_a_job_stopped_with_a_savepoint_finishes_and_resumes_counting_every_key_once(
        tmp_path: Path) -> None:
    out, transactions = str(tmp_path / "out"), str(tmp_path / "transactions")
    env = new_env()
    keyed_count(env, out, transactions)
    client = job_client_running(env, "stopped")
    wait_until(lambda: len(read_lines(out)) >= 100, what="records in the sink",
               timeout_s=DEADLINE_S)
    path = client.stop_with_savepoint(False, str(tmp_path / "savepoints")).result(
        timeout=DEADLINE_S)
    assert path.startswith(f"file:{tmp_path / 'savepoints'}/savepoint-")
    assert os.path.isfile(os.path.join(local_path(path), "_metadata"))
    client.get_job_execution_result().result(timeout=DEADLINE_S)  # raises unless FINISHED
    assert client.get_job_status().result(timeout=DEADLINE_S) is JobStatus.FINISHED
    first_run = read_lines(out)
    assert 100 <= len(first_run) < N, "the stop came in the middle of the input"
    # The savepoint's transaction was committed at its notice, before the sink closed: what
    # the transactional sink committed is exactly what the plain sink wrote.
    assert sorted(committed_lines(transactions)) == sorted(first_run)

    resumed = new_env({"execution.savepoint.path": path})
    keyed_count(resumed, out, transactions)
    resumed.execute("resumed")
    counts = collections.Counter(line.split(",")[0] for line in read_lines(out))
    assert sorted(int(key) for key in counts) == list(range(1, N + 1))
    assert set(counts.values()) == {1}, "a key was counted twice across the two runs"
    assert all(line.endswith(",1") for line in read_lines(out))
    # the restored, already committed transaction is not committed twice (a bounded run's
    # last records stay uncommitted: there is no final checkpoint here)
    committed = committed_lines(transactions)
    assert len(committed) == len(set(committed)) and set(committed) <= set(read_lines(out))


def test_processing_time_timers_due_during_the_stop_fire_only_in_the_resumed_run(
        tmp_path: Path) -> None:
    out, progress = str(tmp_path / "out"), str(tmp_path / "progress")

    def build(env: StreamExecutionEnvironment) -> None:
        numbers = env.from_sequence(1, N).uid("numbers").map(throttle).uid("throttle")
        numbers.add_sink(AppendSink(progress)).uid("progress")
        # a slow snapshot in the next task holds the savepoint's completion back while the
        # timers' task, past its barrier, has timers due
        (numbers.key_by(lambda x: x).process(EmitKeyOnTimer()).uid("timers")
         .key_by(lambda k: k).map(SlowSnapshot()).uid("slow")
         .add_sink(AppendSink(out)).uid("sink"))

    env = new_env()
    build(env)
    client = job_client_running(env, "timers")
    wait_until(lambda: len(read_lines(out)) >= 100, what="timers firing", timeout_s=DEADLINE_S)
    path = client.stop_with_savepoint(False, str(tmp_path / "savepoints")).result(
        timeout=DEADLINE_S)
    client.get_job_execution_result().result(timeout=DEADLINE_S)
    first_run = len(read_lines(out))
    resumed = new_env({"execution.savepoint.path": path})
    build(resumed)
    resumed.execute("timers resumed")
    # a timer in the savepoint that had fired in the first run would fire again here
    counts = collections.Counter(read_lines(out))
    assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
    assert len(counts) > first_run, "the restored timers fired in the resumed run"


@pytest.mark.parametrize("legacy", [False, True], ids=["reader-source", "legacy-source"])
@pytest.mark.parametrize("drain", [True, False], ids=["drain", "no-drain"])
def test_a_drained_stop_fires_the_open_window_a_plain_stop_leaves_it_to_the_resumed_run(
        tmp_path: Path, drain: bool, legacy: bool) -> None:
    out, progress = str(tmp_path / "out"), str(tmp_path / "progress")
    env = new_env()
    windowed_count(env, out, progress, legacy)
    client = job_client_running(env, "window")
    wait_until(lambda: len(read_lines(progress)) >= 100, what="records in the window",
               timeout_s=DEADLINE_S)
    path = client.stop_with_savepoint(drain, str(tmp_path / "savepoints")).result(
        timeout=DEADLINE_S)
    client.get_job_execution_result().result(timeout=DEADLINE_S)
    assert client.get_job_status().result(timeout=DEADLINE_S) is JobStatus.FINISHED
    before_the_stop = len(read_lines(progress))
    assert before_the_stop < N, "the stop came in the middle of the input"
    if drain:
        # MAX_WATERMARK fired the window with every record before the savepoint
        assert [int(v) for v in read_lines(out)] == [before_the_stop]
        return
    assert read_lines(out) == [], "without drain no window fires at the stop"
    resumed = new_env({"execution.savepoint.path": path})
    windowed_count(resumed, out, progress, legacy)
    resumed.execute("window resumed")
    assert [int(v) for v in read_lines(out)] == [N]  # the savepoint's part and the rest
    assert sorted(int(v) for v in read_lines(progress)) == list(range(1, N + 1))


# -- failed stops: the job runs on -------------------------------------------------------------


@pytest.fixture
def minicluster() -> Iterator[MiniCluster]:
    cluster = MiniCluster(1, 4)
    try:
        yield cluster
    finally:
        cluster.close()


def _submit(cluster: MiniCluster, build: Callable[[StreamExecutionEnvironment], None],
            settings: Optional[Dict[str, str]] = None, interval_ms: int = 200) -> Any:
    env = new_env(settings, interval_ms)
    build(env)
    graph = env.get_job_graph("stop")
    graph.job_configuration.update(settings or {})
    job_id = cluster.dispatcher.submit_job(graph)
    master = cluster.dispatcher.job_master(job_id)
    wait_until(lambda: (lambda counts: counts.get("RUNNING", 0) == sum(counts.values()))(
        master.task_state_counts()), what="all tasks running", timeout_s=DEADLINE_S)
    return master


def _stop(master: Any, directory: str, drain: bool = False) -> tuple:
    done: "queue.Queue[tuple]" = queue.Queue()
    master.stop_with_savepoint(directory, drain, lambda path, error: done.put((path, error)))
    return done.get(timeout=DEADLINE_S)


def _completed_checkpoints(master: Any) -> int:
    return master.checkpoint_coordinator.statistics_snapshot.counts.completed


def test_a_savepoint_declined_by_snapshot_state_fails_the_stop_and_the_job_runs_on(
        minicluster: MiniCluster, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    master = _submit(minicluster, lambda env: env.from_sequence(1, 10 * N).map(throttle)
                     .key_by(lambda x: x % 4).map(DeclineWhileAsked()).uid("declines")
                     .add_sink(AppendSink(out)),
                     {"execution.checkpointing.tolerable-failed-checkpoints": "1000"})
    wait_until(lambda: _completed_checkpoints(master) >= 1, what="a checkpoint",
               timeout_s=DEADLINE_S)
    coordinator = master.checkpoint_coordinator
    DeclineWhileAsked.declining.set()
    try:
        path, error = _stop(master, str(tmp_path / "savepoints"))
    finally:
        DeclineWhileAsked.declining.clear()
    assert path is None and "planned: this operator declines the snapshot" in error.message
    assert master.status is JobStatus.RUNNING
    failed = [c for c in coordinator.statistics_snapshot.history
              if c.checkpoint_type == "SYNC_SAVEPOINT"]
    assert [c.status.name for c in failed] == ["FAILED"]
    # the tasks resumed (the sources read on) and periodic checkpoints go on
    before, seen = _completed_checkpoints(master), len(read_lines(out))
    wait_until(lambda: _completed_checkpoints(master) >= before + 2,
               what="periodic checkpoints after the failed stop", timeout_s=DEADLINE_S)
    wait_until(lambda: len(read_lines(out)) > seen + 50, what="records after the failed stop",
               timeout_s=DEADLINE_S)
    assert master.status is JobStatus.RUNNING
    master.cancel()
    assert master.wait_for_termination(DEADLINE_S)


def test_a_drained_stop_whose_savepoint_is_declined_fails_the_tasks(
        minicluster: MiniCluster, tmp_path: Path) -> None:
    # with drain the operators finished before the snapshot: the tasks cannot run on
    master = _submit(minicluster, lambda env: env.from_sequence(1, 10 * N).map(throttle)
                     .key_by(lambda x: x % 4).map(DeclineWhileAsked()).uid("declines")
                     .add_sink(AppendSink(str(tmp_path / "out"))),
                     {"execution.checkpointing.tolerable-failed-checkpoints": "1000"})
    DeclineWhileAsked.declining.set()
    try:
        path, error = _stop(master, str(tmp_path / "savepoints"), drain=True)
        assert path is None and "planned: this operator declines the snapshot" in error.message
        assert master.wait_for_termination(DEADLINE_S)
    finally:
        DeclineWhileAsked.declining.clear()
    assert master.status is JobStatus.FAILED  # no restarts allowed here
    assert any("Stop-with-savepoint failed." in f.error.message
               for f in master.view().exception_history)


def test_an_unwritable_target_directory_fails_the_stop_and_the_job_runs_on(
        minicluster: MiniCluster, tmp_path: Path) -> None:
    master = _submit(minicluster, lambda env: env.from_sequence(1, 10 * N).map(throttle)
                     .add_sink(AppendSink(str(tmp_path / "out"))))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path, error = _stop(master, str(blocker / "savepoints"))
    assert path is None and str(blocker) in error.message
    assert master.status is JobStatus.RUNNING
    before = _completed_checkpoints(master)
    wait_until(lambda: _completed_checkpoints(master) > before,
               what="periodic checkpoints after the failed stop", timeout_s=DEADLINE_S)
    master.cancel()
    assert master.wait_for_termination(DEADLINE_S)


def test_a_task_failing_after_the_savepoint_completed_fails_the_stop_and_the_job_over(
        minicluster: MiniCluster, tmp_path: Path) -> None:
    # no periodic checkpoint completes first: the only completion notice is the savepoint's
    master = _submit(minicluster, lambda env: env.from_sequence(1, 10 * N).map(throttle)
                     .map(FailOnCompletionNotice()).add_sink(
                         AppendSink(str(tmp_path / "out"))),
                     {"restart-strategy.type": "fixed-delay",
                      "restart-strategy.fixed-delay.attempts": "3",
                      "restart-strategy.fixed-delay.delay": "10 ms"}, interval_ms=3_600_000)
    FailOnCompletionNotice.armed.set()
    try:
        path, error = _stop(master, str(tmp_path / "savepoints"))
    finally:
        FailOnCompletionNotice.armed.clear()
    assert path is None, path
    assert error.message.startswith(
        "Inconsistent execution state after stopping with savepoint. At least one execution "
        "is still in one of the following states: ")
    assert "FAILED" in error.message
    assert error.message.endswith(f"A global fail-over is triggered to recover the job "
                                  f"{master.job_id}.")
    # the global fail-over is recorded and restarts the job. The stop's future completes in
    # the mail that records it, before that mail publishes the job's view: wait for the view
    # (one read, so that the history and the restarts are of the same view)
    def recorded_and_restarted() -> bool:
        view = master.view()
        return view.num_restarts >= 1 and master.status is JobStatus.RUNNING and any(
            "Inconsistent execution state" in f.error.message for f in view.exception_history)

    wait_until(recorded_and_restarted, what="the fail-over recorded and the job restarted",
               timeout_s=DEADLINE_S)
    master.cancel()
    assert master.wait_for_termination(DEADLINE_S)
