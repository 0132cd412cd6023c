"""The runtime through the public API on the in-process MiniCluster.

Key-group placement, backpressure through bounded channels, cancellation, failure reporting
and the buffer timeout.

User functions are cloudpickled per subtask, so every function below that shares state with
the test is a module-level class or function (pickled by reference): the counters they touch
are this module's globals, reached from the task threads and from the test alike.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import pytest

from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.common.key_groups import (
    compute_default_max_parallelism, compute_operator_index_for_key_group, murmur_hash,
    pyflink_key_by_hash_code)
from flink_py.common.typeinfo import Types
from flink_py.datastream import (
    MapFunction, SinkFunction, SourceFunction, StreamExecutionEnvironment)
from flink_py.errors import JobCancellationError, JobExecutionError
from flink_py.runtime.network import local as local_exchange
from flink_py.testing.poll import wait_until

DEADLINE_S = 5.0

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


# -- shared state between the test and its tasks -----------------------------------------------


class _Counter:
    """A thread-safe counter (tasks are threads of this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n: int = 1) -> None:
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value


_COUNTERS: Dict[str, _Counter] = {}
_COUNTERS_LOCK = threading.Lock()


def _counter(token: str, name: str) -> _Counter:
    with _COUNTERS_LOCK:
        return _COUNTERS.setdefault(f"{token}/{name}", _Counter())


@pytest.fixture
def token() -> Iterable[str]:
    """A unique id for one test: names its counters and its operators (hence its threads)."""
    value = uuid.uuid4().hex[:12]
    yield value
    with _COUNTERS_LOCK:
        for key in [k for k in _COUNTERS if k.startswith(value + "/")]:
            del _COUNTERS[key]


# -- thread hygiene ------------------------------------------------------------------------------


def _threads_named(*markers: str) -> List[str]:
    return [t.name for t in threading.enumerate()
            if t.is_alive() and any(m in t.name for m in markers)]


def _assert_threads_end(*markers: str) -> None:
    try:
        wait_until(lambda: not _threads_named(*markers), what="end of the job's threads")
    except AssertionError:
        raise AssertionError(f"threads still alive: {_threads_named(*markers)}") from None


def _env(parallelism: int = 1, configuration: Optional[Configuration] = None
         ) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment(configuration)
    env.set_parallelism(parallelism)
    return env


class _Watchdog:
    """Closes a collect iterator (cancelling its job) if the test is still reading after
    ``timeout_s``: a broken runtime then fails the test quickly instead of hanging it."""

    def __init__(self, iterator: Any, timeout_s: float = DEADLINE_S) -> None:
        self._timer = threading.Timer(timeout_s, iterator.close)
        self._timer.name = "test watchdog"

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self._timer.join()


def _wait_status(client: Any, status: JobStatus) -> None:
    """Waits for ``status``: a job the test cancels gets there within ``DEADLINE_S``."""
    wait_until(lambda: client.get_job_status().result() is status, f"job status {status.name}",
               timeout_s=DEADLINE_S)


# -- user functions ------------------------------------------------------------------------------


def _key_of(record: Any) -> Any:
    return record[0]


class RecordSubtask(MapFunction):
    """``record -> (key, subtask index, max parallelism)``."""

    def open(self, runtime_context: Any) -> None:
        self.index = runtime_context.get_index_of_this_subtask()
        self.max_parallelism = runtime_context.get_max_number_of_parallel_subtasks()

    def map(self, value: Any) -> Any:
        return value[0], self.index, self.max_parallelism


class CountingSource(SourceFunction):
    """Emits ``0, 1, ...`` (``limit`` records, or forever), counting what it emitted."""

    def __init__(self, token: str, limit: Optional[int] = None) -> None:
        self.token = token
        self.limit = limit
        self.bounded = limit is not None
        self.running = True

    def run(self, ctx: Any) -> None:
        emitted = _counter(self.token, "emitted")
        limit = self.limit
        i = 0
        while self.running and (limit is None or i < limit):
            emitted.add()
            ctx.collect(i)
            i += 1

    def cancel(self) -> None:
        self.running = False


