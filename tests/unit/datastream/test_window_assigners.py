"""Windows and window assigners (``flink_py.datastream.window``): Flink's exact window bounds."""

from __future__ import annotations

import doctest
import importlib
import pickle
from io import BytesIO
from typing import Any, Dict, List

import pytest

from flink_py.common.time import Duration, Time
from flink_py.datastream import window as window_module
from flink_py.datastream.window import (
    CountSlidingWindowAssigner, CountTrigger, CountTumblingWindowAssigner, CountWindow,
    CountWindowSerializer, DynamicEventTimeSessionWindows, DynamicProcessingTimeSessionWindows,
    EventTimeSessionWindows, EventTimeTrigger, GlobalWindow, GlobalWindows,
    GlobalWindowSerializer, MergingWindowAssigner, NeverTrigger, ProcessingTimeSessionWindows,
    ProcessingTimeTrigger, SessionWindowTimeGapExtractor, SlidingEventTimeWindows,
    SlidingProcessingTimeWindows, TimeWindow, TimeWindowSerializer, TumblingEventTimeWindows,
    TumblingProcessingTimeWindows, WindowAssigner)
from flink_py.errors import InvalidProgramError, InvalidTypeError

LONG_MIN = -(2 ** 63)


def java_window_start_with_offset(timestamp: int, offset: int, window_size: int) -> int:
    """Flink's ``TimeWindow.getWindowStartWithOffset``, with Java's truncating remainder."""
    difference = timestamp - offset
    remainder = abs(difference) % window_size * (1 if difference >= 0 else -1)
    if remainder < 0:
        return timestamp - (remainder + window_size)
    return timestamp - remainder


class FakeAssignerContext(WindowAssigner.WindowAssignerContext):
    """A test double of the assigner context: a settable clock and a per-key value state."""

    def __init__(self, now: int = 0) -> None:
        self.now = now
        self.values: Dict[str, Any] = {}

    def get_current_processing_time(self) -> int:
        return self.now

    def get_runtime_context(self) -> "FakeAssignerContext":
        return self

    def get_state(self, descriptor: Any) -> "FakeValueState":
        return FakeValueState(self.values, descriptor.name)


class FakeValueState:
    def __init__(self, values: Dict[str, Any], name: str) -> None:
        self._values, self._name = values, name

    def value(self) -> Any:
        return self._values.get(self._name)

    def update(self, value: Any) -> None:
        self._values[self._name] = value

    def clear(self) -> None:
        self._values.pop(self._name, None)


class RecordingCallback(MergingWindowAssigner.MergeCallback):
    def __init__(self) -> None:
        self.merges: List[tuple] = []

    def merge(self, to_be_merged, merge_result) -> None:
        self.merges.append((sorted(to_be_merged), merge_result))


def tw(start: int, end: int) -> TimeWindow:
    return TimeWindow(start, end)


# -- windows ------------------------------------------------------------------------------------


def test_time_window_bounds_and_repr():
    w = tw(0, 10000)
    assert w.max_timestamp() == 9999
    assert (w.start, w.end) == (0, 10000)
    assert repr(w) == "TimeWindow{start=0, end=10000}"
    assert str(tw(-5, 3)) == "TimeWindow{start=-5, end=3}"


def test_time_window_equality_hash_order_and_pickle():
    assert tw(0, 5) == tw(0, 5) and hash(tw(0, 5)) == hash(tw(0, 5))
    assert tw(0, 5) != tw(0, 6) and tw(0, 5) != tw(1, 5)
    # a TimeWindow is a tuple underneath (hashing in C): it equals the tuple of its bounds
    assert tw(0, 5) == (0, 5)
    assert len({tw(0, 5), tw(0, 5), tw(1, 5)}) == 2
    assert sorted([tw(3, 4), tw(0, 9), tw(0, 2)]) == [tw(0, 2), tw(0, 9), tw(3, 4)]
    assert tw(0, 2) <= tw(0, 2) and tw(0, 3) > tw(0, 2) and tw(1, 0) >= tw(0, 9)
    assert pickle.loads(pickle.dumps(tw(-3, 7))) == tw(-3, 7)


