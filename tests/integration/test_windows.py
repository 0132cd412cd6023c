"""Windows on the MiniCluster, with Flink's outputs.

* event-time tumbling, sliding and session windows over out-of-order input fire once the
  watermark passes their end (``max_timestamp``), with the contents they were assigned; the
  window (its ``[start, end)``) is ``context.window()`` and every result carries the
  timestamp ``window.max_timestamp()``;
* sessions merge when an out-of-order element bridges them (contents, incremental
  accumulators and trigger state merge too);
* allowed lateness: an element of a window that already fired fires it again, with all of
  its contents; once the watermark passes ``max_timestamp + lateness`` the window is gone
  and its elements are dropped, or emitted to the late-data side output;
* count windows follow the Python API: only full windows fire;
* ``reduce`` / ``aggregate`` keep one value per key and window; a ProcessWindowFunction
  given alongside gets that single value;
* evictors see the pane as ``TimestampedValue``s and what they leave is kept;
* processing-time windows fire by the wall clock on an unbounded source;
* ``window_all`` runs at parallelism 1; window joins and co-groups;
* bad programs fail when they are defined.

Deterministic watermarks come from a punctuated generator (Flink's bounded out-of-orderness
watermark, emitted after every element): a watermark then follows exactly the records before
it, so which element is late does not depend on timing.
"""

from __future__ import annotations

import doctest
import inspect
import threading
import time
from typing import Any, Iterable, List, Optional, Tuple

import pytest

from flink_py.common import Types
from flink_py.common.time import Duration, Time
from flink_py.common.watermark_strategy import (
    Watermark, WatermarkGenerator, WatermarkOutput, WatermarkStrategy)
from flink_py.datastream import (
    AllWindowedStream, OutputTag, ProcessFunction, RuntimeContext, SourceFunction,
    StreamExecutionEnvironment, WindowedStream)
from flink_py.datastream.functions import (
    AggregateFunction, AllWindowFunction, CoGroupFunction, FlatJoinFunction, JoinFunction,
    ProcessAllWindowFunction, ProcessWindowFunction, ReduceFunction, WindowFunction)
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.datastream.window import (
    ContinuousEventTimeTrigger, CountEvictor, CountTrigger, DeltaEvictor, EventTimeSessionWindows,
    GlobalWindows, NeverTrigger, ProcessingTimeSessionWindows, PurgingTrigger,
    SlidingEventTimeWindows, TimeEvictor,
    TimestampedValue, TimeWindow, TumblingEventTimeWindows, TumblingProcessingTimeWindows)
from flink_py.errors import InvalidProgramError, JobExecutionError

pytestmark = pytest.mark.timeout(60)

MAX_TIMESTAMP = 2 ** 63 - 1


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


class PunctuatedOutOfOrderness(WatermarkGenerator):
    """Flink's bounded out-of-orderness watermark (``max_timestamp - bound - 1``), emitted
    after every element instead of periodically."""

    def __init__(self, bound_ms: int) -> None:
        self.bound_ms = bound_ms
        self.max_timestamp: Optional[int] = None

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        if self.max_timestamp is None or event_timestamp > self.max_timestamp:
            self.max_timestamp = event_timestamp
        output.emit_watermark(Watermark(self.max_timestamp - self.bound_ms - 1))

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        pass


def events(env: StreamExecutionEnvironment, data: List[Tuple[Any, int]],
           bound_ms: Optional[int] = 0) -> Any:
    """``(key, timestamp_ms, ...)`` records with their timestamps and punctuated bounded
    out-of-orderness watermarks."""
    strategy = WatermarkStrategy.for_generator(lambda context: PunctuatedOutOfOrderness(bound_ms))
    return env.from_collection(data).assign_timestamps_and_watermarks(
        strategy.with_timestamp_assigner(lambda event, record_timestamp: event[1]))


def periodic_events(env: StreamExecutionEnvironment, data: List[Tuple[Any, int]],
                    bound: Duration) -> Any:
    """The same with Flink's periodic watermarks: when they come depends on timing, so only
    for input that is never late."""
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(bound)
    return env.from_collection(data).assign_timestamps_and_watermarks(
        strategy.with_timestamp_assigner(lambda event, record_timestamp: event[1]))


class WithTimestamp(ProcessFunction):
    """Pairs every record with its timestamp."""

    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
        yield value, ctx.timestamp()


class WindowContents(ProcessWindowFunction):
    """``(key, start, end, [timestamps of the elements])``."""

    def process(self, key: Any, context: ProcessWindowFunction.Context,
                elements: Iterable[Any]) -> Iterable[Any]:
        window = context.window()
        yield key, window.start, window.end, [e[1] for e in elements]


def collect(ds: Any) -> List[Any]:
    return list(ds.execute_and_collect())


# -- event time: tumbling, sliding, sessions -------------------------------------------------------

