"""Event timestamps and watermarks in real jobs on the in-process MiniCluster.

The jobs end in a sink (``WatermarkLog``, through ``sink_to``) that logs every record with its
timestamp and every watermark and watermark status it receives, in order. Scripted sources
emit what the test pushes into their queues, so the test can wait for a watermark before it
pushes the next record: the sequences below are exact, not timing-dependent.

Functions and sources are shipped to the tasks as copies; tasks are threads of this process,
so they report through this module's globals (keyed by a per-test token).
"""

from __future__ import annotations

import queue
import threading
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional

import pytest

from flink_py.common import Duration, Watermark, WatermarkGenerator, WatermarkStrategy
from flink_py.common.job_status import JobStatus
from flink_py.datastream import (
    CoMapFunction, ProcessFunction, SourceFunction, StreamExecutionEnvironment)
from flink_py.datastream.connectors import FileSource, StreamFormat
from flink_py.errors import JobExecutionError
from flink_py.runtime.operators.base import MAX_WATERMARK, StreamOperator
from flink_py.testing.poll import wait_until

DEADLINE_S = 5.0
INTERVAL_MS = 10  # pipeline.auto-watermark-interval of these jobs

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

# -- shared state between the test and its tasks -------------------------------------------------

_LOCK = threading.Lock()
_LOGS: Dict[str, List[tuple]] = {}
_QUEUES: Dict[str, "queue.Queue[Any]"] = {}


def _log(token: str) -> List[tuple]:
    with _LOCK:
        return list(_LOGS.get(token, []))


def _append(token: str, entry: tuple) -> None:
    with _LOCK:
        _LOGS.setdefault(token, []).append(entry)


def _queue(name: str) -> "queue.Queue[Any]":
    with _LOCK:
        return _QUEUES.setdefault(name, queue.Queue())


@pytest.fixture
def token() -> Iterable[str]:
    value = uuid.uuid4().hex[:12]
    yield value
    with _LOCK:
        _LOGS.pop(value, None)
        for name in [n for n in _QUEUES if n.startswith(value)]:
            del _QUEUES[name]


def _watermarks(token: str) -> List[int]:
    return [entry[1] for entry in _log(token) if entry[0] == "watermark"]


def _wait_for_watermark(token: str, watermark: int) -> None:
    wait_until(lambda: watermark in _watermarks(token),
               f"watermark {watermark} (seen: {_watermarks(token)})")


# -- the logging sink and the scripted sources ---------------------------------------------------


class _LoggingSinkOperator(StreamOperator):
    def __init__(self, name: str, token: str) -> None:
        super().__init__(name)
        self.token = token

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        stamps = timestamps if timestamps is not None else [None] * len(values)
        for value, timestamp in zip(values, stamps):
            _append(self.token, ("record", value, timestamp))

    def process_watermark(self, watermark: int) -> None:
        super().process_watermark(watermark)
        _append(self.token, ("watermark", watermark))

    def process_watermark_status(self, status: Any) -> None:
        _append(self.token, ("status", "IDLE" if status.is_idle() else "ACTIVE"))


class WatermarkLog:
    """A sink (for ``sink_to``) that logs records, watermarks and statuses under ``token``."""

    name = "Watermark Log"

    def __init__(self, token: str) -> None:
        self.token = token

    def _create_sink_operator(self, name: str) -> StreamOperator:
        return _LoggingSinkOperator(name, self.token)


class ScriptedSource(SourceFunction):
    """Emits what the test puts into queue ``name``; ``END`` ends it (then the final
    watermark follows, the source being bounded)."""

    END = "end"

    def __init__(self, name: str) -> None:
        self.name = name
        self.bounded = True
        self.running = True

    def run(self, ctx: Any) -> None:
        commands = _queue(self.name)
        while self.running:
            try:
                command = commands.get(timeout=0.005)
            except queue.Empty:
                continue
            if command == ScriptedSource.END:
                return
            ctx.collect(command)

    def cancel(self) -> None:
        self.running = False


def _by_second_field(value: Any, record_timestamp: int) -> int:
    return value[1]


class PunctuatedOnMarker(WatermarkGenerator):
    """A punctuated generator: a watermark at every record whose first field is "mark"."""

    def on_event(self, event: Any, event_timestamp: int, output: Any) -> None:
        if event[0] == "mark":
            output.emit_watermark(Watermark(event_timestamp))

    def on_periodic_emit(self, output: Any) -> None:
        pass


class PassThrough(CoMapFunction):
    def map1(self, value: Any) -> Any:
        return value

    def map2(self, value: Any) -> Any:
        return value


def _env(parallelism: int = 1, interval_ms: int = INTERVAL_MS) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.set_buffer_timeout(2)
    env.get_config().set_auto_watermark_interval(interval_ms)
    return env


def _run_scripted(client: Any, steps: Callable[[], None]) -> None:
    """Runs the test's steps against a running job; cancels the job if they fail."""
    result = client.get_job_execution_result()
    try:
        steps()
        result.result(timeout=DEADLINE_S)
    finally:
        if not result.done():
            client.cancel()
            wait_until(lambda: client.get_job_status().result().is_globally_terminal_state(),
                       "the job's end after cancel")


