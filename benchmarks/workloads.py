"""The benchmark workloads: each runs on the engine and as a plain Python loop.

Both sides call the same user functions per record (and the plain loop keeps keyed state in a
dict), so the ratio engine/plain measures what the engine adds or saves around user code.
"""

from __future__ import annotations

import heapq
import os
import random
import tempfile
import time
from dataclasses import dataclass
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional

from flink_py.common.typeinfo import Types
from flink_py.common.watermark_strategy import WatermarkStrategy
from flink_py.datastream import SinkFunction, StreamExecutionEnvironment
from flink_py.common.time import Time
from flink_py.datastream.functions import (
    AggregateFunction, CheckpointListener, KeyedProcessFunction, WindowFunction)
from flink_py.datastream.window import TumblingEventTimeWindows
from flink_py.datastream.state import ValueStateDescriptor


class CountingSink(SinkFunction):
    """Counts records and remembers the last value per key (to check results)."""

    def __init__(self, key_of: Optional[Callable[[Any], Any]] = None) -> None:
        self.count = 0
        self.key_of = key_of
        self.last: Dict[Any, Any] = {}

    def invoke(self, value: Any, context: Any) -> None:
        self.count += 1


@dataclass
class Result:
    name: str
    records: int
    engine_s: float
    plain_s: float

    @property
    def engine_rate(self) -> float:
        return self.records / self.engine_s

    @property
    def plain_rate(self) -> float:
        return self.records / self.plain_s

    @property
    def ratio(self) -> float:
        return self.plain_s / self.engine_s


def _timed(fn: Callable[[], Any]) -> tuple:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# -- W1: stateless chain ------------------------------------------------------------------

def w1_double(x: int) -> int:
    return x * 2


def w1_divisible(x: int) -> bool:
    return x % 3 == 0


def w1_engine(n: int, parallelism: int = 1) -> Any:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    (env.from_collection(range(n), type_info=Types.LONG())
        .map(w1_double, output_type=Types.LONG())
        .filter(w1_divisible)
        .add_sink(CountingSink()))
    return env.execute("W1 stateless chain")


def w1_plain(n: int) -> int:
    sink = CountingSink()
    invoke = sink.invoke
    for x in range(n):
        y = w1_double(x)
        if w1_divisible(y):
            invoke(y, None)
    return sink.count


def cpu_heavy(x: int) -> int:
    """A map that costs a few microseconds of pure Python per record."""
    total = 0
    for k in range(40):
        total += (x * k) % 7
    return total


def cpu_pair(i: int) -> tuple:
    """A few µs of Python per record (:func:`cpu_heavy`), keyed by ``i % 1000``. (Here, not
    in local_parallel.py: slot workers import the module a job's functions come from, and
    that one brings the cluster benchmarks' harness, 50 ms of imports a job does not need.)"""
    return (i % 1000, cpu_heavy(i))


# -- W2: keyed rolling reduce -----------------------------------------------------------------

def w2_key(t: tuple) -> int:
    return t[0]


def w2_sum(a: tuple, b: tuple) -> tuple:
    return (a[0], a[1] + b[1])


def w2_expected(n: int) -> Dict[int, int]:
    return expected_sums(n, w2_pair)


def w2_pair(i: int) -> tuple:
    return (i % 1000, i)