# Out of order by up to 3 s: in time for a bounded-out-of-orderness watermark of 3 s.
OUT_OF_ORDER = [("a", 1000), ("b", 1500), ("a", 3000), ("a", 500), ("b", 6000),
                ("a", 4999), ("a", 5000), ("b", 3500), ("a", 12000), ("a", 9000),
                ("b", 11000), ("b", 8500)]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_tumbling_event_time_windows_over_out_of_order_input(parallelism):
    env = new_env(parallelism)
    windowed = (periodic_events(env, OUT_OF_ORDER, Duration.of_seconds(3))
                .key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(Time.seconds(5)))
                .process(WindowContents()))
    results = collect(windowed.process(WithTimestamp()))
    assert sorted(results) == [
        (("a", 0, 5000, [1000, 3000, 500, 4999]), 4999),
        (("a", 5000, 10000, [5000, 9000]), 9999),
        (("a", 10000, 15000, [12000]), 14999),
        (("b", 0, 5000, [1500, 3500]), 4999),
        (("b", 5000, 10000, [6000, 8500]), 9999),
        (("b", 10000, 15000, [11000]), 14999),
    ]


def test_tumbling_windows_fire_in_watermark_order_with_the_window_end_as_timestamp():
    env = new_env()
    windowed = (events(env, OUT_OF_ORDER, bound_ms=3000).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000)).process(WindowContents()))
    fired = collect(windowed.process(WithTimestamp()))
    # windows fire in timestamp order; the order of equal timestamps (windows of both keys
    # ending together) is the timer heap's, tested in tests/unit/runtime/test_timer_queue.py
    assert [timestamp for _, timestamp in fired] == [4999, 4999, 9999, 9999, 14999, 14999]
    assert sorted(fired) == sorted([
        # after ("a", 12000) the watermark 12000 - 3001 = 8999 passes 4999
        (("a", 0, 5000, [1000, 3000, 500, 4999]), 4999),
        (("b", 0, 5000, [1500, 3500]), 4999),
        # the final watermark fires the rest
        (("b", 5000, 10000, [6000, 8500]), 9999),
        (("a", 5000, 10000, [5000, 9000]), 9999),
        (("a", 10000, 15000, [12000]), 14999),
        (("b", 10000, 15000, [11000]), 14999),
    ])


def test_an_allowed_lateness_reaching_past_the_end_of_time_registers_no_cleanup_timer():
    # max timestamp + lateness overflows a Java long: Flink's cleanup time is then
    # Long.MAX_VALUE, for which it registers no timer (the window's state stays)
    env = new_env()
    windowed = (events(env, [("a", 1000), ("a", 2500), ("a", 7000)]).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(Time.seconds(5)))
                .allowed_lateness(2 ** 63 - 2)
                .process(WindowContents()))
    assert collect(windowed) == [("a", 0, 5000, [1000, 2500]), ("a", 5000, 10000, [7000])]


def test_tumbling_windows_with_an_offset():
    env = new_env()
    windowed = (events(env, [("a", 1000), ("a", 2500), ("a", 7000)]).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(Time.seconds(5), Time.seconds(2)))
                .process(WindowContents()))
    assert collect(windowed) == [("a", -3000, 2000, [1000]), ("a", 2000, 7000, [2500]),
                                 ("a", 7000, 12000, [7000])]


def test_sliding_event_time_windows():
    env = new_env()
    data = [("a", 1000), ("a", 4000), ("a", 6000), ("b", 2000), ("a", 3000)]
    windowed = (periodic_events(env, data, Duration.of_seconds(5)).key_by(lambda e: e[0])
                .window(SlidingEventTimeWindows.of(Time.seconds(5), Time.milliseconds(2500)))
                .process(WindowContents()))
    assert sorted(collect(windowed)) == [
        ("a", -2500, 2500, [1000]),
        ("a", 0, 5000, [1000, 4000, 3000]),
        ("a", 2500, 7500, [4000, 6000, 3000]),
        ("a", 5000, 10000, [6000]),
        ("b", -2500, 2500, [2000]),
        ("b", 0, 5000, [2000]),
    ]


def test_session_windows_merge_when_an_out_of_order_element_bridges_them():
    env = new_env()
    # gap 3 s: a@1000 and a@5000 are two sessions until a@3500 arrives (in time: bound 2 s)
    data = [("a", 1000), ("a", 5000), ("b", 5500), ("a", 3500), ("a", 20000), ("b", 9000)]
    windowed = (events(env, data, bound_ms=2000).key_by(lambda e: e[0])
                .window(EventTimeSessionWindows.with_gap(Time.seconds(3)))
                .process(WindowContents()))
    assert collect(windowed.process(WithTimestamp())) == [
        # watermark 20000 - 2001 passes the merged session [1000, 8000) and b's [5500, 8500)
        (("a", 1000, 8000, [1000, 5000, 3500]), 7999),
        (("b", 5500, 8500, [5500]), 8499),
        # ("b", 9000) came too late for its session [9000, 12000): dropped
        (("a", 20000, 23000, [20000]), 22999),
    ]


class Average(AggregateFunction):
    def create_accumulator(self) -> Tuple[int, int]:
        return 0, 0

    def add(self, value: Any, accumulator: Tuple[int, int]) -> Tuple[int, int]:
        return accumulator[0] + value[2], accumulator[1] + 1

    def get_result(self, accumulator: Tuple[int, int]) -> float:
        return accumulator[0] / accumulator[1]

    def merge(self, a: Tuple[int, int], b: Tuple[int, int]) -> Tuple[int, int]:
        return a[0] + b[0], a[1] + b[1]


class Described(ProcessWindowFunction):
    """``(key, start, end, the incremental result)``; there is exactly one element."""

    def process(self, key: Any, context: ProcessWindowFunction.Context,
                elements: Iterable[Any]) -> Iterable[Any]:
        (result,) = elements
        yield key, context.window().start, context.window().end, result


