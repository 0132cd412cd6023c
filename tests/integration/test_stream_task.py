"""The StreamTask on the MiniCluster: sources yield to mails, checkpoints through barriers,
the legacy source's checkpoint lock, and the cancellation timeout.

User functions are cloudpickled per subtask, so every function below that shares state with
the test is a module-level class or function (pickled by reference): the dicts they touch are
this module's globals, reached from the task threads and from the test alike.
"""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from typing import Any, Dict, Iterable, List, Optional, Tuple

import pytest

from flink_py.common import WatermarkGenerator, WatermarkStrategy
from flink_py.common.job_status import JobStatus
from flink_py.common.typeinfo import Types
from flink_py.datastream import (
    KeyedProcessFunction, MapFunction, SinkFunction, SourceFunction, StreamExecutionEnvironment)
from flink_py.datastream.functions import CheckpointedFunction
from flink_py.datastream.state import ListStateDescriptor
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.minicluster import MiniCluster
from flink_py.runtime.operators.base import MIN_WATERMARK
from flink_py.testing.poll import wait_until
from flink_py.testing.shared import shared
from flink_py.testing.sources import WaitForFileSource

DEADLINE_S = 10.0



# -- sources yield -------------------------------------------------------------------------------


def _ts_of(value: int, record_timestamp: int) -> int:
    return value * 1000


def _slow_identity(value: int) -> int:
    time.sleep(0.3)
    return value


class WatermarkAtRecord(KeyedProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Iterable[Tuple[int, int]]:
        yield value, ctx.timer_service().current_watermark()


def test_a_downstream_watermark_advances_after_each_record_of_a_slow_chained_map() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.get_config().set_auto_watermark_interval(20)
    stream = env.from_collection([1, 2, 3, 4], type_info=Types.INT()) \
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(_ts_of)) \
        .map(_slow_identity, output_type=Types.INT()) \
        .key_by(lambda v: 0).process(WatermarkAtRecord())
    with stream.execute_and_collect("slow chained map") as results:
        seen = list(results)
    assert [value for value, _ in seen] == [1, 2, 3, 4]
    watermarks = [watermark for _, watermark in seen]
    # Each record after the first finds the watermark of the record before it (Flink does);
    # a source that does not yield would leave it at Long.MIN_VALUE until the input ends.
    assert watermarks[0] < 1000
    for (value, watermark) in seen[1:]:
        assert watermark >= (value - 1) * 1000 - 1, seen
    assert watermarks[1] > MIN_WATERMARK


class CountingPeriodicGenerator(WatermarkGenerator):
    """Counts its periodic calls (processing-time timers of the source task)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def on_event(self, event: Any, event_timestamp: int, output: Any) -> None:
        pass

    def on_periodic_emit(self, output: Any) -> None:
        calls = shared(self.token, "periodic", lambda: [0])
        calls[0] += 1


class RecordPeriodicCalls(MapFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    def map(self, value: int) -> int:
        time.sleep(0.02)
        shared(self.token, "seen", list).append(shared(self.token, "periodic", lambda: [0])[0])
        return value


def test_processing_time_timers_fire_while_a_source_is_busy(token: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.get_config().set_auto_watermark_interval(10)
    env.from_collection(list(range(40)), type_info=Types.INT()) \
        .map(RecordPeriodicCalls(token), output_type=Types.INT()) \
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_generator(lambda ctx: CountingPeriodicGenerator(token))
            .with_timestamp_assigner(_ts_of)) \
        .add_sink(lambda value, context=None: None)
    env.execute("timers while busy")
    seen = shared(token, "seen", list)
    assert len(seen) == 40
    # 40 records of 20 ms: the 10 ms timer fired many times while the source was emitting.
    assert seen[-1] >= 10, seen


# -- checkpoints through barriers, with an in-process fake coordinator ----------------------------


class FakeCoordinator:
    """A CheckpointCoordinatorGateway that records what the tasks send."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acks: List[Tuple[Any, int, Any]] = []
        self.declines: List[Tuple[Any, int, str]] = []

    def acknowledge_checkpoint(self, job_id: str, attempt_id: Any, checkpoint_id: int,
                               metrics: Any, subtask_state: Any) -> None:
        with self._lock:
            self.acks.append((attempt_id, checkpoint_id, subtask_state))

    def decline_checkpoint(self, job_id: str, attempt_id: Any, checkpoint_id: int,
                           reason: Any) -> None:
        with self._lock:
            self.declines.append((attempt_id, checkpoint_id, reason.message))

    def acks_of(self, checkpoint_id: int) -> List[Tuple[Any, int, Any]]:
        with self._lock:
            return [a for a in self.acks if a[1] == checkpoint_id]


