"""Window assigners: :class:`WindowAssigner`, :class:`MergingWindowAssigner` and every
built-in assigner (tumbling, sliding, session, global and count windows), which map an element
and its timestamp to windows.

Part of :mod:`flink_py.datastream.window` (PyFlink's ``pyflink.datastream.window``), which
re-exports every public name: import from there.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, Collection, Generic, Iterable, List, Optional

from flink_py.common.typeinfo import Types
from flink_py.api.state import ValueStateDescriptor
from flink_py.api.windowing._common import T, W, _to_millis
from flink_py.api.windowing.triggers import (
    CountTrigger, EventTimeTrigger, NeverTrigger, ProcessingTimeTrigger, Trigger)
from flink_py.api.windowing.windows import (
    _GLOBAL_WINDOW, MIN_LONG_VALUE, CountWindow, CountWindowSerializer, GlobalWindow,
    GlobalWindowSerializer, TimeWindow, TimeWindowSerializer)
from flink_py.errors import InvalidProgramError, InvalidTypeError

__all__ = [
    "WindowAssigner", "MergingWindowAssigner",
    "TumblingEventTimeWindows", "TumblingProcessingTimeWindows",
    "SlidingEventTimeWindows", "SlidingProcessingTimeWindows",
    "EventTimeSessionWindows", "ProcessingTimeSessionWindows",
    "DynamicEventTimeSessionWindows", "DynamicProcessingTimeSessionWindows",
    "SessionWindowTimeGapExtractor", "GlobalWindows",
    "CountTumblingWindowAssigner", "CountSlidingWindowAssigner",
    "MAX_WINDOW_NUM",
]

_NO_TIMESTAMP_MESSAGE = (
    "Record has no timestamp (None or Long.MIN_VALUE = no timestamp marker). Did you forget to "
    "call 'data_stream.assign_timestamps_and_watermarks(...)' before an event-time window?")


class WindowAssigner(abc.ABC, Generic[T, W]):
    """Assigns zero or more windows to an element; elements of one key and window form a
    pane."""

    class WindowAssignerContext(abc.ABC):
        """What an assigner may ask the operator."""

        @abc.abstractmethod
        def get_current_processing_time(self) -> int:
            pass

        @abc.abstractmethod
        def get_runtime_context(self) -> Any:
            pass

    @abc.abstractmethod
    def assign_windows(self, element: T, timestamp: int,
                       context: "WindowAssigner.WindowAssignerContext") -> Collection[W]:
        """The windows of ``element``, whose timestamp is ``timestamp`` (None if it has none)."""

    @abc.abstractmethod
    def get_default_trigger(self, env: Any = None) -> Trigger[T, W]:
        """The trigger used when ``WindowedStream.trigger`` is not called."""

    def get_window_serializer(self) -> Any:
        """A serializer for this assigner's windows."""
        return None

    @abc.abstractmethod
    def is_event_time(self) -> bool:
        """Whether windows are assigned by event time (else processing time or count)."""


class MergingWindowAssigner(WindowAssigner[T, W]):
    """An assigner whose windows can merge (session windows)."""

    class MergeCallback(abc.ABC, Generic[W]):
        """Told by :meth:`MergingWindowAssigner.merge_windows` which windows merge."""

        @abc.abstractmethod
        def merge(self, to_be_merged: Iterable[W], merge_result: W) -> None:
            pass

    @abc.abstractmethod
    def merge_windows(self, windows: Iterable[W],
                      callback: "MergingWindowAssigner.MergeCallback[W]") -> None:
        """Calls ``callback.merge`` for every group of ``windows`` that merges."""


def _raise_no_timestamp(timestamp: Optional[int]) -> None:
    raise InvalidProgramError(_NO_TIMESTAMP_MESSAGE + f" (timestamp: {timestamp!r})")


class TumblingEventTimeWindows(WindowAssigner[Any, TimeWindow]):
    """Non-overlapping windows of a fixed size by the element timestamp:
    ``start = ts - (ts - offset) % size``.

    ``of(Time.days(1), Time.hours(-8))`` gives days starting at 00:00 in UTC+08:00.
    """

    def __init__(self, size: Any, offset: Any = 0) -> None:
        self._size, self._offset = _tumbling_parameters(
            size, offset, "TumblingEventTimeWindows")

    @staticmethod
    def of(size: Any, offset: Any = None) -> "TumblingEventTimeWindows":
        return TumblingEventTimeWindows(size, 0 if offset is None else offset)

    def assign_windows(self, element: Any, timestamp: int,
                       context: Any) -> List[TimeWindow]:
        if timestamp is None or timestamp <= MIN_LONG_VALUE:
            _raise_no_timestamp(timestamp)
        start = timestamp - (timestamp - self._offset) % self._size
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def get_window_serializer(self) -> TimeWindowSerializer:
        return TimeWindowSerializer()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"TumblingEventTimeWindows({self._size}, {self._offset})"


