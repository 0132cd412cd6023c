"""Timers of a KeyedProcessFunction on the MiniCluster (Flink's semantics).

* event-time timers fire once the watermark reaches them (``timestamp <= watermark``), in
  timestamp order; a bounded source's final watermark (``Long.MAX_VALUE``) fires all that are
  left at the end of the input;
* one timer per key, timestamp and domain: registering twice fires once; a deleted timer
  never fires; deleting is per key;
* in ``on_timer`` the current key, and so the state, is the timer's; ``ctx.timestamp()`` is
  the timer's timestamp, ``ctx.time_domain()`` says which clock fired;
* outputs of an event-time ``on_timer`` carry the timer's timestamp, those of a processing-
  time one none (Flink's KeyedProcessOperator erases it);
* processing-time timers fire by the wall clock while the job runs; pending ones are dropped
  when a bounded job ends;
* failures in ``on_timer`` fail the job naming ``on_timer()`` and the operator.
"""

from __future__ import annotations

import threading
import time
from typing import Any, List

import pytest

from flink_py.common import Types
from flink_py.common.watermark_strategy import Watermark, WatermarkGenerator, WatermarkStrategy
from flink_py.datastream import (
    OutputTag, ProcessFunction, RuntimeContext, SourceFunction, StreamExecutionEnvironment)
from flink_py.datastream.functions import KeyedProcessFunction
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.datastream.time_domain import TimeDomain
from flink_py.errors import JobExecutionError

pytestmark = pytest.mark.timeout(60)

MIN_WATERMARK = -(2 ** 63)
MAX_WATERMARK = 2 ** 63 - 1


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def run(data: List[Any], function: Any, parallelism: int = 1,
        key: Any = lambda r: r[0]) -> List[Any]:
    env = new_env(parallelism)
    ds = env.from_collection(data).key_by(key).process(function)
    return list(ds.execute_and_collect())


class UserError(Exception):
    """What the user's functions raise."""


# -- event time at the end of bounded input -------------------------------------------------------

class TimerAtValue(KeyedProcessFunction):
    """Registers an event-time timer at the record's second field; reports what fires."""

    def process_element(self, value: Any, ctx: Any) -> Any:
        ctx.timer_service().register_event_time_timer(value[1])
        yield "element", value

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield "timer", ctx.get_current_key(), timestamp


def test_event_time_timers_fire_in_timestamp_order_at_the_end_of_bounded_input():
    data = [("a", 30), ("b", 10), ("a", 20), ("c", 40), ("b", 5), ("c", -7)]
    assert run(data, TimerAtValue()) == [
        ("element", ("a", 30)), ("element", ("b", 10)), ("element", ("a", 20)),
        ("element", ("c", 40)), ("element", ("b", 5)), ("element", ("c", -7)),
        # no watermark before the end of the input: all fire at the final watermark, in order
        ("timer", "c", -7), ("timer", "b", 5), ("timer", "b", 10), ("timer", "a", 20),
        ("timer", "a", 30), ("timer", "c", 40),
    ]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_event_time_timers_fire_in_order_per_subtask(parallelism):
    keys = [f"k{i}" for i in range(10)]
    data = [(k, 1000 - 10 * n - i) for n in range(5) for i, k in enumerate(keys)]
    results = run(data, TimerAtValue(), parallelism)
    fired = [(r[1], r[2]) for r in results if r[0] == "timer"]
    assert sorted(fired) == sorted(data)
    for k in keys:  # per key (one subtask each), in timestamp order
        assert [t for key, t in fired if key == k] == sorted(t for key, t in data if key == k)
    if parallelism == 1:
        assert [t for _, t in fired] == sorted(t for _, t in data)


def test_a_timer_registered_twice_fires_once_and_per_key():
    data = [("a", 10), ("a", 10), ("b", 10), ("a", 10), ("b", 20)]
    fired = [r[1:] for r in run(data, TimerAtValue()) if r[0] == "timer"]
    assert sorted(fired[:2]) == [("a", 10), ("b", 10)]  # equal timestamps: any key order
    assert fired[2:] == [("b", 20)]


class TimerCommands(KeyedProcessFunction):
    """(key, "register"/"delete", timestamp) on the event-time timers of the key."""

    def process_element(self, value: Any, ctx: Any) -> Any:
        key, command, timestamp = value
        timers = ctx.timer_service()
        if command == "register":
            timers.register_event_time_timer(timestamp)
        else:
            timers.delete_event_time_timer(timestamp)
        return ()

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield ctx.get_current_key(), timestamp


