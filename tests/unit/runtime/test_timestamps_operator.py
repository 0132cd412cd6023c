"""TimestampsAndWatermarksOperator, the watermark generators and the StatusWatermarkValve,
driven directly: a recording Output, a manual processing-time service and a manual clock."""

from __future__ import annotations

import pickle
from typing import Any, Callable, List, Optional, Tuple

import pytest

from flink_py.common.execution_config import ExecutionConfig
from flink_py.common.time import Duration
from flink_py.common.watermark_strategy import (
    NO_TIMESTAMP, AscendingTimestampsWatermarks, BoundedOutOfOrdernessWatermarks,
    TimestampAssigner, Watermark, WatermarkGenerator, WatermarkOutput, WatermarkStrategy,
    WatermarksWithIdleness)
from flink_py.errors import InvalidProgramError, UserFunctionError
from flink_py.runtime.network.events import WatermarkStatus
from flink_py.runtime.operators.base import (
    MAX_WATERMARK, MIN_WATERMARK, Output, StreamingRuntimeContext, TwoInputStreamOperator)
from flink_py.runtime.operators.sources import CollectionSource, SourceTaskContext
from flink_py.runtime.operators.timestamps import (
    AutoWatermarkInterval, SourceWithWatermarks, TimestampsAndWatermarksOperator,
    TimestampsAndWatermarksOperatorFactory)
from flink_py.runtime.tasks.watermark_valve import StatusWatermarkValve

IDLE, ACTIVE = WatermarkStatus.IDLE, WatermarkStatus.ACTIVE


# -- harness ------------------------------------------------------------------------------------


class Recorder:
    """An Output's targets: every record buffer, watermark and status, in order."""

    def __init__(self) -> None:
        self.events: List[Tuple[str, Any]] = []

    def output(self) -> Output:
        return Output(lambda values, timestamps: self.events.append(
            ("records", list(zip(values, timestamps)) if timestamps is not None
             else list(values))),
            {}, lambda ts: self.events.append(("watermark", ts)),
            lambda status: self.events.append(("status", status)))

    def watermarks(self) -> List[int]:
        return [v for kind, v in self.events if kind == "watermark"]

    def take(self) -> List[Tuple[str, Any]]:
        events, self.events = self.events, []
        return events


class ManualProcessingTime:
    """A ProcessingTimeService whose clock the test moves; due timers fire on ``advance``."""

    def __init__(self) -> None:
        self.now = 0
        self.timers: List[list] = []

    def get_current_processing_time(self) -> int:
        return self.now

    def register_timer(self, timestamp: int, callback: Callable[[int], None]) -> Any:
        timer = _Timer(timestamp, callback)
        self.timers.append(timer)
        return timer

    def advance(self, millis: int) -> None:
        self.now += millis
        while True:
            due = [t for t in self.timers if t.timestamp <= self.now and not t.cancelled]
            if not due:
                break
            timer = min(due, key=lambda t: t.timestamp)
            self.timers.remove(timer)
            timer.callback(timer.timestamp)

    @property
    def pending(self) -> int:
        return sum(1 for t in self.timers if not t.cancelled)


class _Timer:
    def __init__(self, timestamp: int, callback: Callable[[int], None]) -> None:
        self.timestamp = timestamp
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ClockedContext(StreamingRuntimeContext):
    """A runtime context with a manual input activity clock (nanoseconds)."""

    def __init__(self, runtime_mode: str = "STREAMING") -> None:
        super().__init__("test", 0, 1, 128, runtime_mode=runtime_mode)
        self.nanos = 0

    def get_input_activity_clock(self) -> Callable[[], int]:
        return lambda: self.nanos


def _operator(strategy: WatermarkStrategy, interval: int = 50, runtime_mode: str = "STREAMING"
              ) -> Tuple[TimestampsAndWatermarksOperator, Recorder, ManualProcessingTime,
                         ClockedContext]:
    recorder = Recorder()
    service = ManualProcessingTime()
    context = ClockedContext(runtime_mode)
    operator = TimestampsAndWatermarksOperator("Timestamps/Watermarks", strategy, interval)
    operator.setup(context, recorder.output())
    operator.processing_time_service = service
    operator.open()
    return operator, recorder, service, context


def _by_second_field(value: Any, record_timestamp: int) -> int:
    return value[1]


class PunctuatedOnMarker(WatermarkGenerator):
    """Emits a watermark at the timestamp of every record whose first field is "mark"."""

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        if event[0] == "mark":
            output.emit_watermark(Watermark(event_timestamp))

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        pass