def test_session_windows_merge_accumulators_of_an_aggregate():
    env = new_env()
    data = [("a", 1000, 10), ("a", 5000, 20), ("a", 3500, 60), ("a", 30000, 7)]
    windowed = (events(env, data, bound_ms=2000).key_by(lambda e: e[0])
                .window(EventTimeSessionWindows.with_gap(3000))
                .aggregate(Average(), Described(), accumulator_type=Types.TUPLE(
                    [Types.LONG(), Types.LONG()]), output_type=Types.PICKLED_BYTE_ARRAY()))
    assert collect(windowed) == [("a", 1000, 8000, 30.0), ("a", 30000, 33000, 7.0)]


def test_session_windows_with_a_count_trigger_merge_the_trigger_state():
    env = new_env()
    # CountTrigger.of(3): the count of the merged sessions is the sum of theirs
    data = [("a", 1000), ("a", 5000), ("a", 3500), ("a", 4000)]
    windowed = (events(env, data, bound_ms=10000).key_by(lambda e: e[0])
                .window(EventTimeSessionWindows.with_gap(3000))
                .trigger(CountTrigger.of(3)).process(WindowContents()))
    assert collect(windowed) == [("a", 1000, 8000, [1000, 5000, 3500])]


# -- incremental aggregation -----------------------------------------------------------------------


def test_reduce_emits_the_reduced_value_with_the_input_type():
    env = new_env()
    data = [("a", 1000, 1), ("a", 2000, 2), ("b", 3000, 5), ("a", 7000, 4)]
    source = events(env, data)
    windowed = (source.key_by(lambda e: e[0]).window(TumblingEventTimeWindows.of(5000))
                .reduce(lambda x, y: (x[0], max(x[1], y[1]), x[2] + y[2])))
    assert windowed.get_type() == source.get_type()
    assert collect(windowed.process(WithTimestamp())) == [
        (("a", 2000, 3), 4999), (("b", 3000, 5), 4999), (("a", 7000, 4), 9999)]


class Sum(ReduceFunction):
    def reduce(self, value1: Any, value2: Any) -> Any:
        return value1[0], value1[1], value1[2] + value2[2]


def test_reduce_with_a_process_window_function_and_a_window_function():
    env = new_env()
    data = [("a", 1000, 1), ("a", 2000, 2), ("b", 3000, 5), ("a", 7000, 4)]
    keyed = events(env, data).key_by(lambda e: e[0])
    described = keyed.window(TumblingEventTimeWindows.of(5000)).reduce(Sum(), Described())
    assert collect(described) == [("a", 0, 5000, ("a", 1000, 3)), ("b", 0, 5000, ("b", 3000, 5)),
                                  ("a", 5000, 10000, ("a", 7000, 4))]

    class KeyAndEnd(WindowFunction):
        def apply(self, key: Any, window: TimeWindow, inputs: Iterable[Any]) -> Iterable[Any]:
            for value in inputs:
                yield key, window.end, value[2]

    env = new_env()
    applied = (events(env, data).key_by(lambda e: e[0])
               .window(TumblingEventTimeWindows.of(5000)).reduce(Sum(), KeyAndEnd()))
    assert collect(applied) == [("a", 5000, 3), ("b", 5000, 5), ("a", 10000, 4)]


def test_aggregate_without_a_window_function():
    env = new_env()
    data = [("a", 1000, 1), ("a", 2000, 2), ("a", 7000, 4)]
    averages = (events(env, data).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000))
                .aggregate(Average(), output_type=Types.DOUBLE()))
    assert averages.get_type() == Types.DOUBLE()
    assert collect(averages) == [1.5, 4.0]


# -- allowed lateness and late data ----------------------------------------------------------------

LATE = [("k", 1000), ("k", 2000), ("k", 6000),  # watermark 5999: [0, 5000) fires
        ("k", 3000),  # late, within the lateness of 2 s: [0, 5000) fires again
        ("k", 7000),  # watermark 6999 = 4999 + 2000: [0, 5000) is cleaned up
        ("k", 4000),  # too late: dropped or to the side output
        ("k", 9999)]


@pytest.mark.parametrize("with_side_output", [False, True])
def test_allowed_lateness_fires_again_then_drops(with_side_output):
    env = new_env()
    late_tag = OutputTag("late")
    windowed = (events(env, LATE).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000)).allowed_lateness(Time.seconds(2)))
    if with_side_output:
        windowed = windowed.side_output_late_data(late_tag)
    main = windowed.process(WindowContents())
    if not with_side_output:
        assert collect(main.process(WithTimestamp())) == [
            (("k", 0, 5000, [1000, 2000]), 4999),
            (("k", 0, 5000, [1000, 2000, 3000]), 4999),  # the late firing
            (("k", 5000, 10000, [6000, 7000, 9999]), 9999),
        ]
        return
    late = main.get_side_output(late_tag)
    results = collect(main.map(lambda v: ("main", v)).union(
        late.process(WithTimestamp()).map(lambda v: ("late", v))))
    assert [v for kind, v in results if kind == "main"] == [
        ("k", 0, 5000, [1000, 2000]), ("k", 0, 5000, [1000, 2000, 3000]),
        ("k", 5000, 10000, [6000, 7000, 9999])]
    # the late element keeps its own timestamp
    assert [v for kind, v in results if kind == "late"] == [(("k", 4000), 4000)]