def test_time_window_intersects_includes_touching_windows():
    assert tw(0, 5).intersects(tw(5, 10)) and tw(5, 10).intersects(tw(0, 5))
    assert tw(0, 5).intersects(tw(2, 3))
    assert not tw(0, 5).intersects(tw(6, 10)) and not tw(6, 10).intersects(tw(0, 5))
    assert tw(0, 5).cover(tw(3, 9)) == tw(0, 9)
    assert tw(3, 9).cover(tw(-1, 4)) == tw(-1, 9)


def test_global_and_count_windows():
    assert GlobalWindow.get() == GlobalWindow() and hash(GlobalWindow()) == 0
    assert GlobalWindow.get().max_timestamp() == 2 ** 63 - 1
    assert repr(GlobalWindow.get()) == "GlobalWindow"
    assert pickle.loads(pickle.dumps(GlobalWindow.get())) is GlobalWindow.get()
    assert CountWindow(3) == CountWindow(3) and CountWindow(3) != CountWindow(4)
    assert CountWindow(3).max_timestamp() == 2 ** 63 - 1
    assert repr(CountWindow(3)) == "CountWindow{id=3}"


def test_window_serializers_round_trip():
    for serializer, window in [(TimeWindowSerializer(), tw(-7, 2 ** 62)),
                               (CountWindowSerializer(), CountWindow(42)),
                               (GlobalWindowSerializer(), GlobalWindow.get())]:
        stream = BytesIO()
        serializer.serialize(window, stream)
        stream.seek(0)
        assert serializer.deserialize(stream) == window
    stream = BytesIO()
    TimeWindowSerializer().serialize(tw(1, 2), stream)
    assert stream.getvalue() == (1).to_bytes(8, "big") + (2).to_bytes(8, "big")