class LastTimestampMinusOne(WatermarkGenerator):
    """A periodic generator that does not keep the watermark monotonous itself."""

    def __init__(self) -> None:
        self.last = NO_TIMESTAMP

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        self.last = event_timestamp

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        if self.last != NO_TIMESTAMP:
            output.emit_watermark(Watermark(self.last - 1))


# -- generators -----------------------------------------------------------------------------------


class _Collect(WatermarkOutput):
    def __init__(self) -> None:
        self.out: List[Any] = []

    def emit_watermark(self, watermark: Watermark) -> None:
        self.out.append(watermark.get_timestamp())

    def mark_idle(self) -> None:
        self.out.append("idle")


def test_bounded_out_of_orderness_is_max_minus_bound_minus_one() -> None:
    generator = BoundedOutOfOrdernessWatermarks(Duration.of_millis(100))
    out = _Collect()
    generator.on_periodic_emit(out)
    assert out.out == [NO_TIMESTAMP]  # nothing seen yet: the minimum (never forwarded)
    for ts in (1000, 3000, 2000):
        generator.on_event(None, ts, out)
    generator.on_periodic_emit(out)
    assert out.out == [NO_TIMESTAMP, 3000 - 100 - 1]


def test_monotonous_is_bounded_with_zero() -> None:
    generator = AscendingTimestampsWatermarks()
    out = _Collect()
    generator.on_event(None, 42, out)
    generator.on_periodic_emit(out)
    assert out.out == [41]


def test_idleness_is_checked_on_periodic_emits() -> None:
    nanos = [0]
    generator = WatermarksWithIdleness(AscendingTimestampsWatermarks(),
                                       Duration.of_millis(10), lambda: nanos[0])
    out = _Collect()
    generator.on_event(None, 5, out)
    generator.on_periodic_emit(out)  # activity since the last check: not idle
    nanos[0] = 50_000_000
    generator.on_periodic_emit(out)  # first check without activity: inactivity starts now
    assert out.out == [4, 4]
    nanos[0] = 55_000_000
    generator.on_periodic_emit(out)  # 5 ms of 10: still active
    nanos[0] = 60_000_001
    generator.on_periodic_emit(out)  # more than 10 ms without records
    generator.on_periodic_emit(out)  # marked once
    assert out.out == [4, 4, 4, "idle"]
    generator.on_event(None, 9, out)
    generator.on_periodic_emit(out)
    assert out.out == [4, 4, 4, "idle", 8]


@pytest.mark.parametrize("make", [
    lambda: WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(-1)),
    lambda: WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_nanos(-1)),
    lambda: WatermarkStrategy.for_monotonous_timestamps().with_idleness(Duration.of_seconds(-5)),
    lambda: WatermarkStrategy.for_monotonous_timestamps().with_idleness(Duration.of_millis(0)),
    lambda: WatermarkStrategy.for_bounded_out_of_orderness(5),
    lambda: WatermarkStrategy.for_monotonous_timestamps().with_idleness(1000),
], ids=["negative bound", "negative nanos", "negative idleness", "zero idleness",
        "bound not a Duration", "idleness not a Duration"])
def test_bad_durations_are_errors(make: Callable[[], Any]) -> None:
    with pytest.raises(InvalidProgramError, match="Duration|negative|greater than zero"):
        make()


def test_zero_out_of_orderness_is_allowed() -> None:
    WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0))


def test_strategy_arguments_are_checked() -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps()
    with pytest.raises(InvalidProgramError, match="forget to instantiate"):
        strategy.with_timestamp_assigner(TimestampAssigner)
    with pytest.raises(InvalidProgramError, match="callable"):
        strategy.with_timestamp_assigner(42)
    with pytest.raises(InvalidProgramError, match="WatermarkGenerator"):
        WatermarkStrategy.for_generator(42)
    with pytest.raises(InvalidProgramError, match="not a WatermarkGenerator"):
        WatermarkStrategy.for_generator(dict)
    bad = WatermarkStrategy.for_generator(lambda context: "not a generator")
    with pytest.raises(InvalidProgramError, match="expected a WatermarkGenerator"):
        bad.create_watermark_generator()


def test_for_generator_accepts_suppliers_classes_and_instances() -> None:
    for supplier in (lambda context: PunctuatedOnMarker(), lambda: PunctuatedOnMarker(),
                     PunctuatedOnMarker):
        generator = WatermarkStrategy.for_generator(supplier).create_watermark_generator()
        assert type(generator) is PunctuatedOnMarker
    prototype = LastTimestampMinusOne()
    strategy = WatermarkStrategy.for_generator(prototype)
    first, second = (strategy.create_watermark_generator() for _ in range(2))
    assert first is not second and first is not prototype  # one per parallel instance