class SlowSink(SinkFunction):
    """Counts what it sinks and sleeps ``pause_s`` every ``every`` records (a slow consumer)."""

    def __init__(self, token: str, every: int, pause_s: float) -> None:
        self.token = token
        self.every = every
        self.pause_s = pause_s

    def open(self, runtime_context: Any) -> None:
        self.sunk = _counter(self.token, "sunk")
        self.seen = 0

    def invoke(self, value: Any, context: Any) -> None:
        self.sunk.add()
        self.seen += 1
        if self.seen % self.every == 0:
            time.sleep(self.pause_s)


class TimedSource(SourceFunction):
    """Emits ``(seq, time.monotonic())`` every ``interval_s`` until cancelled."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s

    def open(self, runtime_context: Any) -> None:
        self._stop = threading.Event()

    def run(self, ctx: Any) -> None:
        seq = 0
        while not self._stop.is_set():
            ctx.collect((seq, time.monotonic()))
            seq += 1
            self._stop.wait(self.interval_s)

    def cancel(self) -> None:
        self._stop.set()


class UserBoom(Exception):
    """The user's own exception type."""


def fail_on_three(value: int) -> int:
    if value == 3:
        raise UserBoom(f"cannot handle record {value}")
    return value


class FailingOpen(MapFunction):
    def open(self, runtime_context: Any) -> None:
        raise UserBoom("open() went wrong")

    def map(self, value: Any) -> Any:
        return value


class FailingClose(MapFunction):
    def map(self, value: Any) -> Any:
        return value

    def close(self) -> None:
        raise UserBoom("close() went wrong")


def discard(value: Any) -> None:
    """A sink that drops everything."""


def identity(value: Any) -> Any:
    return value


# -- (a) key-group placement ---------------------------------------------------------------------


KEYS = ["hello", "flink", "a", "b", "c", "key-1", "key-2", "key-3", "日本", "", "x" * 40] + \
    list(range(-5, 25))


def _expected_subtask(key: Any, parallelism: int, max_parallelism: int,
                      pickled: bool = True) -> int:
    """Where PyFlink places a key_by key (its key group's subtask); see key_groups."""
    key_group = murmur_hash(pyflink_key_by_hash_code(key, pickled=pickled)) % max_parallelism
    return compute_operator_index_for_key_group(max_parallelism, parallelism, key_group)


@pytest.mark.parametrize("where, max_parallelism", [
    ("default", None), ("environment", 10), ("operator", 7)])
def test_keys_land_on_the_subtask_their_key_group_belongs_to(
        token: str, where: str, max_parallelism: Optional[int]) -> None:
    env = _env(3)
    if where == "environment":
        env.set_max_parallelism(max_parallelism)
    records = [(key, i) for i in range(3) for key in KEYS]
    placed = env.from_collection(records).name(f"src-{token}").key_by(_key_of) \
        .map(RecordSubtask()).name(f"place-{token}")
    if where == "operator":
        placed.set_max_parallelism(max_parallelism)

    with placed.execute_and_collect(f"placement {token}") as iterator, _Watchdog(iterator):
        results = list(iterator)

    expected_max = max_parallelism or compute_default_max_parallelism(3)
    assert sorted(map(repr, results)) == sorted(
        repr((key, _expected_subtask(key, 3, expected_max), expected_max))
        for key, _ in records)
    assert {subtask for _, subtask, _ in results} == {0, 1, 2}
    _assert_threads_end(token)


def test_typed_keys_land_on_the_subtask_their_key_group_belongs_to(token: str) -> None:
    env = _env(3)
    keys = [k for k in KEYS if isinstance(k, str)]
    records = [(key, i) for i in range(2) for key in keys]
    placed = env.from_collection(records).name(f"src-{token}") \
        .key_by(_key_of, key_type=Types.STRING()).map(RecordSubtask()).name(f"typed-{token}")

    with placed.execute_and_collect(f"typed placement {token}") as iterator, \
            _Watchdog(iterator):
        results = list(iterator)

    assert sorted(map(repr, results)) == sorted(
        repr((key, _expected_subtask(key, 3, 128, pickled=False), 128))
        for key, _ in records)
    _assert_threads_end(token)


# -- (b) backpressure ----------------------------------------------------------------------------


RECORDS_PER_BUFFER = 100
BUFFERS_PER_CHANNEL = 2


def _small_buffers() -> Configuration:
    conf = Configuration()
    conf.set_integer("taskmanager.network.records-per-buffer", RECORDS_PER_BUFFER)
    conf.set_integer("taskmanager.network.memory.buffers-per-channel", BUFFERS_PER_CHANNEL)
    conf.set_integer("taskmanager.network.memory.floating-buffers-per-gate", 0)
    return conf