@pytest.mark.parametrize("size", [1, 3, 1000, 5000, 86_400_000])
def test_window_start_with_offset_matches_java_for_negative_values(size):
    offsets = sorted({0, 1, -1, size // 2, -(size // 2), size - 1, -(size - 1)})
    for timestamp in [-2 * size - 1, -size - 1, -size, -size + 1, -1, 0, 1, size - 1, size,
                      size + 1, 7000, -7000, 1_700_000_000_123, -1_700_000_000_123]:
        for offset in offsets:
            assert (TimeWindow.get_window_start_with_offset(timestamp, offset, size)
                    == java_window_start_with_offset(timestamp, offset, size)), \
                (timestamp, offset, size)


def test_merge_windows_merges_overlapping_and_touching_groups():
    callback = RecordingCallback()
    TimeWindow.merge_windows([tw(10, 15), tw(1, 6), tw(4, 9), tw(20, 25), tw(15, 17)], callback)
    assert callback.merges == [([tw(1, 6), tw(4, 9)], tw(1, 9)),
                               ([tw(10, 15), tw(15, 17)], tw(10, 17))]


def test_merge_windows_single_and_duplicate_windows_do_not_merge():
    callback = RecordingCallback()
    TimeWindow.merge_windows([tw(0, 4), tw(0, 4)], callback)
    TimeWindow.merge_windows([tw(0, 4)], callback)
    TimeWindow.merge_windows([], callback)
    assert callback.merges == []


# -- tumbling -----------------------------------------------------------------------------------


def test_tumbling_event_time_windows():
    assigner = TumblingEventTimeWindows.of(Time.seconds(5))
    assert assigner.assign_windows("x", 0, None) == [tw(0, 5000)]
    assert assigner.assign_windows("x", 4999, None) == [tw(0, 5000)]
    assert assigner.assign_windows("x", 5000, None) == [tw(5000, 10000)]
    assert assigner.assign_windows("x", 7000, None) == [tw(5000, 10000)]
    assert assigner.assign_windows("x", -1, None) == [tw(-5000, 0)]
    assert assigner.assign_windows("x", -5000, None) == [tw(-5000, 0)]
    assert assigner.assign_windows("x", -5001, None) == [tw(-10000, -5000)]
    assert assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(None), EventTimeTrigger)
    assert isinstance(assigner.get_default_trigger(), EventTimeTrigger)
    assert isinstance(assigner.get_window_serializer(), TimeWindowSerializer)


def test_tumbling_event_time_windows_with_offsets():
    positive = TumblingEventTimeWindows.of(Time.seconds(5), Time.seconds(1))
    assert positive.assign_windows("x", 500, None) == [tw(-4000, 1000)]
    assert positive.assign_windows("x", 1000, None) == [tw(1000, 6000)]
    assert positive.assign_windows("x", -4001, None) == [tw(-9000, -4000)]
    negative = TumblingEventTimeWindows.of(Time.seconds(5), Time.seconds(-1))
    assert negative.assign_windows("x", 3999, None) == [tw(-1000, 4000)]
    assert negative.assign_windows("x", 4000, None) == [tw(4000, 9000)]
    # A day in UTC+08:00: windows start at 16:00 UTC.
    days = TumblingEventTimeWindows.of(Time.days(1), Time.hours(-8))
    assert days.assign_windows("x", 0, None) == [tw(-28_800_000, 57_600_000)]


def test_tumbling_sizes_as_time_duration_or_int_are_the_same():
    expected = [tw(5000, 15000)]
    for size, offset in [(Time.seconds(10), Time.seconds(5)),
                         (Duration.of_seconds(10), Duration.of_millis(5000)), (10000, 5000)]:
        assert TumblingEventTimeWindows.of(size, offset).assign_windows(
            "x", 12000, None) == expected
    assert repr(TumblingEventTimeWindows.of(10000)) == "TumblingEventTimeWindows(10000, 0)"


def test_tumbling_processing_time_windows_use_the_clock_not_the_timestamp():
    assigner = TumblingProcessingTimeWindows.of(Time.seconds(5), Time.milliseconds(100))
    context = FakeAssignerContext(now=12_345)
    assert assigner.assign_windows("x", 99_999_999, context) == [tw(10_100, 15_100)]
    assert assigner.assign_windows("x", None, context) == [tw(10_100, 15_100)]
    assert not assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(), ProcessingTimeTrigger)


@pytest.mark.parametrize("size, offset", [(0, 0), (-5, 0), (5, 5), (5, -5), (5, 7)])
def test_tumbling_bad_parameters(size, offset):
    for cls in (TumblingEventTimeWindows, TumblingProcessingTimeWindows):
        with pytest.raises(InvalidProgramError, match=r"abs\(offset\) < size") as info:
            cls.of(size, offset)
        assert f"size={size} ms" in str(info.value) and f"offset={offset} ms" in str(info.value)


def test_bad_size_types():
    with pytest.raises(InvalidTypeError, match="size must be a Time, a Duration or an int"):
        TumblingEventTimeWindows.of(5.0)
    with pytest.raises(InvalidTypeError, match="'5s'"):
        SlidingEventTimeWindows.of("5s", Time.seconds(1))
    with pytest.raises(InvalidTypeError):
        EventTimeSessionWindows.with_gap(True)


def test_event_time_assigners_reject_records_without_timestamp():
    for assigner in (TumblingEventTimeWindows.of(Time.seconds(1)),
                     SlidingEventTimeWindows.of(Time.seconds(2), Time.seconds(1)),
                     EventTimeSessionWindows.with_gap(Time.seconds(1)),
                     DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: 5)):
        with pytest.raises(InvalidProgramError, match="assign_timestamps_and_watermarks"):
            assigner.assign_windows("x", None, None)
    with pytest.raises(InvalidProgramError, match="no timestamp"):
        TumblingEventTimeWindows.of(Time.seconds(1)).assign_windows("x", LONG_MIN, None)


# -- sliding ------------------------------------------------------------------------------------