def test_without_allowed_lateness_an_element_of_a_fired_window_is_late():
    env = new_env()
    late_tag = OutputTag("late")
    data = [("k", 1000), ("k", 5000), ("k", 4999), ("k", 5001)]
    main = (events(env, data).key_by(lambda e: e[0])
            .window(TumblingEventTimeWindows.of(5000)).side_output_late_data(late_tag)
            .process(WindowContents()))
    results = collect(main.map(lambda v: ("main", v)).union(
        main.get_side_output(late_tag).map(lambda v: ("late", v))))
    assert sorted(results) == [("late", ("k", 4999)),
                               ("main", ("k", 0, 5000, [1000])),
                               ("main", ("k", 5000, 10000, [5000, 5001]))]


def test_a_sliding_element_is_late_only_when_all_its_windows_are():
    env = new_env()
    late_tag = OutputTag("late")
    # 6000 - 1 = 5999 closes [0, 5000) but not [2500, 7500): 4000 still counts there
    data = [("k", 1000), ("k", 6000), ("k", 4000), ("k", 9000), ("k", 2000)]
    main = (events(env, data).key_by(lambda e: e[0])
            .window(SlidingEventTimeWindows.of(5000, 2500)).side_output_late_data(late_tag)
            .process(WindowContents()))
    results = collect(main.map(lambda v: ("main", v)).union(
        main.get_side_output(late_tag).map(lambda v: ("late", v))))
    assert sorted(results) == [
        ("late", ("k", 2000)),
        ("main", ("k", -2500, 2500, [1000])),
        ("main", ("k", 0, 5000, [1000])),
        ("main", ("k", 2500, 7500, [6000, 4000])),
        ("main", ("k", 5000, 10000, [6000, 9000])),
        ("main", ("k", 7500, 12500, [9000])),
    ]


class FiringCounts(ProcessWindowFunction):
    """Per-window state counts the firings of a window, global state the windows cleared."""

    fired = ValueStateDescriptor("fired", Types.INT())
    cleared = ValueStateDescriptor("cleared", Types.INT())

    def process(self, key: Any, context: ProcessWindowFunction.Context,
                elements: Iterable[Any]) -> Iterable[Any]:
        fired = context.window_state().get_state(self.fired)
        fired.update((fired.value() or 0) + 1)
        cleared = context.global_state().get_state(self.cleared).value() or 0
        yield context.window().start, fired.value(), cleared, len(list(elements))

    def clear(self, context: ProcessWindowFunction.Context) -> None:
        context.window_state().get_state(self.fired).clear()
        cleared = context.global_state().get_state(self.cleared)
        cleared.update((cleared.value() or 0) + 1)


def test_window_state_global_state_and_clear():
    env = new_env()
    windowed = (events(env, LATE).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000)).allowed_lateness(2000)
                .process(FiringCounts()))
    assert collect(windowed) == [
        (0, 1, 0, 2),
        (0, 2, 0, 3),  # the late firing sees the window's own state
        (5000, 1, 1, 3),  # [0, 5000) was cleared (clear() ran) before [5000, 10000) fired
    ]


def test_late_elements_of_session_windows():
    env = new_env()
    late_tag = OutputTag("late")
    data = [("a", 1000), ("a", 10000), ("a", 2000), ("a", 9000)]
    main = (events(env, data).key_by(lambda e: e[0])
            .window(EventTimeSessionWindows.with_gap(3000)).side_output_late_data(late_tag)
            .process(WindowContents()))
    results = collect(main.map(lambda v: ("main", v)).union(
        main.get_side_output(late_tag).map(lambda v: ("late", v))))
    # 2000 is late (its session [2000, 5000) ended before the watermark 9999); 9000 joins
    # the open session [10000, 13000)
    assert sorted(results) == [("late", ("a", 2000)),
                               ("main", ("a", 1000, 4000, [1000])),
                               ("main", ("a", 9000, 13000, [10000, 9000]))]


# -- count windows and global windows --------------------------------------------------------------


def test_tumbling_count_windows_fire_only_when_full():
    env = new_env()
    data = [("a", i) for i in range(7)] + [("b", 100), ("b", 101)]
    windowed = (env.from_collection(data).key_by(lambda e: e[0]).count_window(3)
                .apply(lambda key, window, inputs: [(key, window.id, [e[1] for e in inputs])]))
    assert collect(windowed.process(WithTimestamp())) == [
        (("a", 0, [0, 1, 2]), MAX_TIMESTAMP), (("a", 1, [3, 4, 5]), MAX_TIMESTAMP)]


@pytest.mark.parametrize("size, slide, expected", [
    (3, 1, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]),
    (4, 2, [[0, 1, 2, 3], [2, 3, 4, 5]]),
    (2, 3, [[0, 1], [3, 4]]),  # slide > size: elements 2 and 5 are in no window
])
def test_sliding_count_windows_follow_the_python_api(size, slide, expected):
    env = new_env()
    data = [("a", i) for i in range(6)]
    windowed = (env.from_collection(data).key_by(lambda e: e[0]).count_window(size, slide)
                .process(lambda key, context, elements: [[e[1] for e in elements]]))
    assert collect(windowed) == expected