@pytest.mark.parametrize("local_handoff", [False, True])
def test_a_slow_sink_backpressures_the_source(token: str, local_handoff: bool) -> None:
    total, channels = 200_000, 2
    conf = _small_buffers()
    conf.set_boolean("taskmanager.network.local-handoff", local_handoff)
    env = _env(1, conf)
    env.add_source(CountingSource(token, total), f"bp-{token}") \
        .rebalance().add_sink(SlowSink(token, every=200, pause_s=0.001)) \
        .name(f"sink-{token}").set_parallelism(channels)
    emitted, sunk = _counter(token, "emitted"), _counter(token, "sunk")
    # What may be between the source function and the sink functions at any moment: the
    # source function's partly filled batch, the batch queued for the task's mailbox and the
    # one the mailbox is emitting, one pending buffer per channel in the record writer,
    # the queued buffers of every channel, and the buffer each sink subtask is working on.
    bound = RECORDS_PER_BUFFER * (3 + channels + BUFFERS_PER_CHANNEL * channels + channels)

    client = env.execute_async(f"backpressure {token}")
    result = client.get_job_execution_result()
    largest_gap = 0
    samples = 0
    give_up_at = time.monotonic() + 30
    while not result.done():
        if time.monotonic() > give_up_at:
            client.cancel()
            pytest.fail(f"the job did not finish within 30 s ({sunk.value} of {total} sunk)")
        produced = emitted.value  # read first: the gap can only be underestimated, never over
        gap = produced - sunk.value
        largest_gap = max(largest_gap, gap)
        samples += 1
        assert gap <= bound, f"source ran {gap} records ahead of the sink (bound {bound})"
        time.sleep(0.001)  # sampling interval
    result.result(timeout=DEADLINE_S)

    assert emitted.value == sunk.value == total
    assert samples > 50, "the job ended too fast to observe backpressure"
    if not local_handoff:
        # The slow sink made the source wait with the channels (nearly) full. (With handoff
        # the source's thread runs an idle sink itself, so the channels rarely fill.)
        assert largest_gap >= RECORDS_PER_BUFFER * BUFFERS_PER_CHANNEL * channels, largest_gap
    _assert_threads_end(token)


# -- (c) cancellation ----------------------------------------------------------------------------


def test_cancel_an_unbounded_job_through_the_job_client(token: str) -> None:
    env = _env(2)
    env.add_source(CountingSource(token), f"endless-{token}") \
        .map(identity).name(f"map-{token}") \
        .add_sink(SlowSink(token, every=10_000, pause_s=0.0)).name(f"sink-{token}")
    client = env.execute_async(f"cancel {token}")
    job_id = str(client.get_job_id())
    sunk = _counter(token, "sunk")
    wait_until(lambda: sunk.value > 1000, what="records flowing")
    assert client.get_job_status().result() is JobStatus.RUNNING
    assert _threads_named(token), "the job's task threads should be running"

    client.cancel()

    _wait_status(client, JobStatus.CANCELED)
    with pytest.raises(JobCancellationError):
        client.get_job_execution_result().result(timeout=DEADLINE_S)
    _assert_threads_end(token, job_id)


def _blocked_in_subpartition_add(marker: str) -> bool:
    """Whether a thread whose name holds ``marker`` waits for room in ``Subpartition.add``."""
    frames = sys._current_frames()
    for thread in threading.enumerate():
        if marker not in thread.name or thread.ident not in frames:
            continue
        frame = frames[thread.ident]
        while frame is not None and frame.f_back is not None:
            caller = frame.f_back
            if (frame.f_code.co_name == "wait" and frame.f_code.co_filename == threading.__file__
                    and caller.f_code.co_name == "add"
                    and caller.f_code.co_filename == local_exchange.__file__):
                return True
            frame = caller
    return False