def test_deleted_timers_never_fire_and_deleting_is_per_key():
    data = [
        ("a", "register", 10), ("a", "delete", 10),               # gone
        ("a", "register", 20), ("b", "delete", 20),               # b has no 20: a's stays
        ("a", "delete", 99),                                      # never registered: no-op
        ("c", "register", 5), ("c", "delete", 5), ("c", "register", 5),  # back: fires once
        ("d", "register", 7), ("d", "register", 7), ("d", "delete", 7),  # one timer, deleted
    ]
    assert run(data, TimerCommands()) == [("c", 5), ("a", 20)]


def test_on_timer_sees_the_timers_key_and_its_state():
    class CountThenReport(KeyedProcessFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

        def process_element(self, value: Any, ctx: Any) -> Any:
            self.count.update((self.count.value() or 0) + 1)
            ctx.timer_service().register_event_time_timer(100 + ord(value[0]))
            return ()

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield ctx.get_current_key(), self.count.value(), timestamp
            self.count.clear()
            yield ctx.get_current_key(), self.count.value(), timestamp

    data = [("a",), ("b",), ("a",), ("c",), ("a",), ("b",)]
    for parallelism in (1, 2):
        results = run(data, CountThenReport(), parallelism)
        per_key = {k: [r for r in results if r[0] == k] for k in "abc"}
        assert per_key == {"a": [("a", 3, 197), ("a", None, 197)],
                           "b": [("b", 2, 198), ("b", None, 198)],
                           "c": [("c", 1, 199), ("c", None, 199)]}
        if parallelism == 1:
            assert [r[2] for r in results] == [197, 197, 198, 198, 199, 199]


def test_on_timer_context_time_domain_timestamp_and_watermark():
    class Describe(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            ctx.timer_service().register_event_time_timer(value[1])
            yield ("element", ctx.timestamp(), ctx.timer_service().current_watermark(),
                   ctx.get_current_key())

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield ("timer", timestamp, ctx.timestamp(), ctx.time_domain(),
                   ctx.timer_service().current_watermark(), ctx.get_current_key())

    assert run([("a", 42)], Describe()) == [
        # records without timestamps; no watermark yet
        ("element", None, MIN_WATERMARK, "a"),
        # fired by the final watermark of the bounded source
        ("timer", 42, 42, TimeDomain.EVENT_TIME, MAX_WATERMARK, "a"),
    ]


def test_timers_registered_in_on_timer_fire_too_in_order():
    class Chain(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            ctx.timer_service().register_event_time_timer(value[1])
            return ()

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield ctx.get_current_key(), timestamp
            if timestamp < 30:
                ctx.timer_service().register_event_time_timer(timestamp + 10)
                ctx.timer_service().register_event_time_timer(timestamp + 10)  # once
            if timestamp == 10:
                ctx.timer_service().delete_event_time_timer(25)  # not yet fired: gone

    data = [("a", 10), ("b", 25), ("b", 15)]
    assert run(data, Chain()) == [("a", 10), ("b", 15), ("a", 20), ("b", 25), ("a", 30),
                                  ("b", 35)]


class StampOf(ProcessFunction):
    """Reports each record with the timestamp it carries."""

    def process_element(self, value: Any, ctx: Any) -> Any:
        yield value, ctx.timestamp()


def test_event_time_on_timer_outputs_carry_the_timers_timestamp():
    env = new_env()
    ds = (env.from_collection([("a", 10), ("b", 5)])
          .key_by(lambda r: r[0]).process(TimerAtValue())
          .process(StampOf()))
    assert list(ds.execute_and_collect()) == [
        (("element", ("a", 10)), None),   # the input records carry no timestamp
        (("element", ("b", 5)), None),
        (("timer", "b", 5), 5),
        (("timer", "a", 10), 10),
    ]


def test_a_process_function_on_a_keyed_stream_without_on_timer():
    """A KeyedProcessFunction without on_timer: registered timers fire into nothing."""
    class NoOnTimer(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            ctx.timer_service().register_event_time_timer(5)
            yield value

    assert run([("a", 1), ("b", 2)], NoOnTimer()) == [("a", 1), ("b", 2)]


def test_a_callable_on_a_keyed_stream():
    env = new_env()
    ds = env.from_collection([1, 2, 3]).key_by(lambda x: x % 2).process(
        lambda value, ctx: [(ctx.get_current_key(), value)])
    assert list(ds.execute_and_collect()) == [(1, 1), (0, 2), (1, 3)]


# -- event time driven by watermarks ------------------------------------------------------------

class WatermarkAtEachEvent(WatermarkGenerator):
    """Punctuated: after each record, the watermark is that record's timestamp."""

    def on_event(self, event: Any, event_timestamp: int, output: Any) -> None:
        output.emit_watermark(Watermark(event_timestamp))

    def on_periodic_emit(self, output: Any) -> None:
        pass


def punctuated(data: List[Any], function: Any, parallelism: int = 1) -> List[Any]:
    """``data`` as (key, timestamp, ...) records with a watermark after each record."""
    env = new_env(parallelism)
    strategy = (WatermarkStrategy.for_generator(WatermarkAtEachEvent)
                .with_timestamp_assigner(lambda event, _: event[1]))
    ds = (env.from_collection(data).assign_timestamps_and_watermarks(strategy)
          .key_by(lambda r: r[0]).process(function))
    return list(ds.execute_and_collect())


class TimerAfter(KeyedProcessFunction):
    """A timer ``delay`` after each record's timestamp; reports the watermark it sees."""

    def __init__(self, delay: int) -> None:
        self.delay = delay

    def process_element(self, value: Any, ctx: Any) -> Any:
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + self.delay)
        yield "element", value[0], ctx.timestamp(), ctx.timer_service().current_watermark()

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield "timer", ctx.get_current_key(), timestamp, ctx.timer_service().current_watermark()


def test_event_time_timers_fire_as_the_watermark_passes_them():
    """Flink's exact sequence: a timer fires when a watermark >= its timestamp arrives, right
    after the record that watermark follows; the rest at the end of the input."""
    data = [("a", 1), ("b", 2), ("a", 5), ("b", 6), ("c", 10), ("a", 12)]
    assert punctuated(data, TimerAfter(3)) == [
        ("element", "a", 1, MIN_WATERMARK),
        ("element", "b", 2, 1),
        ("element", "a", 5, 2),
        ("timer", "a", 4, 5),            # watermark 5 fires 4 and 5 (timestamp <= watermark)
        ("timer", "b", 5, 5),
        ("element", "b", 6, 5),
        ("element", "c", 10, 6),
        ("timer", "a", 8, 10),
        ("timer", "b", 9, 10),
        ("element", "a", 12, 10),
        ("timer", "c", 13, MAX_WATERMARK),  # the final watermark of the bounded input
        ("timer", "a", 15, MAX_WATERMARK),
    ]


def test_a_timer_at_the_watermark_fires_and_one_above_it_waits():
    data = [("a", 10), ("b", 11), ("c", 20)]
    assert punctuated(data, TimerAfter(0)) == [
        ("element", "a", 10, MIN_WATERMARK), ("timer", "a", 10, 10),
        ("element", "b", 11, 10), ("timer", "b", 11, 11),
        ("element", "c", 20, 11), ("timer", "c", 20, 20),
    ]
    assert [r[1:3] for r in punctuated(data, TimerAfter(1)) if r[0] == "timer"] == [
        ("a", 11), ("b", 12), ("c", 21)]
    assert [r for r in punctuated(data, TimerAfter(1))][:4] == [
        ("element", "a", 10, MIN_WATERMARK), ("element", "b", 11, 10),
        ("timer", "a", 11, 11), ("element", "c", 20, 11)]


def test_a_timer_behind_the_watermark_fires_with_the_next_watermark():
    class Behind(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            ctx.timer_service().register_event_time_timer(value[2])
            yield "element", value[0]

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield "timer", ctx.get_current_key(), timestamp

    # b's timer (3) is already behind the watermark (10) when registered
    data = [("a", 10, 100), ("b", 11, 3), ("c", 12, 100)]
    assert punctuated(data, Behind()) == [
        ("element", "a"), ("element", "b"), ("timer", "b", 3), ("element", "c"),
        ("timer", "a", 100), ("timer", "c", 100)]


@pytest.mark.parametrize("parallelism", [1, 2])
def test_watermark_driven_timers_per_key_at_any_parallelism(parallelism):
    keys = ["a", "b", "c", "d", "e"]
    data = [(keys[i % 5], i * 3) for i in range(40)]
    results = punctuated(data, TimerAfter(7), parallelism)
    for key in keys:
        mine = [r for r in results if r[1] == key]
        timer_times = [r[2] for r in mine if r[0] == "timer"]
        assert timer_times == sorted(t + 7 for k, t in data if k == key)
        for r in mine:
            if r[0] == "timer":
                assert r[3] >= r[2]  # fired by a watermark that reached it
    if parallelism == 1:
        # the single subtask sees every watermark right after its record: a timer fires
        # after the first record whose timestamp reaches it
        position = {(r[1], r[2]): i for i, r in enumerate(results) if r[0] == "element"}
        for i, r in enumerate(results):
            if r[0] == "timer" and r[3] != MAX_WATERMARK:
                first_reaching = min(t for _, t in data if t >= r[2])
                key_of_that = next(k for k, t in data if t == first_reaching)
                assert position[(key_of_that, first_reaching)] < i


def test_timers_with_periodic_monotonous_watermarks_fire_in_order_once_reached():
    class Check(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            ctx.timer_service().register_event_time_timer(ctx.timestamp() + 5)
            return ()

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield timestamp, ctx.timer_service().current_watermark() >= timestamp

    env = new_env()
    env.get_config().set_auto_watermark_interval(1)
    strategy = (WatermarkStrategy.for_monotonous_timestamps()
                .with_timestamp_assigner(lambda event, _: event[1]))
    data = [(i % 7, i) for i in range(0, 3000, 3)]
    ds = (env.from_collection(data).assign_timestamps_and_watermarks(strategy)
          .key_by(lambda r: r[0]).process(Check()))
    results = list(ds.execute_and_collect())
    assert results == [(t + 5, True) for _, t in data]


# -- side outputs ---------------------------------------------------------------------------------

LATE = OutputTag("late", Types.PICKLED_BYTE_ARRAY())
FIRED = OutputTag("fired", Types.PICKLED_BYTE_ARRAY())


class WithSideOutputs(KeyedProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Any:
        key, timestamp = value
        if timestamp < 0:
            yield LATE, value
            return
        ctx.timer_service().register_event_time_timer(timestamp)
        yield value

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        yield FIRED, (ctx.get_current_key(), timestamp)
        yield "main from on_timer", ctx.get_current_key(), timestamp


def test_side_outputs_from_process_element_and_on_timer():
    env = new_env()
    main = (env.from_collection([("a", 10), ("b", -1), ("c", 5), ("a", -2)])
            .key_by(lambda r: r[0]).process(WithSideOutputs()))
    late = main.get_side_output(LATE).map(lambda v: ("late", v))
    fired = main.get_side_output(FIRED).map(lambda v: ("fired", v))
    results = list(main.map(lambda v: ("main", v)).union(late, fired).execute_and_collect())
    assert [r for r in results if r[0] == "main"] == [
        ("main", ("a", 10)), ("main", ("c", 5)),
        ("main", ("main from on_timer", "c", 5)), ("main", ("main from on_timer", "a", 10))]
    assert [r for r in results if r[0] == "late"] == [("late", ("b", -1)), ("late", ("a", -2))]
    assert [r for r in results if r[0] == "fired"] == [("fired", ("c", 5)), ("fired", ("a", 10))]


def test_side_outputs_of_event_time_timers_carry_the_timers_timestamp():
    env = new_env()
    main = (env.from_collection([("a", 10), ("c", 5)])
            .key_by(lambda r: r[0]).process(WithSideOutputs()))
    stamped = main.get_side_output(FIRED).process(StampOf())
    assert list(stamped.execute_and_collect()) == [(("c", 5), 5), (("a", 10), 10)]


# -- processing time ------------------------------------------------------------------------------

class RecordsThenUntilCancelled(SourceFunction):
    """Emits the given records, then runs until cancelled (an unbounded source)."""

    def __init__(self, records: List[Any]) -> None:
        self.records = records

    def open(self, runtime_context: RuntimeContext) -> None:
        self.cancelled = threading.Event()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        with ctx.get_checkpoint_lock():  # one buffer: no flush between the records
            for record in self.records:
                ctx.collect(record)
        self.cancelled.wait(60)

    def cancel(self) -> None:
        self.cancelled.set()


class ProcessingTimeTimers(KeyedProcessFunction):
    """Registers a processing-time timer ``delay_ms`` from now per record."""

    def __init__(self, delay_ms: int) -> None:
        self.delay_ms = delay_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value: Any, ctx: Any) -> Any:
        self.count.update((self.count.value() or 0) + 1)
        now = ctx.timer_service().current_processing_time()
        ctx.timer_service().register_processing_time_timer(now + self.delay_ms)
        yield "element", value

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        now = ctx.timer_service().current_processing_time()
        yield ("timer", ctx.get_current_key(), self.count.value(), ctx.time_domain(),
               ctx.timestamp() == timestamp, now >= timestamp)


def collect_first(ds: Any, n: Any) -> List[Any]:
    """The first ``n`` records of an unbounded job (or, if ``n`` is a predicate of the records
    so far, until it holds); closing the iterator ends the job."""
    done = n if callable(n) else (lambda results: len(results) == n)
    results: List[Any] = []
    with ds.execute_and_collect() as records:
        for record in records:
            results.append(record)
            if done(results):
                break
    return results


@pytest.mark.parametrize("parallelism", [1, 2])
def test_processing_time_timers_fire_on_an_unbounded_source(parallelism):
    env = new_env(parallelism)
    records = ["a", "b", "a", "c"]
    ds = (env.add_source(RecordsThenUntilCancelled(records))
          .key_by(lambda x: x).process(ProcessingTimeTimers(delay_ms=20))
          .process(StampOf()))
    started = time.monotonic()
    def all_keys_fired(results: List[Any]) -> bool:
        return {v[1] for v, _ in results if v[0] == "timer"} == set(records)

    results = collect_first(ds, all_keys_fired)
    assert time.monotonic() - started < 20
    elements = [r for r in results if r[0][0] == "element"]
    timers = [r for r in results if r[0][0] == "timer"]
    assert sorted(v[1] for v, _ in elements) == sorted(records)
    # a's two timers may be one (registered in the same millisecond) or two
    fired_keys = sorted(v[1] for v, _ in timers)
    assert set(fired_keys) == {"a", "b", "c"}
    for (_, key, count, domain, timestamp_is_timers, due), stamp in timers:
        assert count == records.count(key)  # the timer's key's state
        assert domain is TimeDomain.PROCESSING_TIME
        assert timestamp_is_timers and due
        assert stamp is None  # processing-time outputs carry no timestamp


@pytest.mark.parametrize("parallelism", [1, 2])
def test_outputs_of_a_processing_time_timer_on_an_idle_stream_reach_downstream(parallelism):
    """Nothing else is in flight when the timer fires (no input follows, no element output
    scheduled a flush): its outputs must still be flushed downstream."""
    class Quiet(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            timers = ctx.timer_service()
            timers.register_processing_time_timer(timers.current_processing_time() + 150)
            return ()

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield "timer", ctx.get_current_key()

    env = new_env(parallelism)
    ds = env.add_source(RecordsThenUntilCancelled(["a"])).key_by(lambda x: x).process(Quiet())
    assert collect_first(ds, 1) == [("timer", "a")]


def test_a_processing_time_timer_registered_twice_fires_once():
    class Twice(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            at = ctx.timer_service().current_processing_time() + 10
            ctx.timer_service().register_processing_time_timer(at)
            ctx.timer_service().register_processing_time_timer(at)
            # deleted: never fires
            ctx.timer_service().register_processing_time_timer(at + 5)
            ctx.timer_service().delete_processing_time_timer(at + 5)
            # the one that shows that the others had their chance first
            ctx.timer_service().register_processing_time_timer(at + 30)
            yield "element", at

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield "timer", timestamp

    env = new_env()
    ds = env.add_source(RecordsThenUntilCancelled(["a"])).key_by(lambda x: x).process(Twice())
    (_, at), first, last = collect_first(ds, 3)
    assert first == ("timer", at)
    assert last == ("timer", at + 30)


def test_processing_time_timers_of_a_bounded_job_that_ends_are_dropped():
    """As in Flink: at the end of the input pending processing-time timers do not fire."""
    class FarFuture(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            now = ctx.timer_service().current_processing_time()
            ctx.timer_service().register_processing_time_timer(now + 3_600_000)
            yield value

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield "fired"

    started = time.monotonic()
    assert run([("a", 1), ("b", 2)], FarFuture()) == [("a", 1), ("b", 2)]
    assert time.monotonic() - started < 10


def test_event_time_and_processing_time_timers_at_the_same_time_are_two_timers():
    class Both(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            at = ctx.timer_service().current_processing_time() + 10
            ctx.timer_service().register_processing_time_timer(at)
            ctx.timer_service().register_event_time_timer(at)
            return ()

        def on_timer(self, timestamp: int, ctx: Any) -> Any:
            yield ctx.time_domain()

    env = new_env()
    ds = env.add_source(RecordsThenUntilCancelled(["a"])).key_by(lambda x: x).process(Both())
    # the source never ends, so no watermark comes: only the processing-time timer fires
    assert collect_first(ds, 1) == [TimeDomain.PROCESSING_TIME]
    # on bounded input the final watermark fires the event-time one; the processing-time
    # one (10 ms away) may or may not have fired before the end
    fired = run([("a",)], Both())
    assert TimeDomain.EVENT_TIME in fired
    assert fired.count(TimeDomain.EVENT_TIME) == 1
    assert fired.count(TimeDomain.PROCESSING_TIME) <= 1


# -- failures and bad input -----------------------------------------------------------------------

def run_failing(build: Any, parallelism: int = 1) -> JobExecutionError:
    env = new_env(parallelism)
    started = time.monotonic()
    with pytest.raises(JobExecutionError) as info:
        list(build(env).execute_and_collect())
    assert time.monotonic() - started < 20
    return info.value


class FailingOnTimer(KeyedProcessFunction):
    def __init__(self, domain: TimeDomain) -> None:
        self.domain = domain

    def process_element(self, value: Any, ctx: Any) -> Any:
        timers = ctx.timer_service()
        if self.domain is TimeDomain.EVENT_TIME:
            timers.register_event_time_timer(10)
        else:
            timers.register_processing_time_timer(timers.current_processing_time() + 5)
        yield value

    def on_timer(self, timestamp: int, ctx: Any) -> Any:
        raise UserError(f"cannot handle the timer of {ctx.get_current_key()!r}")


class TimerAt(KeyedProcessFunction):
    """Registers an event-time timer at whatever the record carries."""

    def process_element(self, value: Any, ctx: Any) -> Any:
        ctx.timer_service().register_event_time_timer(value[1])
        yield value


@pytest.mark.parametrize("bad", [1.5, "10", True, None])
def test_an_event_time_timer_at_what_is_not_a_timestamp_fails_the_job_naming_it(bad):
    # the compiled registrar and the Python TimerService refuse the same values the same way
    error = run_failing(lambda env: env.from_collection([("k", 5), ("k", bad)])
                        .key_by(lambda r: r[0]).process(TimerAt()))
    assert f"a timer's timestamp must be an int of milliseconds, got {bad!r}" in str(error)


def test_an_exception_in_an_event_time_on_timer_fails_the_job_naming_on_timer():
    error = run_failing(lambda env: env.from_collection(["k"]).key_by(lambda x: x)
                        .process(FailingOnTimer(TimeDomain.EVENT_TIME)).name("Timeouts"))
    message = str(error)
    assert "on_timer()" in message
    assert "'Timeouts' (subtask 1/1)" in message
    assert "UserError: cannot handle the timer of 'k'" in message
    assert isinstance(error.__cause__, UserError)


def test_an_exception_in_a_processing_time_on_timer_fails_an_unbounded_job_promptly():
    started = time.monotonic()
    error = run_failing(lambda env: env.add_source(RecordsThenUntilCancelled(["k"]))
                        .key_by(lambda x: x)
                        .process(FailingOnTimer(TimeDomain.PROCESSING_TIME)).name("Ticker"))
    assert time.monotonic() - started < 10
    message = str(error)
    assert "on_timer()" in message
    assert "'Ticker' (subtask 1/1)" in message
    assert "UserError: cannot handle the timer of 'k'" in message


def test_an_exception_in_process_element_names_the_operator():
    class Failing(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            raise UserError(f"bad {value}")

    message = str(run_failing(lambda env: env.from_collection([1]).key_by(lambda x: x)
                              .process(Failing()).name("Proc")))
    assert "'Proc' (subtask 1/1)" in message
    assert "UserError: bad 1" in message


@pytest.mark.parametrize("method", ["register_event_time_timer", "delete_event_time_timer",
                                    "register_processing_time_timer",
                                    "delete_processing_time_timer"])
@pytest.mark.parametrize("bad", [1.5, "10", None, True], ids=["float", "str", "None", "bool"])
def test_a_timer_timestamp_that_is_not_an_int_is_an_error(method, bad):
    class BadTimer(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            getattr(ctx.timer_service(), method)(bad)
            yield value

    message = str(run_failing(lambda env: env.from_collection([1]).key_by(lambda x: x)
                              .process(BadTimer())))
    assert "timestamp must be an int" in message
    assert repr(bad) in message


def test_timers_on_a_non_keyed_stream_are_an_error():
    class NotKeyed(ProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Any:
            ctx.timer_service().register_event_time_timer(10)
            yield value

    message = str(run_failing(lambda env: env.from_collection([1]).process(NotKeyed())
                              .name("Plain")))
    assert "keyed stream" in message
    assert "'Plain'" in message