def test_sliding_event_time_windows_example():
    assigner = SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5))
    assert assigner.assign_windows("x", 7000, None) == [tw(5000, 15000), tw(0, 10000)]
    assert assigner.assign_windows("x", 5000, None) == [tw(5000, 15000), tw(0, 10000)]
    assert assigner.assign_windows("x", 4999, None) == [tw(0, 10000), tw(-5000, 5000)]
    assert assigner.assign_windows("x", -1, None) == [tw(-5000, 5000), tw(-10000, 0)]
    assert assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(), EventTimeTrigger)


def test_sliding_windows_with_a_slide_that_does_not_divide_the_size():
    assigner = SlidingEventTimeWindows.of(10, 3)
    assert assigner.assign_windows("x", 8, None) == [tw(6, 16), tw(3, 13), tw(0, 10)]
    assert assigner.assign_windows("x", 9, None) == [tw(9, 19), tw(6, 16), tw(3, 13), tw(0, 10)]
    # Slide larger than size: elements in the gaps belong to no window.
    gaps = SlidingEventTimeWindows.of(2, 5)
    assert gaps.assign_windows("x", 1, None) == [tw(0, 2)]
    assert gaps.assign_windows("x", 3, None) == []


def test_sliding_windows_are_exactly_the_aligned_windows_that_hold_the_timestamp():
    for size, slide, offset in [(10, 5, 0), (10, 5, 3), (10, 5, -4), (7, 3, 1), (6, 6, 2),
                                (4, 7, -3)]:
        assigner = SlidingEventTimeWindows.of(size, slide, offset)
        for timestamp in range(-30, 31):
            expected = [tw(start, start + size)
                        for start in range(timestamp + 50, timestamp - 50, -1)
                        if (start - offset) % slide == 0 and start <= timestamp < start + size]
            assert assigner.assign_windows("x", timestamp, None) == expected, \
                (size, slide, offset, timestamp)


def test_sliding_with_offset_and_processing_time():
    assigner = SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5), Time.seconds(1))
    assert assigner.assign_windows("x", 7000, None) == [tw(6000, 16000), tw(1000, 11000)]
    processing = SlidingProcessingTimeWindows.of(Time.seconds(10), Time.seconds(5))
    context = FakeAssignerContext(now=7000)
    assert processing.assign_windows("x", -123, context) == [tw(5000, 15000), tw(0, 10000)]
    assert not processing.is_event_time()
    assert isinstance(processing.get_default_trigger(), ProcessingTimeTrigger)
    assert repr(processing) == "SlidingProcessingTimeWindows(10000, 5000, 0)"


@pytest.mark.parametrize("size, slide, offset", [
    (10, 0, 0), (10, -5, 0), (0, 5, 0), (-10, 5, 0), (10, 5, 5), (10, 5, -5), (10, 5, 6)])
def test_sliding_bad_parameters(size, slide, offset):
    for cls in (SlidingEventTimeWindows, SlidingProcessingTimeWindows):
        with pytest.raises(InvalidProgramError,
                           match=r"abs\(offset\) < slide and size > 0") as info:
            cls.of(size, slide, offset)
        assert f"size={size} ms, slide={slide} ms, offset={offset} ms" in str(info.value)


def test_sliding_too_many_windows_per_element():
    with pytest.raises(InvalidProgramError, match=r"size / slide <= 10000000"):
        SlidingEventTimeWindows.of(Time.days(1), Time.milliseconds(1))


# -- sessions -----------------------------------------------------------------------------------


def test_event_time_session_windows_assign_and_merge_out_of_order_elements():
    assigner = EventTimeSessionWindows.with_gap(Time.milliseconds(5))
    windows = [assigner.assign_windows("x", ts, None)[0] for ts in (1, 10, 4)]
    assert windows == [tw(1, 6), tw(10, 15), tw(4, 9)]
    callback = RecordingCallback()
    assigner.merge_windows(windows, callback)
    assert callback.merges == [([tw(1, 6), tw(4, 9)], tw(1, 9))]
    callback = RecordingCallback()
    assigner.merge_windows([tw(1, 9), tw(10, 15)] + assigner.assign_windows("x", 9, None),
                           callback)
    assert callback.merges == [([tw(1, 9), tw(9, 14), tw(10, 15)], tw(1, 15))]
    assert assigner.is_event_time() and isinstance(assigner, MergingWindowAssigner)
    assert isinstance(assigner.get_default_trigger(), EventTimeTrigger)
    assert repr(assigner) == "EventTimeSessionWindows(5)"