def test_count_windows_per_key_at_parallelism_2():
    env = new_env(2)
    data = [(f"k{i % 4}", i) for i in range(20)]
    sums = (env.from_collection(data).key_by(lambda e: e[0]).count_window(2)
            .reduce(lambda a, b: (a[0], a[1] + b[1])))
    assert sorted(collect(sums)) == sorted(
        (f"k{k}", (k + 8 * n) + (k + 8 * n + 4)) for k in range(4) for n in range(3)
        if k + 8 * n + 4 < 20)


def test_global_windows_with_a_purging_count_trigger_and_a_count_evictor():
    env = new_env()
    data = [("a", i) for i in range(1, 8)]
    # Java's countWindow(3, 2): fire every 2 elements on the last 3
    windowed = (env.from_collection(data).key_by(lambda e: e[0]).window(GlobalWindows.create())
                .trigger(CountTrigger.of(2)).evictor(CountEvictor.of(3))
                .apply(lambda key, window, inputs: [[e[1] for e in inputs]]))
    assert collect(windowed) == [[1, 2], [2, 3, 4], [4, 5, 6]]
    env = new_env()
    purged = (env.from_collection(data).key_by(lambda e: e[0]).window(GlobalWindows.create())
              .trigger(PurgingTrigger.of(CountTrigger.of(3)))
              .process(lambda key, context, elements: [
                  (repr(context.window()), [e[1] for e in elements])]))
    assert collect(purged) == [("GlobalWindow", [1, 2, 3]), ("GlobalWindow", [4, 5, 6])]


def test_global_windows_without_a_trigger_never_fire():
    env = new_env()
    windowed = (env.from_collection([("a", 1)]).key_by(lambda e: e[0])
                .window(GlobalWindows.create()).apply(lambda k, w, xs: [xs]))
    assert collect(windowed) == []


def test_a_trigger_with_partitioned_state_and_timers_fires_early():
    env = new_env()
    # ContinuousEventTimeTrigger: fires every 2 s of event time (its next firing time is
    # trigger state of the window), and at the window's end
    data = [("a", 500), ("a", 2500), ("a", 4500), ("a", 9000)]
    windowed = (events(env, data).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(10000))
                .trigger(ContinuousEventTimeTrigger.of(Time.seconds(2)))
                .process(WindowContents()))
    assert collect(windowed) == [
        ("a", 0, 10000, [500, 2500]),  # watermark 2499: the 2000 timer
        ("a", 0, 10000, [500, 2500, 4500]),  # 4499: 4000
        ("a", 0, 10000, [500, 2500, 4500, 9000]),  # 8999: 6000, then 8000
        ("a", 0, 10000, [500, 2500, 4500, 9000]),
        ("a", 0, 10000, [500, 2500, 4500, 9000]),  # the final watermark: the window's end
    ]


# -- evictors -------------------------------------------------------------------------------------


class RecordingEvictor(CountEvictor):
    """A CountEvictor that also checks what it is given."""

    def evict_before(self, elements: List[TimestampedValue], size: int, window: Any,
                     evictor_context: Any) -> None:
        assert size == len(elements)
        assert all(isinstance(e, TimestampedValue) and e.get_timestamp() == e.value[1]
                   for e in elements)
        assert evictor_context.get_current_watermark() >= window.max_timestamp()
        super().evict_before(elements, size, window, evictor_context)


def test_evictors_on_time_windows():
    data = [("a", 1000, 1), ("a", 2000, 2), ("a", 3000, 3), ("a", 4500, 4), ("a", 6000, 5)]
    env = new_env()
    last_two = (events(env, data).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000)).evictor(RecordingEvictor(2))
                .process(WindowContents()))
    assert collect(last_two) == [("a", 0, 5000, [3000, 4500]), ("a", 5000, 10000, [6000])]
    env = new_env()
    # keeps the elements of the last 2 s of the pane (timestamps > 4500 - 2000)
    recent = (events(env, data).key_by(lambda e: e[0])
              .window(TumblingEventTimeWindows.of(5000)).evictor(TimeEvictor.of(Time.seconds(2)))
              .process(WindowContents()))
    assert collect(recent) == [("a", 0, 5000, [3000, 4500]), ("a", 5000, 10000, [6000])]
    env = new_env()
    # reduce over what the evictor left; DeltaEvictor: keep values within 2 of the last
    reduced = (events(env, data).key_by(lambda e: e[0])
               .window(TumblingEventTimeWindows.of(5000))
               .evictor(DeltaEvictor.of(2, lambda old, new: abs(new[2] - old[2])))
               .reduce(lambda x, y: (x[0], y[1], x[2] + y[2])))
    assert collect(reduced) == [("a", 4500, 3 + 4), ("a", 6000, 5)]


def test_evict_after_changes_what_later_firings_see():
    env = new_env()
    data = [("a", i) for i in range(1, 7)]
    # fires every 2 elements; after each firing only the last element stays
    windowed = (env.from_collection(data).key_by(lambda e: e[0]).window(GlobalWindows.create())
                .trigger(CountTrigger.of(2)).evictor(CountEvictor.of(1, do_evict_after=True))
                .apply(lambda key, window, inputs: [[e[1] for e in inputs]]))
    assert collect(windowed) == [[1, 2], [2, 3, 4], [4, 5, 6]]