def _operator_state(subtask_state: Any) -> Dict[str, list]:
    """Every operator state of a TaskStateSnapshot, by state name (elements decoded)."""
    result: Dict[str, list] = {}
    for state in subtask_state.subtask_state_by_operator.values():
        for handle in state.managed_operator_state:
            data = handle.delegate.read_bytes()
            for name, (_, spans) in handle.state_name_to_partition_offsets.items():
                result.setdefault(name, []).extend(
                    pickle.loads(data[offset:offset + length]) for offset, length in spans)
    return result


class NumberedSource(SourceFunction, CheckpointedFunction):
    """Emits (name, i) under the checkpoint lock; its offset is its operator state."""

    def __init__(self, token: str, name: str) -> None:
        self.token = token
        self.name = name
        self.offset = 0
        self.running = True

    def initialize_state(self, context: Any) -> None:
        self.state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor(f"offset-{self.name}", Types.LONG()))

    def snapshot_state(self, context: Any) -> None:
        self.state.update([self.offset])

    def run(self, ctx: Any) -> None:
        stop = shared(self.token, "stop", threading.Event)
        lock = ctx.get_checkpoint_lock()
        while self.running and not stop.is_set():
            with lock:
                ctx.collect((self.name, self.offset))
                self.offset += 1
            if self.offset % 50 == 0:
                time.sleep(0.001)

    def cancel(self) -> None:
        self.running = False