def test_strategies_are_immutable() -> None:
    base = WatermarkStrategy.for_monotonous_timestamps()
    with_assigner = base.with_timestamp_assigner(_by_second_field)
    assert base.create_timestamp_assigner().extract_timestamp(("a", 5), 7) == 7
    assert with_assigner.create_timestamp_assigner().extract_timestamp(("a", 5), 7) == 5
    one_arg = base.with_timestamp_assigner(lambda value: value[1] * 2)
    assert one_arg.create_timestamp_assigner().extract_timestamp(("a", 5), 7) == 10


# -- the operator ---------------------------------------------------------------------------------


def test_assigns_timestamps_and_emits_periodic_watermarks_that_only_advance() -> None:
    strategy = (WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(100))
                .with_timestamp_assigner(_by_second_field))
    operator, recorder, service, _ = _operator(strategy, interval=50)
    operator.process_batch([("a", 1000), ("b", 3000)], None)
    assert recorder.take() == [("records", [(("a", 1000), 1000), (("b", 3000), 3000)])]
    service.advance(49)
    assert recorder.take() == []
    service.advance(1)
    assert recorder.take() == [("watermark", 2899)]
    operator.process_batch([("c", 2000)], [5])  # late record: no new watermark
    service.advance(50)
    service.advance(50)  # same maximum: not repeated
    assert recorder.take() == [("records", [(("c", 2000), 2000)])]
    operator.process_batch([("d", 5000)], None)
    service.advance(50)
    assert recorder.watermarks() == [4899]
    assert operator.current_watermark == 4899


def test_records_keep_their_timestamps_without_an_assigner() -> None:
    operator, recorder, service, _ = _operator(WatermarkStrategy.for_monotonous_timestamps())
    operator.process_batch(["x", "y"], [10, 20])
    operator.process_batch(["z"], None)
    service.advance(50)
    assert recorder.take() == [("records", [("x", 10), ("y", 20)]), ("records", ["z"]),
                               ("watermark", 19)]


def test_interval_zero_disables_periodic_emission() -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        _by_second_field)
    operator, recorder, service, _ = _operator(strategy, interval=0)
    assert service.pending == 0
    operator.process_batch([("a", 7)], None)
    service.advance(10_000)
    assert recorder.watermarks() == []
    operator.finish()  # a last periodic emission, as Flink's finish()
    assert recorder.watermarks() == [6]


def test_punctuated_watermarks_follow_their_record() -> None:
    strategy = WatermarkStrategy.for_generator(PunctuatedOnMarker).with_timestamp_assigner(
        _by_second_field)
    operator, recorder, _, _ = _operator(strategy, interval=0)
    operator.process_batch([("a", 1), ("mark", 2), ("b", 1), ("mark", 5), ("mark", 4),
                            ("c", 9)], None)
    assert recorder.take() == [
        ("records", [(("a", 1), 1), (("mark", 2), 2)]),
        ("watermark", 2),
        ("records", [(("b", 1), 1), (("mark", 5), 5)]),
        ("watermark", 5),
        ("records", [(("mark", 4), 4), (("c", 9), 9)]),  # 4 < 5: not emitted
    ]


def test_periodic_custom_generator_never_goes_backwards() -> None:
    strategy = WatermarkStrategy.for_generator(LastTimestampMinusOne)
    operator, recorder, service, _ = _operator(strategy, interval=50)
    operator.process_batch(["a"], [4])
    service.advance(50)
    operator.process_batch(["b"], [2])
    service.advance(50)
    assert recorder.watermarks() == [3]


def test_upstream_watermarks_and_statuses_are_dropped_except_the_final_one() -> None:
    operator, recorder, _, _ = _operator(WatermarkStrategy.for_monotonous_timestamps())
    operator.process_watermark(42)
    operator.process_watermark_status(IDLE)
    assert recorder.take() == []
    operator.process_watermark(MAX_WATERMARK)
    operator.process_watermark(MAX_WATERMARK)
    assert recorder.take() == [("watermark", MAX_WATERMARK)]


def test_batch_mode_emits_only_the_final_watermark() -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        _by_second_field)
    operator, recorder, service, _ = _operator(strategy, runtime_mode="BATCH")
    assert service.pending == 0
    operator.process_batch([("a", 7)], None)
    operator.finish()
    operator.process_watermark(MAX_WATERMARK)
    assert recorder.watermarks() == [MAX_WATERMARK]