class TumblingProcessingTimeWindows(WindowAssigner[Any, TimeWindow]):
    """Non-overlapping windows of a fixed size by the operator's processing-time clock."""

    def __init__(self, size: Any, offset: Any = 0) -> None:
        self._size, self._offset = _tumbling_parameters(
            size, offset, "TumblingProcessingTimeWindows")

    @staticmethod
    def of(size: Any, offset: Any = None) -> "TumblingProcessingTimeWindows":
        return TumblingProcessingTimeWindows(size, 0 if offset is None else offset)

    def assign_windows(self, element: Any, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> List[TimeWindow]:
        now = context.get_current_processing_time()
        start = now - (now - self._offset) % self._size
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def get_window_serializer(self) -> TimeWindowSerializer:
        return TimeWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"TumblingProcessingTimeWindows({self._size}, {self._offset})"


def _tumbling_parameters(size: Any, offset: Any, owner: str) -> tuple:
    size_ms = _to_millis(size, "size", owner)
    offset_ms = _to_millis(offset, "offset", owner)
    if abs(offset_ms) >= size_ms:  # also rejects size <= 0
        raise InvalidProgramError(
            f"{owner} parameters must satisfy abs(offset) < size (and so size > 0), got "
            f"size={size_ms} ms, offset={offset_ms} ms")
    return size_ms, offset_ms


#: Flink's ``SlidingEventTimeWindows.MAX_WINDOW_NUM``: at most this many windows per element.
MAX_WINDOW_NUM = 10_000_000


def _sliding_parameters(size: Any, slide: Any, offset: Any, owner: str) -> tuple:
    size_ms = _to_millis(size, "size", owner)
    slide_ms = _to_millis(slide, "slide", owner)
    offset_ms = _to_millis(offset, "offset", owner)
    if abs(offset_ms) >= slide_ms or size_ms <= 0:  # also rejects slide <= 0
        raise InvalidProgramError(
            f"{owner} parameters must satisfy abs(offset) < slide and size > 0, got "
            f"size={size_ms} ms, slide={slide_ms} ms, offset={offset_ms} ms")
    if size_ms // slide_ms > MAX_WINDOW_NUM:
        raise InvalidProgramError(
            f"{owner} parameters must satisfy size / slide <= {MAX_WINDOW_NUM}, got "
            f"size={size_ms} ms, slide={slide_ms} ms")
    return size_ms, slide_ms, offset_ms


class SlidingEventTimeWindows(WindowAssigner[Any, TimeWindow]):
    """Windows of a fixed size every ``slide`` by the element timestamp: the element belongs to
    ``[k, k + size)`` for ``k = last, last - slide, ...`` while ``k > ts - size``, with
    ``last = ts - (ts - offset) % slide`` (latest window first, as Flink)."""

    def __init__(self, size: Any, slide: Any, offset: Any = 0) -> None:
        self._size, self._slide, self._offset = _sliding_parameters(
            size, slide, offset, "SlidingEventTimeWindows")

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> "SlidingEventTimeWindows":
        return SlidingEventTimeWindows(size, slide, 0 if offset is None else offset)

    def assign_windows(self, element: Any, timestamp: int,
                       context: Any) -> List[TimeWindow]:
        if timestamp is None or timestamp <= MIN_LONG_VALUE:
            _raise_no_timestamp(timestamp)
        size = self._size
        last_start = timestamp - (timestamp - self._offset) % self._slide
        return [TimeWindow(start, start + size)
                for start in range(last_start, timestamp - size, -self._slide)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def get_window_serializer(self) -> TimeWindowSerializer:
        return TimeWindowSerializer()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"SlidingEventTimeWindows({self._size}, {self._slide}, {self._offset})"


class SlidingProcessingTimeWindows(WindowAssigner[Any, TimeWindow]):
    """Windows of a fixed size every ``slide`` by the processing-time clock."""

    def __init__(self, size: Any, slide: Any, offset: Any = 0) -> None:
        self._size, self._slide, self._offset = _sliding_parameters(
            size, slide, offset, "SlidingProcessingTimeWindows")

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> "SlidingProcessingTimeWindows":
        return SlidingProcessingTimeWindows(size, slide, 0 if offset is None else offset)

    def assign_windows(self, element: Any, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> List[TimeWindow]:
        now = context.get_current_processing_time()
        size = self._size
        last_start = now - (now - self._offset) % self._slide
        return [TimeWindow(start, start + size)
                for start in range(last_start, now - size, -self._slide)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def get_window_serializer(self) -> TimeWindowSerializer:
        return TimeWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"SlidingProcessingTimeWindows({self._size}, {self._slide}, {self._offset})"


class SessionWindowTimeGapExtractor(abc.ABC):
    """Extracts the session gap (ms) of an element, for dynamic session windows."""

    @abc.abstractmethod
    def extract(self, element: Any) -> int:
        pass


def _gap_extractor(extractor: Any, owner: str) -> Callable[[Any], Any]:
    extract = getattr(extractor, "extract", None)
    if callable(extract):
        return extract
    if callable(extractor):
        return extractor
    raise InvalidTypeError(
        f"{owner} needs a SessionWindowTimeGapExtractor or a callable, got {extractor!r}")


def _session_gap(gap: Any, owner: str) -> int:
    gap_ms = _to_millis(gap, "session gap", owner)
    if gap_ms <= 0:
        raise InvalidProgramError(
            f"{owner} parameters must satisfy 0 < size, got a session gap of {gap_ms} ms")
    return gap_ms


def _dynamic_gap(extract: Callable[[Any], Any], element: Any) -> int:
    gap = extract(element)
    if gap.__class__ is not int:
        gap = _to_millis(gap, "the extracted session gap", "SessionWindowTimeGapExtractor")
    if gap <= 0:
        raise InvalidProgramError(
            f"Dynamic session time gap must satisfy 0 < gap, got {gap} ms for element "
            f"{element!r}")
    return gap


class _TimeSessionWindows(MergingWindowAssigner[Any, TimeWindow]):
    """What all session assigners share: merging of overlapping time windows."""

    def merge_windows(self, windows: Iterable[TimeWindow],
                      callback: MergingWindowAssigner.MergeCallback) -> None:
        TimeWindow.merge_windows(windows, callback)

    def get_window_serializer(self) -> TimeWindowSerializer:
        return TimeWindowSerializer()


class EventTimeSessionWindows(_TimeSessionWindows):
    """Sessions by element timestamp: every element opens ``[ts, ts + gap)``; overlapping (or
    touching) windows of a key merge."""

    def __init__(self, session_gap: Any) -> None:
        self._session_gap = _session_gap(session_gap, "EventTimeSessionWindows")

    @staticmethod
    def with_gap(size: Any) -> "EventTimeSessionWindows":
        return EventTimeSessionWindows(size)

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicEventTimeSessionWindows":
        return DynamicEventTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int,
                       context: Any) -> List[TimeWindow]:
        if timestamp is None:
            _raise_no_timestamp(timestamp)
        return [TimeWindow(timestamp, timestamp + self._session_gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"EventTimeSessionWindows({self._session_gap})"


class ProcessingTimeSessionWindows(_TimeSessionWindows):
    """Sessions by processing time: every element opens ``[now, now + gap)``."""

    def __init__(self, session_gap: Any) -> None:
        self._session_gap = _session_gap(session_gap, "ProcessingTimeSessionWindows")

    @staticmethod
    def with_gap(size: Any) -> "ProcessingTimeSessionWindows":
        return ProcessingTimeSessionWindows(size)

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicProcessingTimeSessionWindows":
        return DynamicProcessingTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> List[TimeWindow]:
        now = context.get_current_processing_time()
        return [TimeWindow(now, now + self._session_gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ProcessingTimeSessionWindows({self._session_gap})"


class DynamicEventTimeSessionWindows(_TimeSessionWindows):
    """Event-time sessions whose gap the extractor gives per element (must be > 0)."""

    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        self._extractor = session_window_time_gap_extractor
        self._extract = _gap_extractor(
            session_window_time_gap_extractor, "DynamicEventTimeSessionWindows")

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicEventTimeSessionWindows":
        return DynamicEventTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int,
                       context: Any) -> List[TimeWindow]:
        if timestamp is None:
            _raise_no_timestamp(timestamp)
        return [TimeWindow(timestamp, timestamp + _dynamic_gap(self._extract, element))]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"DynamicEventTimeSessionWindows({self._extractor!r})"


class DynamicProcessingTimeSessionWindows(_TimeSessionWindows):
    """Processing-time sessions whose gap the extractor gives per element (must be > 0)."""

    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        self._extractor = session_window_time_gap_extractor
        self._extract = _gap_extractor(
            session_window_time_gap_extractor, "DynamicProcessingTimeSessionWindows")

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> "DynamicProcessingTimeSessionWindows":
        return DynamicProcessingTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> List[TimeWindow]:
        now = context.get_current_processing_time()
        return [TimeWindow(now, now + _dynamic_gap(self._extract, element))]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"DynamicProcessingTimeSessionWindows({self._extractor!r})"


class GlobalWindows(WindowAssigner[Any, GlobalWindow]):
    """Puts every element into the one :class:`GlobalWindow`; its default trigger never
    fires, so give a trigger (and maybe an evictor)."""

    def assign_windows(self, element: Any, timestamp: int,
                       context: Any) -> List[GlobalWindow]:
        return [_GLOBAL_WINDOW]

    @staticmethod
    def create() -> "GlobalWindows":
        return GlobalWindows()

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return NeverTrigger()

    def get_window_serializer(self) -> GlobalWindowSerializer:
        return GlobalWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "GlobalWindows()"


def _positive_count(value: Any, what: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{owner}: {what} must be an int, got {value!r}")
    if value <= 0:
        raise InvalidProgramError(f"{owner}: {what} must be > 0, got {value}")
    return value


class CountTumblingWindowAssigner(WindowAssigner[Any, CountWindow]):
    """Windows of ``window_size`` consecutive elements of a key (PyFlink's; the per-key element
    count is a value state of the runtime context)."""

    def __init__(self, window_size: int) -> None:
        self._window_size = _positive_count(
            window_size, "window size", "CountTumblingWindowAssigner")
        self._count_descriptor = ValueStateDescriptor("tumble-count-assigner", Types.LONG())

    @staticmethod
    def of(window_size: int) -> "CountTumblingWindowAssigner":
        return CountTumblingWindowAssigner(window_size)

    def assign_windows(self, element: Any, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> List[CountWindow]:
        count_state = context.get_runtime_context().get_state(self._count_descriptor)
        current = count_state.value() or 0
        count_state.update(current + 1)
        return [CountWindow(current // self._window_size)]

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return CountTrigger(self._window_size)

    def get_window_serializer(self) -> CountWindowSerializer:
        return CountWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CountTumblingWindowAssigner({self._window_size})"


class CountSlidingWindowAssigner(WindowAssigner[Any, CountWindow]):
    """Windows of ``window_size`` elements every ``window_slide`` elements of a key (PyFlink's).

    Window ``i`` holds the elements numbered ``i * slide .. i * slide + size - 1``, so with the
    default :class:`CountTrigger` only full windows fire (PyFlink's semantics, not Java's).
    """

    def __init__(self, window_size: int, window_slide: int) -> None:
        self._window_size = _positive_count(
            window_size, "window size", "CountSlidingWindowAssigner")
        self._window_slide = _positive_count(
            window_slide, "window slide", "CountSlidingWindowAssigner")
        self._count_descriptor = ValueStateDescriptor("slide-count-assigner", Types.LONG())

    @staticmethod
    def of(window_size: int, window_slide: int) -> "CountSlidingWindowAssigner":
        return CountSlidingWindowAssigner(window_size, window_slide)

    def assign_windows(self, element: Any, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> List[CountWindow]:
        count_state = context.get_runtime_context().get_state(self._count_descriptor)
        current = count_state.value() or 0
        count_state.update(current + 1)
        window_id = current // self._window_slide
        windows = []
        # Windows are numbered by their first element; walk back while this element is still
        # inside the window (it never is when slide > size and it falls in a gap).
        while window_id >= 0 and current < window_id * self._window_slide + self._window_size:
            windows.append(CountWindow(window_id))
            window_id -= 1
        return windows

    def get_default_trigger(self, env: Any = None) -> Trigger:
        return CountTrigger(self._window_size)

    def get_window_serializer(self) -> CountWindowSerializer:
        return CountWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CountSlidingWindowAssigner({self._window_size}, {self._window_slide})"