def w2_placed_pair(n: int, parallelism: int, crossing: bool) -> Callable[[int], tuple]:
    """W2's pair function with keys placed by subtask: the records of source subtask ``s``
    (``from_sequence`` gives it the ``s``-th share of ``0..n-1``) get keys whose key group
    belongs to reduce subtask ``s`` (``crossing=False``: every record stays in its slot, as
    slot sharing places source ``s`` and reduce ``s`` together) or to ``s + 1`` (``True``:
    every record crosses to another slot). Splits the keyed exchange's cost into routing
    and crossing."""
    from flink_py.common.key_groups import compute_default_max_parallelism
    from flink_py.runtime.network.partitioners import KeyGroupStreamPartitioner
    partitioner = KeyGroupStreamPartitioner(w2_key)
    partitioner.setup(parallelism, compute_default_max_parallelism(parallelism))
    routed = {c: [v[0] for v in values]
              for c, values, _ in partitioner.route([(k, 0) for k in range(1000)], None)}
    size = min(len(keys) for keys in routed.values())
    keys_of_share = [routed[(s + crossing) % parallelism][:size] for s in range(parallelism)]
    bounds = [n * (s + 1) // parallelism for s in range(parallelism)]

    def placed_pair(i: int) -> tuple:
        share = 0
        while i >= bounds[share]:
            share += 1
        return (keys_of_share[share][i % size], i)
    return placed_pair


def expected_sums(n: int, pair: Callable[[int], tuple]) -> Dict[Any, int]:
    """The final sum per key of ``pair(i)[1]`` over ``0..n-1`` (what W2 ends with)."""
    sums: Dict[Any, int] = {}
    for i in range(n):
        key, value = pair(i)
        sums[key] = sums.get(key, 0) + value
    return sums


class LastPerKeySink(SinkFunction):
    """Keeps the last value per key; prints a checksum at close so results can be checked."""

    def __init__(self, expected: Dict[Any, Any], key_index: int = 0, value_index: int = 1
                 ) -> None:
        self.expected = expected
        self.key_index = key_index
        self.value_index = value_index
        self.last: Dict[Any, Any] = {}

    def invoke(self, value: Any, context: Any) -> None:
        self.last[value[0]] = value[1]

    def close(self) -> None:
        mine = self.last
        wrong = [k for k, v in mine.items() if self.expected.get(k) != v]
        if wrong:
            raise AssertionError(f"wrong final values for keys {wrong[:5]}")


def w2_engine(n: int, expected: Dict[int, int], parallelism: int = 1,
              backend: Optional[str] = None, checkpoint_interval_ms: Optional[int] = None,
              checkpoint_dir: Optional[str] = None) -> Any:
    """W2; ``backend`` (``hashmap``/``rocksdb``) and checkpoints every
    ``checkpoint_interval_ms`` to ``checkpoint_dir`` when given (filesystem storage)."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    if backend is not None:
        from flink_py.datastream.state_backend import (
            EmbeddedRocksDBStateBackend, HashMapStateBackend)
        env.set_state_backend(EmbeddedRocksDBStateBackend() if backend == "rocksdb"
                              else HashMapStateBackend())
    if checkpoint_interval_ms is not None:
        env.enable_checkpointing(checkpoint_interval_ms)
        if checkpoint_dir is not None:
            env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{checkpoint_dir}")
    (env.from_sequence(0, n - 1)
        .map(w2_pair)
        .key_by(w2_key)
        .reduce(w2_sum).uid("w2-reduce")
        .add_sink(CheckpointCountingSink(expected) if checkpoint_interval_ms is not None
                  else LastPerKeySink(expected)))
    return env.execute("W2 keyed reduce")


#: checkpoints completed in this process's W2 sinks (the MiniCluster runs them here)
completed_checkpoints = [0]


class CheckpointCountingSink(LastPerKeySink, CheckpointListener):
    """LastPerKeySink that counts completed checkpoints, to show that some were taken."""

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        completed_checkpoints[0] += 1


def w2_plain(n: int, expected: Dict[int, int]) -> Dict[int, int]:
    sink = LastPerKeySink(expected)
    invoke = sink.invoke
    state: Dict[int, tuple] = {}
    get = state.get
    for i in range(n):
        v = w2_pair(i)
        k = w2_key(v)
        prev = get(k)
        r = v if prev is None else w2_sum(prev, v)
        state[k] = r
        invoke(r, None)
    sink.close()
    return sink.last


# -- W3: event-time tumbling window --------------------------------------------------------------

W3_KEYS = 100
W3_WINDOW_MS = 1000


def w3_event(i: int) -> tuple:
    return (i % W3_KEYS, i)  # (key, timestamp in ms)


def w3_key(event: tuple) -> int:
    return event[0]


def w3_timestamp(event: tuple, record_timestamp: int) -> int:
    return event[1]


class W3Count(AggregateFunction):
    """Counts the events of a window."""

    def create_accumulator(self) -> int:
        return 0

    def add(self, value: tuple, accumulator: int) -> int:
        return accumulator + 1

    def get_result(self, accumulator: int) -> int:
        return accumulator

    def merge(self, acc_a: int, acc_b: int) -> int:
        return acc_a + acc_b


class W3WithWindow(WindowFunction):
    def apply(self, key: int, window: Any, inputs: Any) -> Any:
        yield key, window.start, next(iter(inputs))


class W3CheckingSink(SinkFunction):
    """Checks every window count: each key has 10 events per 1 s window."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0

    def invoke(self, value: tuple, context: Any) -> None:
        key, start, count = value
        if count != w3_expected_count(self.n, key, start):
            raise AssertionError(f"window {start} of key {key}: {count} events")
        self.count += 1

    def close(self) -> None:
        if self.count != w3_windows(self.n):
            raise AssertionError(f"{self.count} window results, expected {w3_windows(self.n)}")


def w3_windows(n: int) -> int:
    return sum(1 for start in range(0, n, W3_WINDOW_MS) for _ in range(min(W3_KEYS, n - start)))


def w3_expected_count(n: int, key: int, start: int) -> int:
    end = min(start + W3_WINDOW_MS, n)
    return len(range(start + (key - start) % W3_KEYS, end, W3_KEYS))


def w3_engine(n: int, parallelism: int = 1) -> Any:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    strategy = (WatermarkStrategy.for_monotonous_timestamps()
                .with_timestamp_assigner(w3_timestamp))
    (env.from_sequence(0, n - 1)
        .map(w3_event)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(w3_key)
        .window(TumblingEventTimeWindows.of(Time.milliseconds(W3_WINDOW_MS)))
        .aggregate(W3Count(), W3WithWindow())
        .add_sink(W3CheckingSink(n)))
    return env.execute("W3 tumbling window")


class _W3Window:
    __slots__ = ("start", "end")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start + W3_WINDOW_MS


def w3_plain(n: int) -> int:
    """The same bucketing by hand, calling the same functions: per event the map, the
    timestamp and key selectors and the aggregate's ``add``; per window the window function,
    as the watermark (the largest timestamp so far minus 1) passes the window's end."""
    sink = W3CheckingSink(n)
    invoke = sink.invoke
    aggregate = W3Count()
    add = aggregate.add
    window_function = W3WithWindow()
    accumulators: Dict[tuple, int] = {}
    pending: Deque[tuple] = deque()  # buckets in creation order (timestamps only grow)
    for i in range(n):
        event = w3_event(i)
        ts = w3_timestamp(event, 0)
        key = w3_key(event)
        bucket = (key, ts - ts % W3_WINDOW_MS)
        accumulator = accumulators.get(bucket)
        if accumulator is None:
            accumulator = aggregate.create_accumulator()
            pending.append(bucket)
        accumulators[bucket] = add(event, accumulator)
        watermark = ts - 1
        while pending and pending[0][1] + W3_WINDOW_MS - 1 <= watermark:
            done = pending.popleft()
            result = aggregate.get_result(accumulators.pop(done))
            for out in window_function.apply(done[0], _W3Window(done[1]), [result]):
                invoke(out, None)
    while pending:
        done = pending.popleft()
        result = aggregate.get_result(accumulators.pop(done))
        for out in window_function.apply(done[0], _W3Window(done[1]), [result]):
            invoke(out, None)
    sink.close()
    return sink.count


# -- W5: keyed state + event-time timers ---------------------------------------------------------

W5_KEYS = 10_000
W5_TIMER_DELAY_MS = 1000
#: how many records the plain loop processes between two watermarks (the engine's come
#: every auto-watermark interval, 200 ms)
W5_PLAIN_WATERMARK_EVERY = 1024


def w5_event(i: int) -> tuple:
    return (i % W5_KEYS, i)


def w5_key(event: tuple) -> int:
    return event[0]


def w5_timestamp(event: tuple, record_timestamp: int) -> int:
    return event[1]  # timestamp = i ms


class W5CountWithTimers(KeyedProcessFunction):
    """Counts per key in a ValueState; an event-time timer 1 s after every event emits
    ``(key, count)``."""

    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value: tuple, ctx: Any) -> Any:
        count = self.count.value()
        self.count.update(1 if count is None else count + 1)
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + W5_TIMER_DELAY_MS)
        return ()

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield ctx.get_current_key(), self.count.value()