@pytest.mark.parametrize("local_handoff", [False, True])
def test_cancel_a_job_blocked_in_a_full_channel(token: str, local_handoff: bool) -> None:
    conf = _small_buffers()
    conf.set_boolean("taskmanager.network.local-handoff", local_handoff)
    env = _env(1, conf)
    env.add_source(CountingSource(token), f"blocked-{token}") \
        .add_sink(SlowSink(token, every=1, pause_s=0.001)).name(f"sink-{token}") \
        .disable_chaining()
    client = env.execute_async(f"cancel blocked {token}")
    job_id = str(client.get_job_id())
    if local_handoff:  # the source's threads run the slow sink themselves
        sunk = _counter(token, "sunk")
        wait_until(lambda: sunk.value > 100, what="the sink running")
    else:
        wait_until(lambda: _blocked_in_subpartition_add(f"blocked-{token}"),
                   what="the source blocked on a full channel")

    client.cancel()

    _wait_status(client, JobStatus.CANCELED)
    _assert_threads_end(token, job_id)


def test_closing_the_collect_iterator_cancels_the_job(token: str) -> None:
    env = _env(1)
    stream = env.add_source(CountingSource(token), f"collected-{token}")
    with stream.execute_and_collect(f"collect {token}") as iterator, _Watchdog(iterator):
        first = [next(iterator) for _ in range(5)]
    assert first == [0, 1, 2, 3, 4]
    _assert_threads_end(token)


class TaskName(MapFunction):
    def open(self, runtime_context: Any) -> None:
        self.name = runtime_context.get_task_name()

    def map(self, value: Any) -> Any:
        return self.name


def test_the_collect_sink_is_named_as_flinks(token: str) -> None:
    env = _env(1)
    stream = env.from_collection([1]).map(TaskName()).name(f"Inspect-{token}")

    with stream.execute_and_collect(f"collect sink name {token}") as iterator, \
            _Watchdog(iterator):
        names = list(iterator)

    # At parallelism 1 the collect sink chains to the map, so the task name shows it.
    assert names == [f"Source: Collection Source -> Inspect-{token} -> Sink: Collect Sink"]
    _assert_threads_end(token)


# -- (d) failures --------------------------------------------------------------------------------


def _run_failing(token: str, function: Any, parallelism: int = 2,
                 map_name: Optional[str] = None) -> JobExecutionError:
    env = _env(parallelism)
    mapped = env.from_collection([1, 2, 3, 4, 5]).name(f"src-{token}").map(function)
    if map_name is not None:
        mapped.name(map_name)
    # The sink's name carries the token, and so does the name of the task it is chained in.
    mapped.add_sink(discard).name(f"sink-{token}")
    with pytest.raises(JobExecutionError) as info:
        env.execute(f"failing {token}")
    assert not isinstance(info.value, JobCancellationError)
    _assert_threads_end(token)
    return info.value


def test_a_failing_map_fails_the_job_naming_operator_subtask_and_user_traceback(
        token: str) -> None:
    error = _run_failing(token, fail_on_three)
    message = str(error)

    assert "FAILED" in message
    assert re.search(r"'Map' \(subtask [12]/2\)", message), message
    assert re.search(rf"task Map -> Sink: sink-{token} \([12]/2\)", message), message
    assert "UserBoom: cannot handle record 3" in message
    # The user's own frame is in the traceback Python prints (the cause's), once; the
    # message is one line.
    assert "\n" not in message
    printed = "".join(traceback.format_exception(error))
    assert printed.count(f'File "{__file__}", line') >= 1
    assert printed.count("in fail_on_three") == 1
    assert printed.count('raise UserBoom(f"cannot handle record {value}")') == 1


def test_a_failing_operator_is_named_by_its_user_given_name(token: str) -> None:
    error = _run_failing(token, fail_on_three, map_name=f"Tokenize-{token}")

    assert re.search(rf"'Tokenize-{token}' \(subtask [12]/2\)", str(error)), str(error)


def test_a_failing_map_chains_the_users_exception_as_cause(token: str) -> None:
    error = _run_failing(token, fail_on_three)

    assert isinstance(error.__cause__, UserBoom)
    assert str(error.__cause__) == "cannot handle record 3"


def test_a_failing_map_has_a_failure_cause(token: str) -> None:
    error = _run_failing(token, fail_on_three)

    assert error.__cause__ is not None, "the job's failure cause is missing"
    # The cause is the user's own exception, as Flink's JobExecutionException carries it; the
    # operator and subtask it came from are named in the JobExecutionError's message.
    assert type(error.__cause__).__name__ == "UserBoom"
    assert "cannot handle record 3" in str(error.__cause__)
    assert re.search(r"'Map' \(subtask [12]/2\) raised UserBoom: cannot handle record 3",
                     str(error)), str(error)