def test_idleness_marks_the_output_idle_and_a_watermark_active_again() -> None:
    strategy = (WatermarkStrategy.for_monotonous_timestamps()
                .with_timestamp_assigner(_by_second_field)
                .with_idleness(Duration.of_millis(100)))
    operator, recorder, service, context = _operator(strategy, interval=50)
    operator.process_batch([("a", 10)], None)
    service.advance(50)
    assert recorder.take() == [("records", [(("a", 10), 10)]), ("watermark", 9)]
    for _ in range(3):  # inactivity starts, then 100 ms pass
        context.nanos += 50_000_000
        service.advance(50)
    context.nanos += 1
    service.advance(50)
    service.advance(50)
    assert recorder.take() == [("status", IDLE)]
    operator.process_batch([("b", 20)], None)
    service.advance(50)
    assert recorder.take() == [("records", [(("b", 20), 20)]), ("status", ACTIVE),
                               ("watermark", 19)]


def test_the_final_watermark_makes_an_idle_output_active() -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_idleness(
        Duration.of_millis(1))
    operator, recorder, service, context = _operator(strategy, interval=50)
    for _ in range(3):
        context.nanos += 10_000_000
        service.advance(50)
    operator.process_watermark(MAX_WATERMARK)
    assert recorder.take() == [("status", IDLE), ("status", ACTIVE),
                               ("watermark", MAX_WATERMARK)]


def test_finish_and_close_cancel_the_periodic_timer() -> None:
    operator, _, service, _ = _operator(WatermarkStrategy.for_monotonous_timestamps())
    assert service.pending == 1
    operator.finish()
    operator.close()
    assert service.pending == 0


@pytest.mark.parametrize("bad", [1.5, "12", None, True])
def test_a_non_int_timestamp_is_an_error_naming_value_and_operator(bad: Any) -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, ts: value[1])
    operator, _, _, _ = _operator(strategy)
    with pytest.raises(UserFunctionError) as info:
        operator.process_batch([("ok", 1), ("bad", bad)], None)
    message = str(info.value)
    assert "'Timestamps/Watermarks' (subtask 1/1)" in message
    assert repr(bad) in message and type(bad).__name__ in message
    assert "('bad'," in message and "must be an int" in message


def test_int_like_timestamps_are_accepted() -> None:
    class Millis(int):
        pass

    class Indexable:
        def __index__(self) -> int:
            return 77

    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, ts: value)
    operator, recorder, _, _ = _operator(strategy)
    operator.process_batch([Millis(5), Indexable()], None)
    (_, records), = recorder.take()
    assert [ts for _, ts in records] == [5, 77]
    assert all(type(ts) is int for _, ts in records)


def test_errors_of_the_assigner_and_the_generator_name_the_operator() -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        lambda value, ts: 1 // 0)
    operator, _, _, _ = _operator(strategy)
    with pytest.raises(UserFunctionError, match="timestamp assigner in 'Timestamps/Watermarks'"
                       ".*ZeroDivisionError") as info:
        operator.process_batch(["x"], None)
    assert isinstance(info.value.__cause__, ZeroDivisionError)

    class Failing(LastTimestampMinusOne):
        def on_periodic_emit(self, output: WatermarkOutput) -> None:
            raise RuntimeError("boom")

    operator, _, service, _ = _operator(WatermarkStrategy.for_generator(Failing))
    with pytest.raises(UserFunctionError, match="on_periodic_emit.*boom"):
        service.advance(50)


def test_factory_ships_the_interval_set_before_execute() -> None:
    config = ExecutionConfig()
    factory = TimestampsAndWatermarksOperatorFactory(
        "Timestamps/Watermarks", WatermarkStrategy.for_monotonous_timestamps(),
        AutoWatermarkInterval(config))
    config.set_auto_watermark_interval(7)
    import cloudpickle
    shipped = cloudpickle.loads(cloudpickle.dumps(factory))
    config.set_auto_watermark_interval(9)  # after shipping: no effect on the shipped one
    operator = shipped()
    assert isinstance(operator, TimestampsAndWatermarksOperator)
    assert operator.auto_watermark_interval_ms == 7
    assert factory().auto_watermark_interval_ms == 9