def test_processing_time_session_windows_use_the_clock():
    assigner = ProcessingTimeSessionWindows.with_gap(Duration.of_seconds(1))
    assert assigner.assign_windows("x", 5, FakeAssignerContext(now=100)) == [tw(100, 1100)]
    assert not assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(), ProcessingTimeTrigger)


@pytest.mark.parametrize("gap", [0, -1, Time.seconds(0), Time.seconds(-3)])
def test_session_gap_must_be_positive(gap):
    with pytest.raises(InvalidProgramError, match="must satisfy 0 < size") as info:
        EventTimeSessionWindows.with_gap(gap)
    assert "session gap of" in str(info.value)
    with pytest.raises(InvalidProgramError, match="ProcessingTimeSessionWindows"):
        ProcessingTimeSessionWindows.with_gap(gap)


class ElementGap(SessionWindowTimeGapExtractor):
    def extract(self, element: Any) -> int:
        return element[1]


def test_dynamic_event_time_session_windows():
    assigner = EventTimeSessionWindows.with_dynamic_gap(ElementGap())
    assert isinstance(assigner, DynamicEventTimeSessionWindows)
    assert assigner.assign_windows(("a", 3), 10, None) == [tw(10, 13)]
    assert assigner.assign_windows(("a", 7), 11, None) == [tw(11, 18)]
    by_lambda = DynamicEventTimeSessionWindows.with_dynamic_gap(lambda e: Time.seconds(e))
    assert by_lambda.assign_windows(2, 1000, None) == [tw(1000, 3000)]
    assert assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(), EventTimeTrigger)
    callback = RecordingCallback()
    assigner.merge_windows([tw(10, 13), tw(11, 18), tw(20, 21)], callback)
    assert callback.merges == [([tw(10, 13), tw(11, 18)], tw(10, 18))]


def test_dynamic_processing_time_session_windows():
    assigner = ProcessingTimeSessionWindows.with_dynamic_gap(lambda e: e * 10)
    assert isinstance(assigner, DynamicProcessingTimeSessionWindows)
    assert assigner.assign_windows(4, None, FakeAssignerContext(now=500)) == [tw(500, 540)]
    assert not assigner.is_event_time()
    assert isinstance(assigner.get_default_trigger(), ProcessingTimeTrigger)


@pytest.mark.parametrize("gap", [0, -10])
def test_dynamic_gap_must_be_positive(gap):
    assigner = EventTimeSessionWindows.with_dynamic_gap(lambda e: gap)
    with pytest.raises(InvalidProgramError, match="0 < gap") as info:
        assigner.assign_windows("elem", 10, None)
    assert f"got {gap} ms" in str(info.value) and "'elem'" in str(info.value)
    with pytest.raises(InvalidProgramError, match="0 < gap"):
        ProcessingTimeSessionWindows.with_dynamic_gap(lambda e: gap).assign_windows(
            "elem", None, FakeAssignerContext())


def test_dynamic_gap_of_a_wrong_type_and_a_bad_extractor():
    with pytest.raises(InvalidTypeError, match="extracted session gap"):
        EventTimeSessionWindows.with_dynamic_gap(lambda e: 1.5).assign_windows("x", 0, None)
    with pytest.raises(InvalidTypeError, match="SessionWindowTimeGapExtractor or a callable"):
        EventTimeSessionWindows.with_dynamic_gap(42)


# -- global and count ---------------------------------------------------------------------------


def test_global_windows():
    assigner = GlobalWindows.create()
    assert assigner.assign_windows("x", None, None) == [GlobalWindow.get()]
    assert isinstance(assigner.get_default_trigger(), NeverTrigger)
    assert not assigner.is_event_time()
    assert repr(assigner) == "GlobalWindows()"