# -- one input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, pushes, expected", [
    (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(100)),
     [("a", 1000, 899), ("b", 3000, 2899), ("late", 2000, None), ("d", 5000, 4899)],
     [899, 2899, 4899]),
    (WatermarkStrategy.for_monotonous_timestamps(),
     [("a", 10, 9), ("b", 20, 19), ("same", 20, None), ("c", 21, 20)],
     [9, 19, 20]),
], ids=["bounded out-of-orderness", "monotonous"])
def test_periodic_watermarks_exact_sequence(token: str, strategy: WatermarkStrategy,
                                            pushes: List[tuple], expected: List[int]) -> None:
    env = _env()
    name = f"{token}-source"
    env.add_source(ScriptedSource(name), f"scripted-{token}") \
        .assign_timestamps_and_watermarks(strategy.with_timestamp_assigner(_by_second_field)) \
        .sink_to(WatermarkLog(token)).disable_chaining()  # the watermarks cross the network
    client = env.execute_async(f"watermarks {token}")

    def steps() -> None:
        for value, timestamp, watermark in pushes:
            _queue(name).put((value, timestamp))
            if watermark is not None:
                _wait_for_watermark(token, watermark)
        _queue(name).put(ScriptedSource.END)

    _run_scripted(client, steps)
    assert _watermarks(token) == expected + [MAX_WATERMARK]
    records = [(entry[1], entry[2]) for entry in _log(token) if entry[0] == "record"]
    assert records == [((value, ts), ts) for value, ts, _ in pushes]  # late ones kept


def test_punctuated_watermarks_follow_their_records(token: str) -> None:
    env = _env(interval_ms=0)
    records = [("a", 1), ("mark", 2), ("b", 1), ("mark", 5), ("mark", 4), ("c", 9)]
    strategy = WatermarkStrategy.for_generator(PunctuatedOnMarker) \
        .with_timestamp_assigner(_by_second_field)
    env.from_collection(records).assign_timestamps_and_watermarks(strategy) \
        .sink_to(WatermarkLog(token)).disable_chaining()
    env.execute(f"punctuated {token}")
    assert _log(token) == [
        ("record", ("a", 1), 1), ("record", ("mark", 2), 2), ("watermark", 2),
        ("record", ("b", 1), 1), ("record", ("mark", 5), 5), ("watermark", 5),
        ("record", ("mark", 4), 4), ("record", ("c", 9), 9),
        ("watermark", MAX_WATERMARK)]


def test_periodic_emission_on_an_unbounded_source(token: str) -> None:
    env = _env(interval_ms=5)
    name = f"{token}-source"
    source = ScriptedSource(name)
    source.bounded = False
    env.add_source(source, f"endless-{token}") \
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
                _by_second_field)) \
        .sink_to(WatermarkLog(token))
    client = env.execute_async(f"unbounded {token}")
    try:
        _queue(name).put(("a", 100))
        _wait_for_watermark(token, 99)
        _queue(name).put(("b", 200))
        _wait_for_watermark(token, 199)
        assert _watermarks(token) == [99, 199]  # every 5 ms asked, each value sent once
    finally:
        client.cancel()
    wait_until(lambda: client.get_job_status().result() is JobStatus.CANCELED,
               "the job canceled")
    assert MAX_WATERMARK not in _watermarks(token)  # an unbounded input never ends


def test_a_bounded_input_ends_with_the_final_watermark_in_every_subtask(token: str) -> None:
    env = _env(parallelism=3, interval_ms=0)
    env.from_collection([("a", 5), ("b", 7)]) \
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
                _by_second_field)) \
        .rebalance().sink_to(WatermarkLog(token))
    env.execute(f"final watermark {token}")
    # Three sink subtasks, each gets the final watermark exactly once.
    assert _watermarks(token) == [MAX_WATERMARK] * 3


# -- two inputs and idleness -----------------------------------------------------------------------


def _two_scripted_inputs(env: StreamExecutionEnvironment, token: str, how: str,
                         strategy_a: WatermarkStrategy, strategy_b: WatermarkStrategy) -> None:
    a = env.add_source(ScriptedSource(f"{token}-a"), f"a-{token}") \
        .assign_timestamps_and_watermarks(strategy_a.with_timestamp_assigner(_by_second_field))
    b = env.add_source(ScriptedSource(f"{token}-b"), f"b-{token}") \
        .assign_timestamps_and_watermarks(strategy_b.with_timestamp_assigner(_by_second_field))
    combined = a.union(b) if how == "union" else a.connect(b).map(PassThrough())
    combined.sink_to(WatermarkLog(token))


