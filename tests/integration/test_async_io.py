"""Async I/O on the MiniCluster: AsyncDataStream's waits, capacity, order, timeouts, retries,
failures, and the in-flight calls in checkpoints.

The PyFlink programs in ``tests/fixtures/pyflink/async_*.py`` (with what PyFlink 2.3 printed for
them) run here with only their imports changed. User functions are module-level classes (the
in-process MiniCluster unpickles them by reference); what they share with a test lives in
``flink_py.testing.shared`` under the test's token.
"""

from __future__ import annotations

import ast
import asyncio
import queue as queues
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from flink_py.common import Time, Types, Watermark
from flink_py.common.configuration import Configuration
from flink_py.common.job_status import JobStatus
from flink_py.datastream import (
    AsyncDataStream, AsyncFunction, AsyncRetryStrategy, ProcessFunction,
    StreamExecutionEnvironment)
from flink_py.datastream import async_retry_predicates, async_retry_strategies
from flink_py.datastream.functions import (
    CheckpointedFunction, CheckpointListener, RuntimeContext, SinkFunction, SourceFunction)
from flink_py.datastream.state import ListStateDescriptor
from flink_py.errors import InvalidProgramError
from flink_py.runtime.minicluster import MiniCluster
from flink_py.testing.poll import wait_until
from flink_py.testing.shared import release, shared

from tests.integration.test_pyflink_typed_streams import assert_prints_as_pyflink


@pytest.fixture
def token() -> Iterator[str]:
    name = uuid.uuid4().hex
    yield name
    release(name)


class Calls:
    """What the calls of one test did: how many ran at once, when they started and ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.starts: List[float] = []
        self.ends: List[float] = []

    def start(self) -> None:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.starts.append(time.monotonic())

    def end(self) -> None:
        with self.lock:
            self.running -= 1
            self.ends.append(time.monotonic())


class Sleeping(AsyncFunction):
    """Each call sleeps ``seconds`` and answers ``value * 10``, counted in ``Calls``."""

    def __init__(self, token: str, seconds: float) -> None:
        self.token = token
        self.seconds = seconds

    def open(self, runtime_context: RuntimeContext) -> None:
        self.calls = shared(self.token, "calls", Calls)

    async def async_invoke(self, value: int) -> List[int]:
        self.calls.start()
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.calls.end()
        return [value * 10]


def _env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def _collect(stream: Any) -> List[Any]:
    with stream.execute_and_collect() as results:
        return list(results)


# -- concurrency and capacity ---------------------------------------------------------------------


def test_fifty_calls_of_a_fifth_of_a_second_overlap(token: str) -> None:
    env = _env()
    numbers = env.from_collection(list(range(50)), type_info=Types.INT())
    out = AsyncDataStream.unordered_wait(numbers, Sleeping(token, 0.2), Time.seconds(60),
                                         capacity=50, output_type=Types.INT())
    assert sorted(_collect(out)) == [v * 10 for v in range(50)]
    calls = shared(token, "calls", Calls)
    # one after another they would take 10 s; a loaded machine still overlaps them
    assert max(calls.ends) - min(calls.starts) < 5.0
    assert calls.most_running > 1


def test_capacity_bounds_the_calls_in_flight_and_every_result_arrives(token: str) -> None:
    env = _env()
    numbers = env.from_collection(list(range(40)), type_info=Types.INT())
    out = AsyncDataStream.ordered_wait(numbers, Sleeping(token, 0.02), Time.seconds(60),
                                       capacity=3, output_type=Types.INT())
    assert _collect(out) == [v * 10 for v in range(40)]  # ordered: input order
    calls = shared(token, "calls", Calls)
    assert calls.most_running == 3


class Gate:
    """Holds calls until the test opens it: each waiting call awaits an asyncio.Event of its
    event loop, which ``open`` sets from the test's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.opened = False
        self.waiting: List[Any] = []

    async def passed(self) -> None:
        event = asyncio.Event()
        with self.lock:
            if self.opened:
                return
            self.waiting.append((asyncio.get_running_loop(), event))
        await event.wait()

    def open(self) -> None:
        with self.lock:
            self.opened = True
            for loop, event in self.waiting:
                loop.call_soon_threadsafe(event.set)