def test_source_with_watermarks_applies_the_strategy_as_records_leave_it() -> None:
    class Context(SourceTaskContext):
        records_per_buffer = 2
        cancelled = False

        def __init__(self, operator: Any) -> None:
            self.operator = operator

        def emit(self, values: list, timestamps: Optional[list]) -> None:
            self.operator.output.emit(values, timestamps)

        def flush(self) -> None:
            pass

    strategy = WatermarkStrategy.for_generator(PunctuatedOnMarker).with_timestamp_assigner(
        _by_second_field)
    source = SourceWithWatermarks(
        CollectionSource("Source: test", [("a", 1), ("mark", 3), ("b", 2)]), strategy, 0)
    recorder = Recorder()
    source.setup(ClockedContext(), recorder.output())
    source.open()
    source.run(Context(source))
    source.output.emit_watermark(MAX_WATERMARK)  # what the task does at the end
    source.finish()
    source.close()
    assert recorder.take() == [
        ("records", [(("a", 1), 1), (("mark", 3), 3)]), ("watermark", 3),
        ("records", [(("b", 2), 2)]), ("watermark", MAX_WATERMARK)]


# -- combining watermarks -------------------------------------------------------------------------


def _valve(channels: int) -> Tuple[StatusWatermarkValve, Recorder]:
    recorder = Recorder()
    output = recorder.output()
    return StatusWatermarkValve(channels, output.emit_watermark,
                                output.emit_watermark_status), recorder


def test_valve_emits_the_minimum_of_its_channels_never_backwards() -> None:
    valve, recorder = _valve(2)
    valve.input_watermark(10, 0)
    assert recorder.take() == []
    valve.input_watermark(5, 1)
    valve.input_watermark(20, 1)
    valve.input_watermark(15, 1)  # backwards on its channel: ignored
    valve.input_watermark(30, 0)
    assert recorder.watermarks() == [5, 10, 20]


def test_valve_an_idle_channel_does_not_hold_the_watermark_back() -> None:
    valve, recorder = _valve(2)
    valve.input_watermark(10, 0)
    valve.input_watermark_status(IDLE, 1)
    valve.input_watermark(12, 0)
    assert recorder.take() == [("watermark", 10), ("watermark", 12)]
    # Back with an older watermark: it rejoins without moving the watermark backwards,
    # and holds it back again only once it has caught up.
    valve.input_watermark_status(ACTIVE, 1)
    valve.input_watermark(3, 1)
    valve.input_watermark(20, 0)
    assert recorder.take() == [("watermark", 20)]
    valve.input_watermark(25, 1)
    valve.input_watermark(30, 0)
    assert recorder.take() == [("watermark", 25)]


def test_valve_all_idle_flushes_the_largest_watermark_and_goes_idle() -> None:
    valve, recorder = _valve(2)
    valve.input_watermark(10, 0)
    valve.input_watermark(5, 1)
    valve.input_watermark_status(IDLE, 0)
    valve.input_watermark_status(IDLE, 1)
    valve.input_watermark(50, 1)  # a watermark on an idle channel is ignored
    valve.input_watermark_status(IDLE, 1)  # no change: nothing emitted
    assert recorder.take() == [("watermark", 5), ("watermark", 10), ("status", IDLE)]
    valve.input_watermark_status(ACTIVE, 0)
    valve.input_watermark(11, 0)
    assert recorder.take() == [("status", ACTIVE), ("watermark", 11)]


def test_two_input_operator_ignores_an_idle_input() -> None:
    class TwoInputs(TwoInputStreamOperator):
        pass

    recorder = Recorder()
    operator = TwoInputs("two")
    operator.setup(ClockedContext(), recorder.output())
    operator.process_watermark_of_input(0, 10)
    assert recorder.take() == []
    operator.process_watermark_status_of_input(1, IDLE)
    assert recorder.take() == [("watermark", 10)]
    operator.process_watermark_status_of_input(0, IDLE)  # both idle: no advance, idle
    assert recorder.take() == [("status", IDLE)]
    operator.process_watermark_status_of_input(1, ACTIVE)
    operator.process_watermark_of_input(1, 4)  # behind: no regression
    operator.process_watermark_of_input(1, 14)
    assert recorder.take() == [("status", ACTIVE), ("watermark", 14)]


def test_watermark_status_events_cross_processes_as_the_same_objects() -> None:
    assert pickle.loads(pickle.dumps(IDLE)) is IDLE
    assert pickle.loads(pickle.dumps(ACTIVE)) is ACTIVE
    assert IDLE.is_idle() and not ACTIVE.is_idle()


def test_minimum_watermark_constant_matches() -> None:
    assert MIN_WATERMARK == NO_TIMESTAMP
