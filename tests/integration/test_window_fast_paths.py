"""The window operator's fast loops give what its general, per-element path gives.

Event-time windows with the default trigger take a loop of their own
(``WindowOperator._process_batch_event_time``), and tumbling windows with an ``aggregate``
on the heap backend a tighter one (``_tumbling_aggregate_into_tables``), which hands the
elements it does not take (late ones, ones without a timestamp) to the general loop. Here the
same out-of-order input, with late elements and a watermark every few elements (so that
buffers hold elements of several windows and keys, and late ones among them), runs through:

* the fast loops (``EventTimeTrigger``, the heap backend);
* the general path: a trigger that behaves as ``EventTimeTrigger`` but is another class, so
  the operator cannot assume what it does and calls it per element;
* the RocksDB backend, whose state is serialized (the fast loop's state goes through the
  state objects there).

Every run must print the same results, in the same order, with the same timestamps and the
same late-data side output.
"""

from __future__ import annotations

import random
from typing import Any, Iterable, List, Optional, Tuple

import pytest

from flink_py.common import Configuration, Types
from flink_py.common.time import Time
from flink_py.common.watermark_strategy import (
    Watermark, WatermarkGenerator, WatermarkOutput, WatermarkStrategy)
from flink_py.datastream import OutputTag, ProcessFunction, StreamExecutionEnvironment
from flink_py.datastream.functions import AggregateFunction, ProcessWindowFunction, SinkFunction
from flink_py.datastream.window import (
    EventTimeTrigger, SlidingEventTimeWindows, TumblingEventTimeWindows)

pytestmark = pytest.mark.timeout(120)


class WatermarkEvery(WatermarkGenerator):
    """Flink's bounded out-of-orderness watermark, emitted after every ``every``-th element:
    deterministic, and the elements between two watermarks travel together."""

    def __init__(self, bound_ms: int, every: int) -> None:
        self.bound_ms = bound_ms
        self.every = every
        self.seen = 0
        self.max_timestamp: Optional[int] = None

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        if self.max_timestamp is None or event_timestamp > self.max_timestamp:
            self.max_timestamp = event_timestamp
        self.seen += 1
        if self.seen % self.every == 0:
            output.emit_watermark(Watermark(self.max_timestamp - self.bound_ms - 1))

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        pass


class SameAsEventTimeTrigger(EventTimeTrigger):
    """EventTimeTrigger's behaviour under another class: the operator's fast loops are for
    EventTimeTrigger itself, so this one takes the general path."""


class CountAndSum(AggregateFunction):
    def create_accumulator(self) -> Tuple[int, int]:
        return 0, 0

    def add(self, value: Tuple[str, int, int], accumulator: Tuple[int, int]) -> Tuple[int, int]:
        return accumulator[0] + 1, accumulator[1] + value[2]

    def get_result(self, accumulator: Tuple[int, int]) -> Tuple[int, int]:
        return accumulator

    def merge(self, a: Tuple[int, int], b: Tuple[int, int]) -> Tuple[int, int]:
        return a[0] + b[0], a[1] + b[1]


class WithWindow(ProcessWindowFunction):
    def process(self, key: Any, context: ProcessWindowFunction.Context,
                elements: Iterable[Any]) -> Iterable[Any]:
        window = context.window()
        for count, total in elements:
            yield key, window.start, window.end, count, total


class WithTimestamp(ProcessFunction):
    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
        yield value, ctx.timestamp()


def out_of_order_events(seed: int, n: int = 3000) -> List[Tuple[str, int, int]]:
    """``(key, timestamp_ms, value)``: time moves forward by 0-9 ms an element, and one element
    in eight is from up to 1.5 s back (late for a watermark bound of 300 ms, often); some
    timestamps are negative."""
    rng = random.Random(seed)
    now = -2000
    data = []
    for i in range(n):
        now += rng.randrange(10)
        timestamp = now - rng.randrange(1500) if rng.randrange(8) == 0 else now
        data.append((f"k{rng.randrange(13)}", timestamp, i))
    return data


def run(data: List[Tuple[str, int, int]], assigner: Any, trigger: Any = None,
        backend: str = "hashmap", lateness_ms: int = 0) -> Tuple[List[Any], List[Any]]:
    env = StreamExecutionEnvironment.get_execution_environment(
        Configuration().set_string("state.backend.type", backend))
    env.set_parallelism(1)
    strategy = (WatermarkStrategy.for_generator(lambda context: WatermarkEvery(300, 7))
                .with_timestamp_assigner(lambda event, record_timestamp: event[1]))
    late = OutputTag("late", Types.PICKLED_BYTE_ARRAY())
    windowed = (env.from_collection(data)
                .assign_timestamps_and_watermarks(strategy)
                .key_by(lambda e: e[0])
                .window(assigner))
    if trigger is not None:
        windowed = windowed.trigger(trigger)
    if lateness_ms:
        windowed = windowed.allowed_lateness(lateness_ms)
    results = (windowed.side_output_late_data(late)
               .aggregate(CountAndSum(), WithWindow()))
    results.process(WithTimestamp()).map(lambda r: ("result", r)).union(
        results.get_side_output(late).map(lambda e: ("late", e))).add_sink(Collected())
    Collected.items = []
    env.execute("window fast paths")
    main = [r for kind, r in Collected.items if kind == "result"]
    late_elements = [r for kind, r in Collected.items if kind == "late"]
    return main, late_elements


class Collected(SinkFunction):
    """A sink into a class-level list (parallelism 1, the in-process MiniCluster)."""

    items: List[Any] = []

    def invoke(self, value: Any, context: Any) -> None:
        Collected.items.append(value)


ASSIGNERS = {
    "tumbling": lambda: TumblingEventTimeWindows.of(Time.milliseconds(250)),
    "tumbling with an offset": lambda: TumblingEventTimeWindows.of(
        Time.milliseconds(250), Time.milliseconds(40)),
    "sliding": lambda: SlidingEventTimeWindows.of(
        Time.milliseconds(300), Time.milliseconds(100)),
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("assigner", sorted(ASSIGNERS))
def test_fast_loops_match_the_general_path_and_rocksdb(assigner, seed):
    data = out_of_order_events(seed)
    general = run(data, ASSIGNERS[assigner](), trigger=SameAsEventTimeTrigger())
    fast = run(data, ASSIGNERS[assigner](), backend="hashmap")
    rocksdb = run(data, ASSIGNERS[assigner](), backend="rocksdb")
    results, late = general
    # the input has what the comparison needs: many windows, and late elements dropped
    assert len(results) > 100 and len(late) > 50
    if assigner.startswith("tumbling"):  # each element is in one window, or late
        assert sum(r[0][3] for r in results) + len(late) == len(data)
    assert fast == general
    assert rocksdb == general


@pytest.mark.parametrize("assigner", ["tumbling", "sliding"])
def test_with_allowed_lateness_the_fast_loop_matches_the_general_path(assigner):
    data = out_of_order_events(3)
    general = run(data, ASSIGNERS[assigner](), trigger=SameAsEventTimeTrigger(),
                  lateness_ms=200)
    fast = run(data, ASSIGNERS[assigner](), backend="hashmap", lateness_ms=200)
    results, late = general
    # late firings happened: some window fired more than once
    fired = [(r[0][0], r[0][1]) for r in results]
    assert len(fired) > len(set(fired)) and late
    assert fast == general