@pytest.mark.parametrize("how", ["union", "connect"])
def test_the_watermark_is_the_minimum_of_the_inputs(token: str, how: str) -> None:
    env = _env()
    monotonous = WatermarkStrategy.for_monotonous_timestamps()
    _two_scripted_inputs(env, token, how, monotonous, monotonous)
    client = env.execute_async(f"two inputs {token}")
    a, b = _queue(f"{token}-a"), _queue(f"{token}-b")

    def steps() -> None:
        a.put(("a", 100))  # a: 99, b: none yet -> nothing
        b.put(("b", 50))  # min(99, 49)
        _wait_for_watermark(token, 49)
        b.put(("b", 200))  # min(99, 199)
        _wait_for_watermark(token, 99)
        a.put(("a", 300))  # min(299, 199)
        _wait_for_watermark(token, 199)
        b.put(ScriptedSource.END)  # b's final watermark: a's 299 is the minimum
        _wait_for_watermark(token, 299)
        a.put(ScriptedSource.END)

    _run_scripted(client, steps)
    assert _watermarks(token) == [49, 99, 199, 299, MAX_WATERMARK]


@pytest.mark.parametrize("how", ["union", "connect"])
def test_an_idle_input_does_not_hold_the_watermark_back(token: str, how: str) -> None:
    env = _env()
    _two_scripted_inputs(
        env, token, how, WatermarkStrategy.for_monotonous_timestamps(),
        WatermarkStrategy.for_monotonous_timestamps().with_idleness(Duration.of_millis(30)))
    client = env.execute_async(f"idle input {token}")
    a, b = _queue(f"{token}-a"), _queue(f"{token}-b")

    def steps() -> None:
        a.put(("a", 1000))
        _wait_for_watermark(token, 999)  # b sent nothing: idle after 30 ms
        b.put(("b", 500))  # b is back, behind: the watermark does not go backwards
        a.put(("a", 2000))
        b.put(("b", 3000))
        _wait_for_watermark(token, 1999)
        a.put(ScriptedSource.END)
        b.put(ScriptedSource.END)

    _run_scripted(client, steps)
    watermarks = _watermarks(token)
    assert watermarks[:2] == [999, 1999] and watermarks[-1] == MAX_WATERMARK
    # Which input ends first, and whether b went idle again by then, is up to timing: b's
    # 2999 may show in between, nothing else can.
    assert watermarks[2:-1] in ([], [2999])
    assert [e for e in _log(token) if e[0] == "status"] == []  # input a never went idle
    assert ("record", ("b", 500), 500) in _log(token)  # late, but delivered


# -- sources with a strategy, timestamps in functions, errors ----------------------------------------


class WithTimestamp(ProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Iterable[Any]:
        yield value, ctx.timestamp()


def test_from_source_applies_the_strategy_in_the_source(token: str, tmp_path: Any) -> None:
    path = tmp_path / "events.txt"
    path.write_text("1000,a\n3000,b\n2000,c\n")
    env = _env(interval_ms=0)
    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(),
                                                 str(path)).build()
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(1)) \
        .with_timestamp_assigner(lambda line, ts: int(line.split(",")[0]))
    stream = env.from_source(source, strategy, f"events-{token}")
    stream.process(WithTimestamp()).sink_to(WatermarkLog(token))
    assert "Timestamps/Watermarks" not in env.get_execution_plan()
    env.execute(f"from_source {token}")
    assert [(e[1], e[2]) for e in _log(token) if e[0] == "record"] == [
        (("1000,a", 1000), 1000), (("3000,b", 3000), 3000), (("2000,c", 2000), 2000)]
    assert _watermarks(token) == [MAX_WATERMARK]


def test_timestamps_reach_process_functions(token: str) -> None:
    env = _env(parallelism=2)
    results = env.from_collection([("x", 11), ("y", 22)]) \
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.no_watermarks().with_timestamp_assigner(_by_second_field)) \
        .process(WithTimestamp()).execute_and_collect(f"timestamps {token}", limit=10)
    assert sorted(results) == [(("x", 11), 11), (("y", 22), 22)]


@pytest.mark.parametrize("bad", [1.5, True])
def test_a_non_int_timestamp_fails_the_job_naming_the_value(token: str, bad: Any) -> None:
    env = _env()
    env.from_collection([("ok", 1), ("bad", bad)]) \
        .assign_timestamps_and_watermarks(
            WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
                _by_second_field)) \
        .sink_to(WatermarkLog(token))
    with pytest.raises(JobExecutionError) as info:
        env.execute(f"bad timestamp {token}")
    message = str(info.value)
    assert "'Timestamps/Watermarks' (subtask 1/1)" in message
    assert f"returned {bad!r} ({type(bad).__name__})" in message
    assert "must be an int" in message


def test_assign_timestamps_and_watermarks_checks_its_argument() -> None:
    env = _env()
    with pytest.raises(Exception, match="expects a WatermarkStrategy"):
        env.from_collection([1]).assign_timestamps_and_watermarks(Duration.of_seconds(1))


def test_the_operator_chains_to_its_input_at_its_parallelism() -> None:
    env = _env(parallelism=4)
    env.from_collection([("a", 1)]) \
        .assign_timestamps_and_watermarks(WatermarkStrategy.for_monotonous_timestamps()) \
        .print()
    vertices = list(env.get_job_graph().vertices.values())
    names = sorted(v.name for v in vertices)
    assert "Source: Collection Source -> Timestamps/Watermarks" in names