class Gated(AsyncFunction):
    """Calls wait for the test's ``Gate``; counted in ``Calls``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def open(self, runtime_context: RuntimeContext) -> None:
        self.calls = shared(self.token, "calls", Calls)
        self.gate = shared(self.token, "gate", Gate)

    async def async_invoke(self, value: int) -> List[int]:
        self.calls.start()
        await self.gate.passed()
        self.calls.end()
        return [value]


class CountingSource(SourceFunction):
    """Emits ``0 .. n-1`` one by one, counting them in ``emitted``."""

    def __init__(self, token: str, n: int) -> None:
        self.token = token
        self.n = n

    def run(self, ctx: Any) -> None:
        emitted = shared(self.token, "emitted", lambda: [0])
        for i in range(self.n):
            ctx.collect(i)
            emitted[0] += 1

    def cancel(self) -> None:
        pass


def test_a_full_queue_holds_the_input_back_until_calls_complete(token: str) -> None:
    # The async operator in a task of its own, after small network buffers: its full queue
    # stops the task taking input, the exchange fills and the source waits; once the calls
    # complete, everything flows.
    n, records_per_buffer = 3000, 10
    conf = Configuration()
    conf.set_integer("taskmanager.network.records-per-buffer", records_per_buffer)
    conf.set_integer("taskmanager.network.memory.buffers-per-channel", 2)
    conf.set_integer("taskmanager.network.memory.floating-buffers-per-gate", 0)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    source = env.add_source(CountingSource(token, n), type_info=Types.INT()).disable_chaining()
    out = AsyncDataStream.unordered_wait(source, Gated(token), Time.seconds(60), capacity=5,
                                         output_type=Types.INT())
    calls = shared(token, "calls", Calls)
    emitted = shared(token, "emitted", lambda: [0])
    gate = shared(token, "gate", Gate)
    with out.execute_and_collect() as results:
        wait_until(lambda: calls.running == 5, "five calls in flight")
        wait_until(_no_progress(emitted), "the source to stall")
        # what the source's batch, the exchange and the async task's input buffer hold
        assert emitted[0] <= records_per_buffer * 12, emitted[0]
        assert calls.running == 5 and len(calls.starts) == 5
        gate.open()
        assert sorted(results) == list(range(n))
    assert calls.most_running == 5


def _no_progress(counter: List[int], for_s: float = 0.3) -> Callable[[], bool]:
    """A condition true once ``counter`` is above 0 and did not change for ``for_s`` s."""
    last = [-1, time.monotonic()]

    def unchanged() -> bool:
        now, at = counter[0], time.monotonic()
        if now != last[0]:
            last[0], last[1] = now, at
            return False
        return now > 0 and at - last[1] >= for_s
    return unchanged


# -- order and watermarks ---------------------------------------------------------------------


class WatermarkedSource(SourceFunction):
    """a (ts 1) and b (ts 2), watermark 5, c (ts 6)."""

    def run(self, ctx: Any) -> None:
        ctx.collect_with_timestamp("a", 1)
        ctx.collect_with_timestamp("b", 2)
        ctx.emit_watermark(Watermark(5))
        ctx.collect_with_timestamp("c", 6)

    def cancel(self) -> None:
        pass


class SlowA(AsyncFunction):
    async def async_invoke(self, value: str) -> List[str]:
        await asyncio.sleep(0.6 if value == "a" else 0.0)
        return [value]


class WithWatermark(ProcessFunction):
    def process_element(self, value: str, ctx: Any) -> Iterator[Any]:
        yield value, ctx.timestamp(), ctx.timer_service().current_watermark() >= 5


def test_unordered_results_leave_as_completed_but_never_across_a_watermark() -> None:
    env = _env()
    source = env.add_source(WatermarkedSource(), type_info=Types.STRING())
    out = AsyncDataStream.unordered_wait(source, SlowA(), Time.seconds(30),
                                         output_type=Types.STRING())
    # b overtakes the slow a; c, done long before a, waits behind the watermark that a holds
    assert _collect(out.process(WithWatermark())) == [
        ("b", 2, False), ("a", 1, False), ("c", 6, True)]


def test_ordered_results_keep_the_input_order_and_timestamps() -> None:
    env = _env()
    source = env.add_source(WatermarkedSource(), type_info=Types.STRING())
    out = AsyncDataStream.ordered_wait(source, SlowA(), Time.seconds(30),
                                       output_type=Types.STRING())
    assert _collect(out.process(WithWatermark())) == [
        ("a", 1, False), ("b", 2, False), ("c", 6, True)]


def test_pyflink_ordered_wait_program_prints_as_pyflink(tmp_path: Path) -> None:
    assert_prints_as_pyflink("async_ordered_wait.py", tmp_path)


def test_pyflink_unordered_wait_program_prints_as_pyflink(tmp_path: Path) -> None:
    # completion order is the reverse of the input by 0.25 s steps; PyFlink printed the same
    # order in each of its recorded runs, so the order is compared too
    assert_prints_as_pyflink("async_unordered_wait.py", tmp_path)


# -- timeouts, retries, failures ----------------------------------------------------------------


def test_pyflink_timeout_program_prints_as_pyflink(tmp_path: Path) -> None:
    assert_prints_as_pyflink("async_timeout.py", tmp_path)


def test_pyflink_retry_program_prints_as_pyflink(tmp_path: Path) -> None:
    assert_prints_as_pyflink("async_retry.py", tmp_path)


class Hanging(AsyncFunction):
    async def async_invoke(self, value: int) -> List[int]:
        await asyncio.sleep(3600)
        return [value]


def test_a_call_past_its_timeout_fails_the_job_with_a_timeout_error() -> None:
    env = _env()
    numbers = env.from_collection([7], type_info=Types.INT())
    AsyncDataStream.ordered_wait(numbers, Hanging(), Time.milliseconds(200)).print()
    started = time.monotonic()
    with pytest.raises(Exception) as failure:
        env.execute("hanging")
    assert time.monotonic() - started < 30
    text = str(failure.value)
    assert "TimeoutError" in text and "timed out for input: 7" in text
    assert "async wait operator" in text


class AlwaysEmpty(AsyncFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    async def async_invoke(self, value: int) -> List[int]:
        shared(self.token, "calls", Calls).start()
        return []

    def timeout(self, value: int) -> List[str]:
        return [f"gave up on {value}"]


def test_the_timeout_ends_a_call_that_retries_without_end(token: str) -> None:
    env = _env()
    numbers = env.from_collection([1, 2], type_info=Types.INT())
    forever = AsyncRetryStrategy.fixed_delay(
        10_000, 20, async_retry_predicates.empty_result_predicate, None)
    out = AsyncDataStream.ordered_wait_with_retry(numbers, AlwaysEmpty(token),
                                                  Time.milliseconds(500), forever)
    assert _collect(out) == ["gave up on 1", "gave up on 2"]
    assert len(shared(token, "calls", Calls).starts) > 4  # it did retry meanwhile


class Failing(AsyncFunction):
    async def async_invoke(self, value: int) -> List[int]:
        if value == 3:
            raise KeyError(f"no row for {value}")
        return [value]


def test_an_exception_of_a_call_fails_the_job_naming_the_input_and_operator() -> None:
    env = _env()
    numbers = env.from_collection([1, 2, 3], type_info=Types.INT())
    AsyncDataStream.unordered_wait(numbers, Failing(), Time.seconds(10)).print()
    with pytest.raises(Exception) as failure:
        env.execute("failing")
    text = str(failure.value)
    assert "no row for 3" in text and "class 'Failing' for input 3" in text
    assert "async wait operator" in text


class NotAList(AsyncFunction):
    async def async_invoke(self, value: int) -> Any:
        return None


def test_a_call_returning_no_list_fails_the_job() -> None:
    env = _env()
    AsyncDataStream.ordered_wait(env.from_collection([1], type_info=Types.INT()), NotAList(),
                                 Time.seconds(10)).print()
    with pytest.raises(Exception, match="The result of AsyncFunction cannot be none"):
        env.execute("no list")


class NotAsync(AsyncFunction):
    def async_invoke(self, value: int) -> List[int]:  # type: ignore[override]
        return [value]


def test_arguments_are_checked_where_the_operator_is_added() -> None:
    env = _env()
    numbers = env.from_collection([1], type_info=Types.INT())
    with pytest.raises(InvalidProgramError, match="should be declared as 'async def'"):
        AsyncDataStream.ordered_wait(numbers, NotAsync(), Time.seconds(1))
    retry = AsyncRetryStrategy.fixed_delay(2, 10, None, lambda e: True)
    with pytest.raises(InvalidProgramError, match="Timeout should be configured"):
        AsyncDataStream.unordered_wait_with_retry(numbers, SlowA(), Time.seconds(0), retry)
    with pytest.raises(InvalidProgramError, match="capacity"):
        AsyncDataStream.ordered_wait(numbers, SlowA(), Time.seconds(1), capacity=0)
    assert AsyncRetryStrategy.no_restart() is async_retry_strategies.NO_RETRY_STRATEGY


class HangingCounted(AsyncFunction):
    def __init__(self, token: str) -> None:
        self.token = token

    async def async_invoke(self, value: int) -> List[int]:
        shared(self.token, "calls", Calls).start()
        await asyncio.sleep(3600)
        return [value]


def test_cancelling_a_job_waiting_for_its_calls_at_the_end_of_input_ends_it(token: str) -> None:
    env = _env()
    numbers = env.from_collection([1, 2], type_info=Types.INT())
    # no timeout: the end of input waits for the calls, which never end by themselves
    AsyncDataStream.unordered_wait(numbers, HangingCounted(token), Time.seconds(0)).print()
    client = env.execute_async(f"hanging {token}")
    calls = shared(token, "calls", Calls)
    wait_until(lambda: calls.running == 2, "both calls in flight")
    client.cancel()
    wait_until(lambda: client.get_job_status().result() is JobStatus.CANCELED,
               "the job CANCELED")
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith(
        "AsyncIO of") and "async wait operator" in t.name], "the event loop's thread to end")


# -- checkpoints ------------------------------------------------------------------------------


class HangFirstAttempt(AsyncFunction, CheckpointListener):
    """In the first attempt, calls for values above 3 never complete, and the first completed
    checkpoint fails the job; later attempts answer every call at once."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.attempt = runtime_context.get_attempt_number()

    async def async_invoke(self, value: int) -> List[Any]:
        if self.attempt == 0 and value > 3:
            await asyncio.sleep(3600)
        return [(value, self.attempt)]

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        if self.attempt == 0:
            raise RuntimeError(f"injected failure after checkpoint {checkpoint_id}")