class CheckedCountingSink(SinkFunction):
    """Counts records; at close, fails unless it saw exactly ``expected``."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0

    def invoke(self, value: Any, context: Any) -> None:
        self.count += 1

    def close(self) -> None:
        if self.count != self.expected:
            raise AssertionError(f"expected {self.expected} records, got {self.count}")


def w5_engine(n: int, parallelism: int = 1) -> Any:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    strategy = (WatermarkStrategy.for_monotonous_timestamps()
                .with_timestamp_assigner(w5_timestamp))
    (env.from_sequence(0, n - 1)
        .map(w5_event)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(w5_key)
        .process(W5CountWithTimers())
        .add_sink(CheckedCountingSink(n)))
    return env.execute("W5 keyed state + timers")


def w5_plain(n: int) -> int:
    """The same with a dict of counts and a heap of (timestamp, key) timers; the watermark
    (monotonous: the largest timestamp - 1) advances every W5_PLAIN_WATERMARK_EVERY records
    and fires the timers it passes; the end of the input fires the rest."""
    sink = CheckedCountingSink(n)
    invoke = sink.invoke
    counts: Dict[int, int] = {}
    get = counts.get
    timers: list = []
    push, pop = heapq.heappush, heapq.heappop
    every = W5_PLAIN_WATERMARK_EVERY
    for i in range(n):
        event = w5_event(i)
        key = w5_key(event)
        timestamp = w5_timestamp(event, i)
        count = get(key)
        counts[key] = 1 if count is None else count + 1
        push(timers, (timestamp + W5_TIMER_DELAY_MS, key))
        if i % every == every - 1:
            watermark = timestamp - 1
            while timers and timers[0][0] <= watermark:
                _, fired_key = pop(timers)
                invoke((fired_key, counts[fired_key]), None)
    while timers:
        _, fired_key = pop(timers)
        invoke((fired_key, counts[fired_key]), None)
    sink.close()
    return sink.count


# -- W4: word count from a file -----------------------------------------------------------------

def make_words_file(n_words: int, vocabulary: int = 10_000, per_line: int = 10,
                    seed: int = 42) -> tuple:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(vocabulary)]
    counts: Dict[str, int] = {}
    fd, path = tempfile.mkstemp(prefix="flink_py_w4_", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        for start in range(0, n_words, per_line):
            words = [rng.choice(vocab) for _ in range(min(per_line, n_words - start))]
            for w in words:
                counts[w] = counts.get(w, 0) + 1
            f.write(" ".join(words) + "\n")
    return path, counts


def w4_split(line: str) -> list:
    return [(w, 1) for w in line.split()]


def w4_word(t: tuple) -> str:
    return t[0]


def w4_engine(path: str, expected: Dict[str, int], parallelism: int = 1) -> Any:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    (env.read_text_file(path)
        .flat_map(w4_split)
        .key_by(w4_word)
        .sum(1)
        .add_sink(LastPerKeySink(expected)))
    return env.execute("W4 word count")


def w4_plain(path: str, expected: Dict[str, int]) -> Dict[str, int]:
    sink = LastPerKeySink(expected)
    invoke = sink.invoke
    state: Dict[str, tuple] = {}
    get = state.get
    with open(path) as f:
        for line in f:
            for t in w4_split(line.rstrip("\n")):
                k = w4_word(t)
                prev = get(k)
                r = t if prev is None else (prev[0], prev[1] + t[1])
                state[k] = r
                invoke(r, None)
    sink.close()
    return sink.last