# -- processing time ------------------------------------------------------------------------------


class RecordsThenUntilCancelled(SourceFunction):
    """Emits the given records, then runs until cancelled (an unbounded source)."""

    def __init__(self, records: List[Any]) -> None:
        self.records = records

    def open(self, runtime_context: RuntimeContext) -> None:
        self.cancelled = threading.Event()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for record in self.records:
            ctx.collect(record)
        self.cancelled.wait(60)

    def cancel(self) -> None:
        self.cancelled.set()


class ProcessingTimeContents(ProcessWindowFunction):
    def process(self, key: Any, context: ProcessWindowFunction.Context,
                elements: Iterable[Any]) -> Iterable[Any]:
        window = context.window()
        yield (key, window.end - window.start, len(list(elements)),
               context.current_processing_time() >= window.max_timestamp())


def test_processing_time_windows_fire_by_the_wall_clock_on_an_unbounded_source():
    env = new_env()
    records = ["a", "b", "a", "c", "a"]
    windowed = (env.add_source(RecordsThenUntilCancelled(records)).key_by(lambda x: x)
                .window(TumblingProcessingTimeWindows.of(Time.milliseconds(100)))
                .process(ProcessingTimeContents()))
    started = time.monotonic()
    counts: dict = {}
    with windowed.process(WithTimestamp()).execute_and_collect() as results:
        for (key, size, count, due), timestamp in results:
            assert size == 100 and due and timestamp % 100 == 99
            counts[key] = counts.get(key, 0) + count
            if sum(counts.values()) == len(records):
                break
    assert counts == {"a": 3, "b": 1, "c": 1}
    assert time.monotonic() - started < 10


def test_processing_time_sessions_merge_and_fire_after_the_gap():
    env = new_env()
    records = [("a", 1), ("b", 2), ("a", 3), ("a", 4)]
    windowed = (env.add_source(RecordsThenUntilCancelled(records)).key_by(lambda r: r[0])
                .window(ProcessingTimeSessionWindows.with_gap(Time.milliseconds(500)))
                .reduce(lambda x, y: (x[0], x[1] + y[1])))
    started = time.monotonic()
    results = []
    with windowed.execute_and_collect() as outputs:
        for output in outputs:
            results.append(output)
            if len(results) == 2:
                break
    # emitted within a few ms of each other, each key's records are one session
    assert sorted(results) == [("a", 8), ("b", 2)]
    assert time.monotonic() - started < 10


# -- window_all ---------------------------------------------------------------------------------


def test_window_all_runs_at_parallelism_1():
    env = new_env(2)
    data = [(f"k{i}", i * 1000) for i in range(12)]
    windowed = (events(env, data).window_all(TumblingEventTimeWindows.of(5000))
                .process(WindowAllContents()))
    assert windowed.get_name() == "TumblingEventTimeWindows"
    with pytest.raises(InvalidProgramError, match="non-parallel"):
        windowed.set_parallelism(2)
    assert collect(windowed) == [(0, 5000, 5), (5000, 10000, 5), (10000, 15000, 2)]


class WindowAllContents(ProcessAllWindowFunction):
    def process(self, context: ProcessAllWindowFunction.Context,
                elements: Iterable[Any]) -> Iterable[Any]:
        yield context.window().start, context.window().end, len(list(elements))


def test_window_all_reduce_aggregate_apply_and_count_window_all():
    data = [("x", 1000, 1), ("y", 2000, 2), ("z", 7000, 4)]
    env = new_env(2)
    assert collect(events(env, data).window_all(TumblingEventTimeWindows.of(5000))
                   .reduce(lambda a, b: ("sum", a[1], a[2] + b[2]))) == [
        ("sum", 1000, 3), ("z", 7000, 4)]

    class EndAndValue(AllWindowFunction):
        def apply(self, window: TimeWindow, inputs: Iterable[Any]) -> Iterable[Any]:
            return [(window.end, v) for v in inputs]

    env = new_env(2)
    assert collect(events(env, data).window_all(TumblingEventTimeWindows.of(5000))
                   .aggregate(Average(), EndAndValue())) == [(5000, 1.5), (10000, 4.0)]
    env = new_env(2)
    assert collect(env.from_collection(list(range(7))).count_window_all(3)
                   .apply(lambda window, inputs: [sum(inputs)])) == [3, 12]
    env = new_env(2)
    assert collect(env.from_collection(list(range(5))).count_window_all(2, 1)
                   .apply(lambda window, inputs: [list(inputs)])) == [
        [0, 1], [1, 2], [2, 3], [3, 4]]


# -- side outputs, names, joins -----------------------------------------------------------------


def test_a_process_window_function_yields_side_outputs():
    env = new_env()
    small = OutputTag("small")

    class Split(ProcessWindowFunction):
        def process(self, key: Any, context: Any, elements: Iterable[Any]) -> Iterable[Any]:
            elements = list(elements)
            if len(elements) < 2:
                yield small, (key, len(elements))
            else:
                yield key, len(elements)

    data = [("a", 1000), ("a", 2000), ("b", 3000)]
    main = (events(env, data).key_by(lambda e: e[0]).window(TumblingEventTimeWindows.of(5000))
            .process(Split()))
    results = collect(main.map(lambda v: ("main", v)).union(
        main.get_side_output(small).process(WithTimestamp()).map(lambda v: ("small", v))))
    assert sorted(results) == [("main", ("a", 2)), ("small", (("b", 1), 4999))]