class Numbers(SourceFunction, CheckpointedFunction):
    """1 .. 20, as a legacy SourceFunction (its own thread), its position in operator state."""

    def initialize_state(self, context: Any) -> None:
        self.position_state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor("position"))
        self.position = max(self.position_state.get(), default=0)

    def snapshot_state(self, context: Any) -> None:
        self.position_state.update([self.position])

    def run(self, ctx: Any) -> None:
        for i in range(self.position + 1, 21):
            with ctx.get_checkpoint_lock():
                ctx.collect(i)
                self.position = i

    def cancel(self) -> None:
        pass


@pytest.mark.parametrize("source", ["from_sequence", "legacy"])
def test_in_flight_calls_are_checkpointed_and_issued_again_on_restore(
        tmp_path: Path, source: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment(Configuration({
        "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "2",
        "restart-strategy.fixed-delay.delay": "50 ms"}))
    env.set_parallelism(1)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    numbers = (env.from_sequence(1, 20) if source == "from_sequence"
               else env.add_source(Numbers(), type_info=Types.LONG()))
    out = AsyncDataStream.ordered_wait(numbers, HangFirstAttempt(), Time.seconds(0),
                                       capacity=5)
    results = _collect(out)
    # The source had read all 20 when the checkpoint was taken; 4 .. 20 were in the
    # operator (5 in flight, the rest waiting for capacity) and are answered after the restore.
    assert [v for v, _ in results] == list(range(1, 21))
    assert {v for v, attempt in results if attempt == 0} == {1, 2, 3}
    assert all(attempt == 1 for v, attempt in results if v > 3)


def test_python_operators_around_it_hand_over_floats_as_in_pyflink(tmp_path: Path) -> None:
    # PyFlink chains the async operator with the Python operators before and after it: a
    # FLOAT stays 110.1 across those hand-overs
    assert_prints_as_pyflink("async_float_chaining.py", tmp_path)


def test_the_operator_chains_with_its_neighbours() -> None:
    env = _env()
    numbers = env.from_collection([1], type_info=Types.INT())
    AsyncDataStream.ordered_wait(numbers, SlowA(), Time.seconds(1)).print()
    graph = env.get_job_graph("chained")
    assert [v.name for v in graph.vertices.values()] == [
        "Source: Collection Source -> async wait operator -> Sink: Print to Std. Out"]


class AnswerInRun(AsyncFunction):
    """Calls hang in the run ``hang_in`` and answer at once in any other, with the run's name."""

    def __init__(self, run: str, hang_in: str) -> None:
        self.run = run
        self.hang_in = hang_in

    async def async_invoke(self, value: int) -> List[Any]:
        if self.run == self.hang_in:
            await asyncio.sleep(3600)
        return [(value, self.run)]


class LinesSink(SinkFunction):
    def __init__(self, path: str) -> None:
        self.path = path

    def invoke(self, value: Any, context: Any) -> None:
        with open(self.path, "a") as f:
            f.write(f"{value!r}\n")


def _async_job(tmp_path: Path, run: str, parallelism: int, settings: Dict[str, str]) -> Any:
    env = _env(parallelism)
    numbers = env.from_sequence(1, 40).uid("numbers")
    AsyncDataStream.unordered_wait(numbers, AnswerInRun(run, "first"), Time.seconds(0),
                                   capacity=5).uid("lookup") \
        .add_sink(LinesSink(str(tmp_path / f"{run}.txt"))).uid("sink")
    graph = env.get_job_graph(run)
    graph.job_configuration.update({"restart-strategy.type": "none", **settings})
    return graph


@pytest.mark.parametrize("new_parallelism", [1, 3])
def test_calls_in_flight_in_a_savepoint_are_issued_again_at_another_parallelism(
        tmp_path: Path, new_parallelism: int) -> None:
    with MiniCluster(1, 4) as cluster:
        dispatcher = cluster.dispatcher
        first = dispatcher.submit_job(_async_job(tmp_path, "first", 2, {}))
        master = dispatcher.job_master(first)
        wait_until(lambda: (lambda counts: counts.get("RUNNING", 0) == sum(counts.values()))(
            master.task_state_counts()), "all tasks running")
        done: "queues.Queue[tuple]" = queues.Queue()
        master.trigger_savepoint(str(tmp_path / "savepoints"),
                                 lambda path, error: done.put((path, error)))
        path, error = done.get(timeout=60)
        assert error is None, error
        dispatcher.cancel_job(first)  # its calls hang: it would never finish
        assert dispatcher.request_job_result(first, 60).status is JobStatus.CANCELED
        assert not (tmp_path / "first.txt").exists()
        second = dispatcher.submit_job(_async_job(
            tmp_path, "second", new_parallelism, {"execution.savepoint.path": path}))
        result = dispatcher.request_job_result(second, 60)
        assert result.status is JobStatus.FINISHED, result.failure
    lines = (tmp_path / "second.txt").read_text().splitlines()
    # every number was in flight in the savepoint (the sources had read them all): each is
    # answered once, by the resumed job
    assert sorted(ast.literal_eval(line) for line in lines) == [
        (v, "second") for v in range(1, 41)]


class EndlessCounted(SourceFunction):
    """0, 1, 2, ... until cancelled or stopped; what it emitted is in ``emitted``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def open(self, runtime_context: RuntimeContext) -> None:
        self.stopped = threading.Event()

    def run(self, ctx: Any) -> None:
        emitted = shared(self.token, "emitted", list)
        i = 0
        while not self.stopped.is_set():
            with ctx.get_checkpoint_lock():
                ctx.collect(i)
                emitted.append(i)
            i += 1
            if i % 10 == 0:
                self.stopped.wait(0.001)  # paces the source: not a synchronization

    def cancel(self) -> None:
        self.stopped.set()


def test_a_drained_stop_waits_for_the_calls_in_flight(token: str, tmp_path: Path) -> None:
    env = StreamExecutionEnvironment.get_execution_environment(
        Configuration({"restart-strategy.type": "none"}))
    env.set_parallelism(1)
    env.enable_checkpointing(200)
    source = env.add_source(EndlessCounted(token), type_info=Types.INT())
    out = tmp_path / "out.txt"
    AsyncDataStream.unordered_wait(source, Sleeping(token, 0.01), Time.seconds(0),
                                   capacity=20).add_sink(LinesSink(str(out)))
    client = env.execute_async(f"drained {token}")
    wait_until(lambda: out.exists() and len(out.read_text().splitlines()) >= 20,
               "results in the sink")
    client.stop_with_savepoint(True, str(tmp_path / "savepoints")).result(timeout=60)
    client.get_job_execution_result().result(timeout=60)  # raises unless FINISHED
    emitted = shared(token, "emitted", list)
    # every record the source emitted before the stop has its result: none was dropped
    assert sorted(int(line) for line in out.read_text().splitlines()) == [
        v * 10 for v in sorted(emitted)]