def test_count_tumbling_window_assigner():
    assigner = CountTumblingWindowAssigner.of(3)
    context = FakeAssignerContext()
    ids = [assigner.assign_windows(i, None, context)[0].id for i in range(7)]
    assert ids == [0, 0, 0, 1, 1, 1, 2]
    trigger = assigner.get_default_trigger()
    assert isinstance(trigger, CountTrigger) and repr(trigger) == "CountTrigger(3)"


def test_count_sliding_window_assigner_only_assigns_to_windows_that_can_become_full():
    assigner = CountSlidingWindowAssigner.of(3, 2)
    context = FakeAssignerContext()
    assigned = [[w.id for w in assigner.assign_windows(i, None, context)] for i in range(7)]
    # window i holds elements 2i .. 2i + 2
    assert assigned == [[0], [0], [1, 0], [1], [2, 1], [2], [3, 2]]
    gaps = CountSlidingWindowAssigner.of(2, 3)
    context = FakeAssignerContext()
    assert [[w.id for w in gaps.assign_windows(i, None, context)] for i in range(6)] == \
        [[0], [0], [], [1], [1], []]


@pytest.mark.parametrize("args", [(0,), (-1,)])
def test_count_assigners_reject_non_positive_sizes(args):
    with pytest.raises(InvalidProgramError, match="window size must be > 0"):
        CountTumblingWindowAssigner.of(*args)
    with pytest.raises(InvalidProgramError, match="window slide must be > 0"):
        CountSlidingWindowAssigner.of(3, *args)


# -- PyFlink completeness -----------------------------------------------------------------------

#: ``pyflink.datastream.window.__all__`` of PyFlink 2.x.
PYFLINK_WINDOW_NAMES = [
    "Window", "TimeWindow", "CountWindow", "GlobalWindow", "TumblingProcessingTimeWindows",
    "TumblingEventTimeWindows", "SlidingProcessingTimeWindows", "SlidingEventTimeWindows",
    "ProcessingTimeSessionWindows", "EventTimeSessionWindows",
    "DynamicProcessingTimeSessionWindows", "DynamicEventTimeSessionWindows", "GlobalWindows",
    "WindowAssigner", "MergingWindowAssigner", "CountTumblingWindowAssigner",
    "CountSlidingWindowAssigner", "TriggerResult", "Trigger", "EventTimeTrigger",
    "ProcessingTimeTrigger", "ContinuousEventTimeTrigger", "ContinuousProcessingTimeTrigger",
    "NeverTrigger", "PurgingTrigger", "CountTrigger", "TimeWindowSerializer",
    "CountWindowSerializer", "GlobalWindowSerializer", "SessionWindowTimeGapExtractor",
]


def test_pyflink_window_module_names_exist():
    missing = [name for name in PYFLINK_WINDOW_NAMES if not hasattr(window_module, name)]
    assert missing == []
    assert set(PYFLINK_WINDOW_NAMES) <= set(window_module.__all__)
    # PyFlink scripts import Time from the window module too.
    assert window_module.Time is Time


#: The public module and the modules of ``flink_py.datastream.windowing`` it re-exports from
#: (``doctest.testmod`` only runs the examples of objects defined in the module it is given).
DOCTEST_MODULES = [
    "flink_py.datastream.window",
    "flink_py.api.windowing._common",
    "flink_py.api.windowing.windows",
    "flink_py.api.windowing.triggers",
    "flink_py.api.windowing.assigners",
    "flink_py.api.windowing.evictors",
]


@pytest.mark.parametrize("module_name", DOCTEST_MODULES)
def test_docstring_examples(module_name: str) -> None:
    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_docstring_examples_exist() -> None:
    finder = doctest.DocTestFinder()
    names = {test.name for module_name in DOCTEST_MODULES
             for test in finder.find(importlib.import_module(module_name)) if test.examples}
    assert {"flink_py.datastream.window",
            "flink_py.api.windowing.windows.TimeWindow",
            "flink_py.api.windowing.windows.TimeWindow.get_window_start_with_offset",
            } <= names