def test_operator_name_and_description_are_flinks():
    env = new_env()
    keyed = env.from_collection([("a", 1)]).key_by(lambda e: e[0])
    reduced = keyed.window(TumblingEventTimeWindows.of(5000)).reduce(Sum())
    assert reduced.get_name() == "TumblingEventTimeWindows"
    assert reduced._transformation.description == (
        "Window(TumblingEventTimeWindows(5000, 0), EventTimeTrigger, Sum)")
    evicted = (keyed.window(EventTimeSessionWindows.with_gap(10)).evictor(CountEvictor.of(1))
               .reduce(Sum(), Described()))
    assert evicted._transformation.description == (
        "Window(EventTimeSessionWindows(10), EventTimeTrigger, CountEvictor, Sum, Described)")
    counted = env.from_collection([1]).count_window_all(5).apply(lambda w, xs: xs)
    assert counted.get_name() == "CountTumblingWindowAssigner"
    assert counted._transformation.description == (
        "AllWindow(CountTumblingWindowAssigner(5), PurgingTrigger, <lambda>)")


ORDERS = [("o1", 1000, "u1"), ("o2", 2000, "u2"), ("o3", 6000, "u1"), ("o4", 7000, "u3")]
VISITS = [("u1", 500), ("u1", 4000), ("u2", 5500), ("u1", 8000), ("u3", 9000)]


def test_window_join_pairs_elements_of_equal_keys_in_the_same_window():
    env = new_env(2)
    orders = events(env, ORDERS)
    visits = events(env, VISITS)

    class OrderVisit(JoinFunction):
        def join(self, first: Any, second: Any) -> Any:
            return first[0], second[0], second[1]

    joined = (orders.join(visits).where(lambda o: o[2]).equal_to(lambda v: v[0])
              .window(TumblingEventTimeWindows.of(5000)).apply(OrderVisit()))
    assert sorted(collect(joined)) == [
        ("o1", "u1", 500), ("o1", "u1", 4000), ("o3", "u1", 8000), ("o4", "u3", 9000)]

    class Both(FlatJoinFunction):
        def join(self, first: Any, second: Any) -> Iterable[Any]:
            yield first[0]
            yield second[1]

    env = new_env()
    flat = (events(env, ORDERS).join(events(env, VISITS)).where(2).equal_to(0)
            .window(TumblingEventTimeWindows.of(5000)).apply(Both()))
    assert sorted(collect(flat), key=str) == sorted(
        ["o1", 500, "o1", 4000, "o3", 8000, "o4", 9000], key=str)


def test_window_co_group_gets_both_sides_even_when_one_is_empty():
    env = new_env()

    class Count(CoGroupFunction):
        def co_group(self, first: Iterable[Any], second: Iterable[Any]) -> Iterable[Any]:
            first, second = list(first), list(second)
            key = (first or second)[0][2 if first else 0]
            yield key, [o[0] for o in first], [v[1] for v in second]

    grouped = (events(env, ORDERS).co_group(events(env, VISITS))
               .where(lambda o: o[2]).equal_to(lambda v: v[0])
               .window(TumblingEventTimeWindows.of(5000)).apply(Count()))
    assert sorted(collect(grouped)) == [
        ("u1", ["o1"], [500, 4000]), ("u1", ["o3"], [8000]), ("u2", [], [5500]),
        ("u2", ["o2"], []), ("u3", ["o4"], [9000])]


# -- PyFlink's API ---------------------------------------------------------------------------------

# PyFlink 2.3's public methods of WindowedStream and AllWindowedStream, with their parameters.
PYFLINK_WINDOWED_STREAM = {
    "get_execution_environment": [],
    "get_input_type": [],
    "trigger": ["trigger"],
    "allowed_lateness": ["time_ms"],
    "side_output_late_data": ["output_tag"],
    "reduce": ["reduce_function", "window_function", "output_type"],
    "aggregate": ["aggregate_function", "window_function", "accumulator_type", "output_type"],
    "apply": ["window_function", "output_type"],
    "process": ["process_window_function", "output_type"],
}


@pytest.mark.parametrize("cls", [WindowedStream, AllWindowedStream])
def test_windowed_streams_have_pyflinks_methods_and_parameters(cls):
    for name, parameters in PYFLINK_WINDOWED_STREAM.items():
        method = getattr(cls, name)
        ours = [p for p in inspect.signature(method).parameters if p != "self"]
        assert ours == parameters, name


def test_process_window_function_context_has_pyflinks_methods():
    for name in ("window", "current_processing_time", "current_watermark", "window_state",
                 "global_state"):
        assert callable(getattr(ProcessWindowFunction.Context, name))
    assert list(inspect.signature(ProcessWindowFunction.process).parameters) == [
        "self", "key", "context", "elements"]
    assert list(inspect.signature(WindowFunction.apply).parameters) == [
        "self", "key", "window", "inputs"]


def test_docstring_examples_of_the_window_api():
    from flink_py.datastream import windowed_stream
    result = doctest.testmod(windowed_stream, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# -- bad programs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make, match", [
    (lambda: TumblingEventTimeWindows.of(-5000), "size"),
    (lambda: TumblingEventTimeWindows.of(Time.seconds(5), Time.seconds(5)), "offset"),
    (lambda: SlidingEventTimeWindows.of(5000, 0), "slide"),
    (lambda: EventTimeSessionWindows.with_gap(0), "gap"),
])
def test_bad_assigners_fail_when_defined(make, match):
    with pytest.raises(InvalidProgramError, match=match):
        make()