class CountPerSource(MapFunction, CheckpointedFunction):
    """Counts the records of each source; the counts are its operator state."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = {}

    def initialize_state(self, context: Any) -> None:
        self.state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor("counts", Types.PICKLED_BYTE_ARRAY()))

    def snapshot_state(self, context: Any) -> None:
        self.state.update(sorted(self.counts.items()))

    def map(self, value: Tuple[str, int]) -> Tuple[str, int]:
        name, index = value
        assert index == self.counts.get(name, 0), f"out of order: {value} after {self.counts}"
        self.counts[name] = index + 1
        return value


def _in_flight_records(subtask_state: Any) -> Dict[str, int]:
    """Per source name, the records of the channel state an unaligned checkpoint recorded:
    the consumer's in-flight input and the producers' overtaken output."""
    counts: Dict[str, int] = {}
    for state in subtask_state.subtask_state_by_operator.values():
        for handle in [*state.input_channel_state, *state.result_subpartition_state]:
            for values, _ in pickle.loads(handle.delegate.read_bytes()):
                for name, _ in values:
                    counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.parametrize("mode, local_handoff", [
    ("aligned", True), ("aligned", False), ("unaligned", True), ("at least once", True)])
def test_a_keyed_job_with_two_inputs_acknowledges_consistent_snapshots_once_per_task(
        token: str, mode: str, local_handoff: bool) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    a = env.add_source(NumberedSource(token, "a"), f"a-{token}")
    b = env.add_source(NumberedSource(token, "b"), f"b-{token}")
    a.union(b).key_by(lambda t: t[0]).map(CountPerSource()) \
        .add_sink(lambda value, context=None: None)
    coordinator = FakeCoordinator()
    options = CheckpointOptions.for_checkpoint(unaligned=mode == "unaligned")
    with MiniCluster(1, 3, records_per_buffer=64, local_handoff=local_handoff) as cluster:
        (executor,) = cluster.task_executors
        executor.checkpoint_responder = coordinator
        configuration = executor.services.configuration
        if mode == "unaligned":
            configuration.set_string("execution.checkpointing.unaligned.enabled", "true")
        elif mode == "at least once":
            configuration.set_string("execution.checkpointing.mode", "AT_LEAST_ONCE")
        job_id = cluster.dispatcher.submit_job(env.get_job_graph(f"two inputs {token}"))
        wait_until(lambda: len(executor.running_tasks()) == 3 and all(
            t.state is ExecutionState.RUNNING for t in executor.running_tasks()),
            "every task running")
        tasks = executor.running_tasks()
        sources = [t for t in tasks if t.tdd.is_source]
        assert len(sources) == 2
        for checkpoint_id in (1, 2, 3):
            for source in sources:
                executor.trigger_checkpoint(source.attempt_id, checkpoint_id,
                                            int(time.time() * 1000), options)
            wait_until(lambda: len(coordinator.acks_of(checkpoint_id)) == 3,
                       f"the acknowledgements of checkpoint {checkpoint_id}")
            for task in tasks:
                executor.confirm_checkpoint(task.attempt_id, checkpoint_id, 0)
        # a task that is not a source declines a trigger, naming why
        (keyed,) = [t for t in tasks if not t.tdd.is_source]
        executor.trigger_checkpoint(keyed.attempt_id, 9, 0, options)
        shared(token, "stop", threading.Event).set()
        result = cluster.dispatcher.request_job_result(job_id, timeout_s=DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert [(d[0], d[1]) for d in coordinator.declines] == [(keyed.attempt_id, 9)]
    assert "not a source task" in coordinator.declines[0][2]
    assert len(coordinator.acks) == 9
    for checkpoint_id in (1, 2, 3):
        acks = coordinator.acks_of(checkpoint_id)
        assert sorted(str(a[0]) for a in acks) == sorted(str(t.attempt_id) for t in tasks)
        offsets: Dict[str, int] = {}
        counts: Dict[str, int] = {}
        in_flight: Dict[str, int] = {}
        for _, _, state in acks:
            decoded = _operator_state(state)
            for name in ("a", "b"):
                for offset in decoded.get(f"offset-{name}", []):
                    offsets[name] = offset
            counts.update(dict(decoded.get("counts", [])))
            for name, n in _in_flight_records(state).items():
                in_flight[name] = in_flight.get(name, 0) + n
        what = (checkpoint_id, counts, in_flight, offsets)
        if mode == "aligned":
            # The keyed task's snapshot holds exactly the records before the barriers.
            assert counts == offsets and not in_flight, what
        elif mode == "unaligned":
            # What the snapshot lacks of the records before the barriers is channel state.
            assert {n: counts.get(n, 0) + in_flight.get(n, 0) for n in offsets} == offsets, what
        else:
            # At least once: the snapshot may hold records after a barrier too, never fewer.
            assert all(counts.get(n, 0) >= offsets[n] for n in offsets), what


# -- cancellation timeout ------------------------------------------------------------------------


class IgnoresCancellation(MapFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    def map(self, value: int) -> int:
        shared(self.token, "entered", threading.Event).set()
        shared(self.token, "release", threading.Event).wait(30)
        return value


def test_a_task_that_ignores_cancellation_is_failed_after_the_cancellation_timeout(
        token: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.from_collection([1, 2], type_info=Types.INT()) \
        .map(IgnoresCancellation(token), output_type=Types.INT()) \
        .add_sink(lambda value, context=None: None)
    release = shared(token, "release", threading.Event)
    try:
        with MiniCluster(1, 1) as cluster:
            (executor,) = cluster.task_executors
            executor.services.configuration.set_string("task.cancellation.timeout", "300 ms")
            job_id = cluster.dispatcher.submit_job(env.get_job_graph(f"stuck {token}"))
            wait_until(shared(token, "entered", threading.Event).is_set,
                       "the map stuck in user code")
            stuck = executor.running_tasks()
            cancelled_at = time.monotonic()
            cluster.dispatcher.cancel_job(job_id)
            result = cluster.dispatcher.request_job_result(job_id, timeout_s=DEADLINE_S)
            took = time.monotonic() - cancelled_at
            assert result.status in (JobStatus.CANCELED, JobStatus.FAILED)
            assert took < 5.0  # the map would hold it for 30 s
            assert [t.state for t in stuck] == [ExecutionState.FAILED]
            assert stuck[0].is_alive
    finally:
        release.set()
    wait_until(lambda: not stuck[0].is_alive, "the stuck thread's end")


# -- collect sink: credit instead of a blocking call ------------------------------------------


class CountEmitted(MapFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    def map(self, value: int) -> int:
        shared(self.token, "emitted", lambda: [0])[0] += 1
        return value


def test_a_collect_sink_without_credit_suspends_its_input_but_still_runs_mails(
        token: str) -> None:
    import functools

    from flink_py.runtime.operators import sinks
    total = 200_000
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    collect_id = uuid.uuid4().hex
    stream = env.from_sequence(1, total).map(CountEmitted(token), output_type=Types.LONG()) \
        .rebalance()
    stream._sink("Collect Sink", functools.partial(
        sinks.CollectSink, "Collect Sink", collect_id, None))
    with MiniCluster(1, 2) as cluster:
        (executor,) = cluster.task_executors
        job_id = cluster.dispatcher.submit_job(env.get_job_graph(f"collect {token}"))
        wait_until(lambda: any(not t.tdd.is_source for t in executor.running_tasks()),
                   "the sink task deployed")
        (sink_task,) = [t for t in executor.running_tasks() if not t.tdd.is_source]
        wait_until(lambda: sink_task.mailbox.suspended, "the sink out of credit")
        emitted = shared(token, "emitted", lambda: [0])[0]
        # the collect buffer (16 batches), the sink's credits, the network buffers between the
        # tasks and the source task's writer: far from the whole input
        assert emitted < 40 * 1024, emitted
        mail_ran = threading.Event()
        sink_task.mailbox.put_mail(mail_ran.set)
        assert mail_ran.wait(DEADLINE_S), "a mail of the suspended sink task did not run"
        buffer = cluster.dispatcher.job_master(job_id).collect.buffer(collect_id)
        received: List[int] = []
        while True:
            batch, ended = buffer.take(DEADLINE_S)
            if ended:
                break
            assert batch is not None, f"no results within {DEADLINE_S} s"
            received.extend(batch)
        result = cluster.dispatcher.request_job_result(job_id, timeout_s=DEADLINE_S)
    assert result.status is JobStatus.FINISHED, result.failure
    assert received == list(range(1, total + 1))


# -- a backpressured legacy source lets checkpoints in ----------------------------------------


class EndlessSource(SourceFunction):
    """Emits 0, 1, 2, ... until cancelled, never taking the checkpoint lock itself."""

    def run(self, ctx: Any) -> None:
        self.running = True
        i = 0
        while self.running:
            ctx.collect(i)
            i += 1

    def cancel(self) -> None:
        self.running = False


def _slow_sink_record(value: int) -> int:
    time.sleep(0.002)  # far slower than the source: the job is backpressured throughout
    return value


def test_checkpoints_complete_while_a_legacy_source_is_backpressured() -> None:
    # The source thread waits for room in its queue without the checkpoint lock; waiting with
    # it held kept every checkpoint's trigger out for as long as the backpressure lasted.
    env = StreamExecutionEnvironment.get_execution_environment()
    env.enable_checkpointing(50)
    env.add_source(EndlessSource()).rebalance().map(_slow_sink_record) \
        .add_sink(lambda value, context=None: None)
    cluster = MiniCluster(1, 2, records_per_buffer=64, network_buffers_per_channel=2)
    try:
        job_id = cluster.dispatcher.submit_job(env.get_job_graph("backpressured legacy source"))
        master = cluster.dispatcher.job_master(job_id)
        wait_until(lambda: master.checkpoint_coordinator is not None and
                    master.checkpoint_coordinator.statistics_snapshot.counts.completed >= 3,
                    "three completed checkpoints", timeout_s=30.0)
        master.cancel()
        assert master.wait_for_termination(DEADLINE_S)
    finally:
        cluster.close()


# -- records per network buffer: the job's setting, else the TaskManager's ---------------------


class _CountingSink(SinkFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    def invoke(self, value: Any, context: Any) -> None:
        shared(self.token, "sunk", lambda: [0])[0] += 1


@pytest.mark.parametrize("job_setting, sent", [(None, 7), ("3", 9)])
def test_records_per_buffer_is_the_jobs_setting_else_the_task_managers(
        token: str, tmp_path: Any, job_setting: Optional[str], sent: int) -> None:
    # Without a buffer timeout only full buffers are sent: of ten records, the sink sees as
    # many as fill whole buffers (7 of a buffer of 7, 9 of buffers of 3).
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.set_buffer_timeout(-1)
    env.add_source(WaitForFileSource(10, str(tmp_path / "never"))) \
        .add_sink(_CountingSink(token)).disable_chaining()
    graph = env.get_job_graph(f"records per buffer {token}")
    if job_setting is not None:
        graph.job_configuration["taskmanager.network.records-per-buffer"] = job_setting
    with MiniCluster(1, 2, records_per_buffer=7) as cluster:
        job_id = cluster.dispatcher.submit_job(graph)
        sunk = shared(token, "sunk", lambda: [0])
        wait_until(lambda: sunk[0] >= sent, f"{sent} records at the sink", timeout_s=10)
        assert sunk[0] == sent
        master = cluster.dispatcher.job_master(job_id)
        master.cancel()
        assert master.wait_for_termination(DEADLINE_S)


# -- a cancelled source whose function returns ends CANCELED -----------------------------------


class TicksUntilCancelled(SourceFunction):
    """Its cancel() makes run() return, as most user sources do, and waits for that."""

    def run(self, ctx: Any) -> None:
        self.running = True
        self.returned = threading.Event()
        i = 0
        while self.running:
            ctx.collect(i)
            i += 1
            time.sleep(0.001)
        self.returned.set()

    def cancel(self) -> None:
        self.running = False
        self.returned.wait(DEADLINE_S)
        # the task's mailbox takes the end of the function's output while cancel() runs on
        time.sleep(0.2)  # not synchronization: leaves the task time to (wrongly) finish


def test_a_source_cancelled_by_its_task_manager_ends_canceled_not_finished() -> None:
    # What a slot worker does when its TaskManager dies: it cancels its tasks by itself. The
    # function then returns from run(); that must not read as the end of a bounded input,
    # which finished the task, and with it (every task chained) the whole job, as FINISHED.
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)  # local environments default to the cores
    env.add_source(TicksUntilCancelled()).map(lambda x: x) \
        .add_sink(lambda value, context=None: None)
    graph = env.get_job_graph("cancelled by its TaskManager")
    graph.job_configuration["restart-strategy.type"] = "none"
    with MiniCluster(1, 1) as cluster:
        (executor,) = cluster.task_executors
        job_id = cluster.dispatcher.submit_job(graph)
        (task,) = wait_until(lambda: [t for t in executor.running_tasks()
                                      if t.state is ExecutionState.RUNNING],
                             "the task running", timeout_s=DEADLINE_S)
        executor.cancel_all_tasks("its TaskManager is gone")
        result = cluster.dispatcher.request_job_result(job_id, timeout_s=DEADLINE_S)
        assert task.state is ExecutionState.CANCELED
        assert result.status is not JobStatus.FINISHED