def test_an_error_in_open_fails_the_job(token: str) -> None:
    error = _run_failing(token, FailingOpen())
    message = str(error)

    assert re.search(r"open\(\) in 'Map' \(subtask [12]/2\)", message), message
    assert "UserBoom: open() went wrong" in message
    printed = "".join(traceback.format_exception(error))
    assert printed.count(", in open\n") == 1 and __file__ in printed


def test_an_error_in_close_fails_the_job(token: str) -> None:
    error = _run_failing(token, FailingClose())
    message = str(error)

    assert re.search(r"close\(\) in 'Map' \(subtask [12]/2\)", message), message
    assert "UserBoom: close() went wrong" in message
    printed = "".join(traceback.format_exception(error))
    assert printed.count(", in close\n") == 1 and __file__ in printed


def test_a_failure_in_a_source_task_fails_the_job(token: str) -> None:
    env = _env(1)
    env.from_collection([1, 2, 3]).name(f"src-{token}").map(fail_on_three) \
        .add_sink(discard).name(f"sink-{token}")
    with pytest.raises(JobExecutionError, match=r"'Map' \(subtask 1/1\)"):
        env.execute(f"failing source chain {token}")
    _assert_threads_end(token)


def test_a_failure_cancels_the_other_tasks_of_an_unbounded_job(token: str) -> None:
    env = _env(1)
    env.add_source(CountingSource(token), f"endless-{token}") \
        .map(fail_on_three).name(f"Map-{token}").set_parallelism(2) \
        .add_sink(discard).name(f"sink-{token}").set_parallelism(2)
    client = env.execute_async(f"failing unbounded {token}")
    result = client.get_job_execution_result()
    try:
        with pytest.raises(JobExecutionError, match="cannot handle record 3") as info:
            result.result(timeout=DEADLINE_S)
    finally:
        if not result.done():
            client.cancel()  # the unbounded source would otherwise run on
    assert not isinstance(info.value, JobCancellationError)
    assert client.get_job_status().result() is JobStatus.FAILED
    _assert_threads_end(token, str(client.get_job_id()))


# -- (e) buffer timeout --------------------------------------------------------------------------


def test_buffer_timeout_bounds_latency_at_low_rates(token: str) -> None:
    env = _env(1)
    env.set_buffer_timeout(10)
    stream = env.add_source(TimedSource(0.05), f"timed-{token}") \
        .map(identity).name(f"map-{token}").set_parallelism(2)

    latencies = []
    with stream.execute_and_collect(f"latency {token}") as iterator, _Watchdog(iterator):
        for _ in range(5):
            seq, emitted_at = next(iterator)
            latencies.append(time.monotonic() - emitted_at)

    # Records cross two network exchanges (source -> map -> collect sink); each flushes
    # after at most 10 ms, so far below the 1024 records * 50 ms a full buffer would take.
    assert latencies[0] < 0.5, latencies
    assert max(latencies) < 0.5, latencies
    assert statistics.median(latencies) < 0.2, latencies
    _assert_threads_end(token)


def test_without_buffer_timeout_records_wait_for_a_full_buffer(token: str) -> None:
    conf = Configuration()
    conf.set_integer("taskmanager.network.records-per-buffer", 5)
    env = _env(1, conf)
    env.set_buffer_timeout(-1)
    stream = env.add_source(TimedSource(0.02), f"untimed-{token}")

    latencies = []
    with stream.execute_and_collect(f"no timeout {token}") as iterator, _Watchdog(iterator):
        for _ in range(5):
            seq, emitted_at = next(iterator)
            latencies.append(time.monotonic() - emitted_at)

    # Flushed only when full: record 0 waited for records 1..4 (at least 4 x 20 ms), and the
    # five arrived together, so the last one waited least.
    assert latencies[0] >= 0.08, latencies
    assert latencies == sorted(latencies, reverse=True), latencies
    _assert_threads_end(token)


# -- the runtime on its own ----------------------------------------------------------------------


@pytest.mark.parametrize("module", ["flink_py.runtime.minicluster", "flink_py.runtime.tasks.stream_task"])
def test_runtime_modules_import_on_their_own(module: str) -> None:
    # A TaskManager process imports the runtime, not the DataStream API, first.
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                            text=True, timeout=60, cwd=str(Path(__file__).resolve().parents[2]))
    assert result.returncode == 0, result.stderr