def test_bad_window_programs_fail_when_defined():
    env = new_env()
    keyed = env.from_collection([("a", 1)]).key_by(lambda e: e[0])
    tumbling = TumblingEventTimeWindows.of(5000)
    with pytest.raises(InvalidProgramError, match="WindowAssigner"):
        keyed.window("5 seconds")
    with pytest.raises(InvalidProgramError, match="instance"):
        keyed.window(TumblingEventTimeWindows)
    with pytest.raises(InvalidProgramError, match="must be > 0"):
        keyed.count_window(0)
    with pytest.raises(InvalidProgramError, match="must be > 0"):
        keyed.count_window(-3)
    with pytest.raises(InvalidProgramError, match="slide"):
        keyed.count_window(3, -1)
    with pytest.raises(InvalidProgramError, match="cannot be negative"):
        keyed.window(tumbling).allowed_lateness(-1)
    with pytest.raises(InvalidProgramError, match="allowed_lateness"):
        keyed.window(tumbling).allowed_lateness("1s")
    with pytest.raises(InvalidProgramError, match="merging"):
        keyed.window(EventTimeSessionWindows.with_gap(10)).trigger(NeverTrigger())
    with pytest.raises(InvalidProgramError, match="Trigger"):
        keyed.window(tumbling).trigger(lambda: None)
    with pytest.raises(InvalidProgramError, match="Evictor"):
        keyed.window(tumbling).evictor(3)
    with pytest.raises(InvalidProgramError, match="OutputTag"):
        keyed.window(tumbling).side_output_late_data("late")
    with pytest.raises(InvalidProgramError, match="reduce"):
        keyed.window(tumbling).reduce("sum")
    with pytest.raises(InvalidProgramError, match="AggregateFunction"):
        keyed.window(tumbling).aggregate(lambda a, b: a)
    with pytest.raises(InvalidProgramError, match="window_function"):
        keyed.window(tumbling).reduce(Sum(), window_function=WindowAllContents())
    with pytest.raises(InvalidProgramError, match="ProcessWindowFunction"):
        keyed.window(tumbling).process(WindowAllContents())
    with pytest.raises(InvalidProgramError, match="WindowFunction"):
        keyed.window(tumbling).apply(Described())
    with pytest.raises(InvalidProgramError, match="AllWindowFunction"):
        env.from_collection([1]).window_all(tumbling).apply(WindowContents())
    with pytest.raises(InvalidProgramError, match="output_type"):
        keyed.window(tumbling).process(WindowContents(), output_type="int")
    with pytest.raises(InvalidProgramError, match="WindowAssigner"):
        env.from_collection([1]).join(env.from_collection([2])).where(lambda x: x) \
            .equal_to(lambda x: x).window(5000)


def test_an_event_time_window_without_timestamps_fails_the_job():
    env = new_env()
    windowed = (env.from_collection([("a", 1)]).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000)).reduce(lambda a, b: a))
    with pytest.raises(JobExecutionError, match="assign_timestamps_and_watermarks"):
        collect(windowed)


@pytest.mark.parametrize("assigner", [TumblingEventTimeWindows.of(5000),
                                      SlidingEventTimeWindows.of(5000, 5000)])
def test_records_whose_assigner_kept_no_timestamp_fail_the_window(assigner: Any) -> None:
    # A timestamp assigner that keeps the record's timestamp, on records that have none,
    # leaves Long.MIN_VALUE: windows reject it, as Flink's assigners do.
    env = new_env()
    keep = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, record_timestamp: record_timestamp)
    windowed = (env.from_collection([("a", 1)]).assign_timestamps_and_watermarks(keep)
                .key_by(lambda e: e[0]).window(assigner).reduce(lambda a, b: a))
    with pytest.raises(JobExecutionError, match="assign_timestamps_and_watermarks"):
        collect(windowed)


def test_a_failing_window_function_names_the_operator():
    env = new_env()

    class Failing(WindowFunction):
        def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
            raise ValueError("broken window function")

    windowed = (events(env, [("a", 1)]).key_by(lambda e: e[0])
                .window(TumblingEventTimeWindows.of(5000)).apply(Failing()))
    with pytest.raises(JobExecutionError, match="broken window function") as info:
        collect(windowed)
    assert "TumblingEventTimeWindows" in str(info.value)


def test_session_aggregate_without_merge_fails_the_job():
    class NoMerge(AggregateFunction):
        def create_accumulator(self) -> int:
            return 0

        def add(self, value: Any, accumulator: int) -> int:
            return accumulator + 1

        def get_result(self, accumulator: int) -> int:
            return accumulator

    env = new_env()
    # the third element bridges two sessions: their accumulators must merge
    data = [("a", 1000), ("a", 10000), ("a", 5000)]
    windowed = (events(env, data, bound_ms=10000).key_by(lambda e: e[0])
                .window(EventTimeSessionWindows.with_gap(5000)).aggregate(NoMerge()))
    with pytest.raises(JobExecutionError, match="merge"):
        collect(windowed)
