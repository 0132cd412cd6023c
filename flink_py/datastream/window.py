"""Windows, window assigners, triggers and evictors, as in ``pyflink.datastream.window``.

These are the pure building blocks of a window operator: an assigner maps an element (and its
timestamp) to windows, a trigger decides when a window's pane is evaluated or purged, an
evictor removes elements from a pane before or after evaluation. None of them does I/O; the
window operator gives them a context for time, timers and per-window state.

Times are integer milliseconds. Sizes, slides, offsets and gaps accept PyFlink's
:class:`~flink_py.common.time.Time`, a :class:`~flink_py.common.time.Duration` or an ``int`` of
milliseconds.

Example::

    >>> TumblingEventTimeWindows.of(Time.seconds(10)).assign_windows("a", 7000, None)
    [TimeWindow{start=0, end=10000}]
    >>> SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5)).assign_windows(
    ...     "a", 7000, None)
    [TimeWindow{start=5000, end=15000}, TimeWindow{start=0, end=10000}]
"""

from __future__ import annotations

import abc
import enum
import operator
import struct
from io import BytesIO
from typing import Any, Callable, Collection, Generic, Iterable, List, Optional, TypeVar

from flink_py.common.time import Duration, Time
from flink_py.common.typeinfo import Types
from flink_py.datastream.state import (
    ReducingStateDescriptor, State, StateDescriptor, ValueStateDescriptor)
from flink_py.errors import InvalidProgramError, InvalidTypeError

__all__ = [
    "Window", "TimeWindow", "CountWindow", "GlobalWindow",
    "WindowAssigner", "MergingWindowAssigner",
    "TumblingEventTimeWindows", "TumblingProcessingTimeWindows",
    "SlidingEventTimeWindows", "SlidingProcessingTimeWindows",
    "EventTimeSessionWindows", "ProcessingTimeSessionWindows",
    "DynamicEventTimeSessionWindows", "DynamicProcessingTimeSessionWindows",
    "SessionWindowTimeGapExtractor", "GlobalWindows",
    "CountTumblingWindowAssigner", "CountSlidingWindowAssigner",
    "TriggerResult", "Trigger", "EventTimeTrigger", "ProcessingTimeTrigger",
    "ContinuousEventTimeTrigger", "ContinuousProcessingTimeTrigger", "CountTrigger",
    "PurgingTrigger", "NeverTrigger",
    "TimestampedValue", "Evictor", "CountEvictor", "TimeEvictor", "DeltaEvictor",
    "DeltaFunction",
    "TimeWindowSerializer", "CountWindowSerializer", "GlobalWindowSerializer",
]

#: Java's ``Long.MAX_VALUE``: the max timestamp of a global or count window.
MAX_LONG_VALUE = 2 ** 63 - 1
#: Java's ``Long.MIN_VALUE``: Flink's "record has no timestamp" marker.
MIN_LONG_VALUE = -(2 ** 63)

T = TypeVar("T")
W = TypeVar("W")

_NO_TIMESTAMP_MESSAGE = (
    "Record has no timestamp (None or Long.MIN_VALUE = no timestamp marker). Did you forget to "
    "call 'data_stream.assign_timestamps_and_watermarks(...)' before an event-time window?")


def _to_millis(value: Any, what: str, owner: str) -> int:
    """A size/slide/offset/gap given as Time, Duration or int of milliseconds, in ms."""
    if isinstance(value, (Time, Duration)):
        return value.to_milliseconds()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidTypeError(
        f"{owner}: {what} must be a Time, a Duration or an int of milliseconds, got {value!r} "
        f"({type(value).__name__})")


# -- windows ------------------------------------------------------------------------------------


class Window(abc.ABC):
    """A finite bucket of elements; every window has a maximum timestamp, after which all of its
    elements are known to have arrived."""

    __slots__ = ()

    @abc.abstractmethod
    def max_timestamp(self) -> int:
        """The largest timestamp that still belongs to this window."""


class TimeWindow(tuple, Window):  # type: ignore[misc]
    """The interval ``[start, end)`` in milliseconds.

    Example::

        >>> w = TimeWindow(0, 10000)
        >>> w.max_timestamp(), w.intersects(TimeWindow(10000, 20000)), w.cover(TimeWindow(5, 12))
        (9999, True, TimeWindow{start=0, end=10000})
    """

    # A tuple underneath: hashing, equality and ordering run in C, which matters as every
    # element of a window operator looks its windows up in dicts and sets.
    __slots__ = ()

    def __new__(cls, start: int, end: int) -> "TimeWindow":
        return tuple.__new__(cls, (start, end))

    start = property(operator.itemgetter(0), doc="The first timestamp of the window.")
    end = property(operator.itemgetter(1), doc="The first timestamp after the window.")

    def max_timestamp(self) -> int:
        return self.end - 1

    def intersects(self, other: "TimeWindow") -> bool:
        """Whether the windows overlap or touch (``[0, 5)`` and ``[5, 10)`` intersect, so session
        windows that touch merge, as in Flink)."""
        return self.start <= other.end and self.end >= other.start

    def cover(self, other: "TimeWindow") -> "TimeWindow":
        """The smallest window that covers this window and ``other``."""
        return TimeWindow(min(self.start, other.start), max(self.end, other.end))

    @staticmethod
    def get_window_start_with_offset(timestamp: int, offset: int, window_size: int) -> int:
        """The start of the window of size ``window_size`` shifted by ``offset`` that holds
        ``timestamp``; correct for negative timestamps and offsets (Python's ``%`` is already
        non-negative for a positive divisor, which is what Flink's special case computes).

        >>> TimeWindow.get_window_start_with_offset(-1, 0, 5000)
        -5000
        """
        return timestamp - (timestamp - offset) % window_size

    @staticmethod
    def merge_windows(windows: Iterable["TimeWindow"],
                      callback: "MergingWindowAssigner.MergeCallback") -> None:
        """Merges overlapping (or touching) windows, as Flink's ``TimeWindow.mergeWindows``.

        Calls ``callback.merge(to_be_merged, merge_result)`` once per group of two or more
        windows, ``to_be_merged`` being a list sorted by start. Duplicates count once.
        """
        current: Optional[TimeWindow] = None
        group: List[TimeWindow] = []
        for candidate in sorted(set(windows)):
            if current is None:
                current = candidate
                group = [candidate]
            elif current.intersects(candidate):
                current = current.cover(candidate)
                group.append(candidate)
            else:
                if len(group) > 1:
                    callback.merge(group, current)
                current = candidate
                group = [candidate]
        if current is not None and len(group) > 1:
            callback.merge(group, current)

    def __reduce__(self) -> Any:
        return TimeWindow, (self.start, self.end)

    def __repr__(self) -> str:
        return f"TimeWindow{{start={self.start}, end={self.end}}}"


class CountWindow(Window):
    """A window of a count-based assigner, identified by a sequence number (PyFlink's)."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:  # noqa: A002 - PyFlink's parameter name
        self.id = id

    def max_timestamp(self) -> int:
        return MAX_LONG_VALUE

    def __eq__(self, other: object) -> bool:
        return other.__class__ is CountWindow and self.id == other.id  # type: ignore

    def __hash__(self) -> int:
        return hash(self.id)

    def __reduce__(self) -> Any:
        return CountWindow, (self.id,)

    def __repr__(self) -> str:
        return f"CountWindow{{id={self.id}}}"


class GlobalWindow(Window):
    """The single window that holds every element (of :class:`GlobalWindows`)."""

    __slots__ = ()

    @staticmethod
    def get() -> "GlobalWindow":
        return _GLOBAL_WINDOW

    def max_timestamp(self) -> int:
        return MAX_LONG_VALUE

    def __eq__(self, other: object) -> bool:
        return other.__class__ is GlobalWindow

    def __hash__(self) -> int:
        return 0

    def __reduce__(self) -> Any:
        return GlobalWindow.get, ()

    def __repr__(self) -> str:
        return "GlobalWindow"


_GLOBAL_WINDOW = GlobalWindow()


class TimeWindowSerializer:
    """Writes a :class:`TimeWindow` as two big-endian longs (start, end), as Flink does."""

    _FORMAT = struct.Struct(">qq")

    def serialize(self, element: TimeWindow, stream: BytesIO) -> None:
        stream.write(self._FORMAT.pack(element.start, element.end))

    def deserialize(self, stream: BytesIO) -> TimeWindow:
        return TimeWindow(*self._FORMAT.unpack(stream.read(16)))


class CountWindowSerializer:
    """Writes a :class:`CountWindow` as one big-endian long (its id)."""

    _FORMAT = struct.Struct(">q")

    def serialize(self, element: CountWindow, stream: BytesIO) -> None:
        stream.write(self._FORMAT.pack(element.id))

    def deserialize(self, stream: BytesIO) -> CountWindow:
        return CountWindow(self._FORMAT.unpack(stream.read(8))[0])


class GlobalWindowSerializer:
    """Writes the :class:`GlobalWindow` as a single zero byte, as Flink does."""

    def serialize(self, element: GlobalWindow, stream: BytesIO) -> None:
        stream.write(b"\x00")

    def deserialize(self, stream: BytesIO) -> GlobalWindow:
        stream.read(1)
        return _GLOBAL_WINDOW


# -- triggers -----------------------------------------------------------------------------------


class TriggerResult(enum.Enum):
    """What a trigger decides for a window: ``(fire, purge)``.

    A FIRE or FIRE_AND_PURGE of a window without contents emits nothing.
    """

    CONTINUE = (False, False)
    FIRE_AND_PURGE = (True, True)
    FIRE = (True, False)
    PURGE = (False, True)

    def is_fire(self) -> bool:
        return self.value[0]

    def is_purge(self) -> bool:
        return self.value[1]


class Trigger(abc.ABC, Generic[T, W]):
    """Decides when the pane of a window (the elements of one key and window) is evaluated.

    A trigger must keep no state in its attributes (one instance serves all keys and windows):
    per-window state goes through ``ctx.get_partitioned_state(descriptor)``. A trigger used with
    a :class:`MergingWindowAssigner` must return True from :meth:`can_merge` and implement
    :meth:`on_merge`.
    """

    class TriggerContext(abc.ABC):
        """What a trigger may use: time, timers and state, all scoped to the current key and
        window."""

        @abc.abstractmethod
        def get_current_processing_time(self) -> int:
            pass

        def get_metric_group(self) -> Any:
            raise NotImplementedError("metric groups are not available to triggers yet")

        @abc.abstractmethod
        def get_current_watermark(self) -> int:
            pass

        @abc.abstractmethod
        def register_processing_time_timer(self, time: int) -> None:
            """Calls :meth:`Trigger.on_processing_time` when the clock passes ``time``."""

        @abc.abstractmethod
        def register_event_time_timer(self, time: int) -> None:
            """Calls :meth:`Trigger.on_event_time` when the watermark passes ``time``."""

        @abc.abstractmethod
        def delete_processing_time_timer(self, time: int) -> None:
            pass

        @abc.abstractmethod
        def delete_event_time_timer(self, time: int) -> None:
            pass

        @abc.abstractmethod
        def get_partitioned_state(self, state_descriptor: StateDescriptor) -> State:
            """The state of ``state_descriptor`` for the current key and window."""

    class OnMergeContext(TriggerContext):
        """The context of :meth:`Trigger.on_merge`: it can also merge state."""

        @abc.abstractmethod
        def merge_partitioned_state(self, state_descriptor: StateDescriptor) -> None:
            """Merges the state of the merged windows into the merge result (merging states
            only: reducing, aggregating, list)."""

    @abc.abstractmethod
    def on_element(self, element: T, timestamp: int, window: W,
                   ctx: "Trigger.TriggerContext") -> TriggerResult:
        """Called for every element added to a pane."""

    @abc.abstractmethod
    def on_processing_time(self, time: int, window: W,
                           ctx: "Trigger.TriggerContext") -> TriggerResult:
        """Called when a processing-time timer registered through ``ctx`` fires."""

    @abc.abstractmethod
    def on_event_time(self, time: int, window: W,
                      ctx: "Trigger.TriggerContext") -> TriggerResult:
        """Called when an event-time timer registered through ``ctx`` fires."""

    def can_merge(self) -> bool:
        """Whether this trigger supports merging windows (then :meth:`on_merge` is needed)."""
        return False

    def on_merge(self, window: W, ctx: "Trigger.OnMergeContext") -> None:
        """Called when windows were merged into ``window``."""
        raise NotImplementedError(f"{type(self).__name__} does not support merging")

    @abc.abstractmethod
    def clear(self, window: W, ctx: "Trigger.TriggerContext") -> None:
        """Removes the trigger's timers and state of ``window`` (the window is purged)."""


class EventTimeTrigger(Trigger[Any, TimeWindow]):
    """Fires once the watermark passes the window's end (at ``window.max_timestamp()``);
    fires at once for an element of a window the watermark has already passed."""

    def on_element(self, element: Any, timestamp: int, window: TimeWindow,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        max_timestamp = window.max_timestamp()
        if max_timestamp <= ctx.get_current_watermark():
            return TriggerResult.FIRE
        ctx.register_event_time_timer(max_timestamp)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: TimeWindow,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: TimeWindow, ctx: Trigger.OnMergeContext) -> None:
        # Only register a timer if the watermark is not yet past the merged window's end;
        # otherwise the next element fires the window (and a timer would fire it twice).
        max_timestamp = window.max_timestamp()
        if max_timestamp > ctx.get_current_watermark():
            ctx.register_event_time_timer(max_timestamp)

    def clear(self, window: TimeWindow, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_event_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> "EventTimeTrigger":
        return EventTimeTrigger()

    def __repr__(self) -> str:
        return "EventTimeTrigger()"


class ProcessingTimeTrigger(Trigger[Any, TimeWindow]):
    """Fires once the processing-time clock passes the window's end."""

    def on_element(self, element: Any, timestamp: int, window: TimeWindow,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        ctx.register_processing_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE

    def on_event_time(self, time: int, window: TimeWindow,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: TimeWindow, ctx: Trigger.OnMergeContext) -> None:
        max_timestamp = window.max_timestamp()
        if max_timestamp > ctx.get_current_processing_time():
            ctx.register_processing_time_timer(max_timestamp)

    def clear(self, window: TimeWindow, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_processing_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> "ProcessingTimeTrigger":
        return ProcessingTimeTrigger()

    def __repr__(self) -> str:
        return "ProcessingTimeTrigger()"


def _positive_interval(interval: Any, owner: str) -> int:
    millis = _to_millis(interval, "interval", owner)
    if millis <= 0:
        raise InvalidProgramError(f"{owner} interval must be > 0 ms, got {millis} ms")
    return millis


class ContinuousEventTimeTrigger(Trigger[Any, TimeWindow]):
    """Fires every ``interval`` of event time (aligned to multiples of the interval) and at the
    window's end, driven by the watermark.

    The next fire time is kept in a reducing state (minimum), so merged windows keep the
    earliest one.
    """

    def __init__(self, interval: Any) -> None:
        self.interval = _positive_interval(interval, "ContinuousEventTimeTrigger")
        self.state_desc = ReducingStateDescriptor("fire-time", min, Types.LONG())

    @staticmethod
    def of(interval: Any) -> "ContinuousEventTimeTrigger":
        return ContinuousEventTimeTrigger(interval)

    def on_element(self, element: Any, timestamp: int, window: TimeWindow,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        if window.max_timestamp() <= ctx.get_current_watermark():
            return TriggerResult.FIRE  # the watermark is already past the window
        ctx.register_event_time_timer(window.max_timestamp())
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        if fire_timestamp.get() is None:
            self._register_next_fire_timestamp(
                timestamp - timestamp % self.interval, window, ctx, fire_timestamp)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: TimeWindow,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        if time == window.max_timestamp():
            return TriggerResult.FIRE
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        if fire_timestamp.get() == time:
            fire_timestamp.clear()
            self._register_next_fire_timestamp(time, window, ctx, fire_timestamp)
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: TimeWindow, ctx: Trigger.OnMergeContext) -> None:
        ctx.merge_partitioned_state(self.state_desc)
        next_fire_timestamp = ctx.get_partitioned_state(self.state_desc).get()
        if next_fire_timestamp is not None:
            ctx.register_event_time_timer(next_fire_timestamp)

    def clear(self, window: TimeWindow, ctx: Trigger.TriggerContext) -> None:
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        timestamp = fire_timestamp.get()
        if timestamp is not None:
            ctx.delete_event_time_timer(timestamp)
            fire_timestamp.clear()

    def _register_next_fire_timestamp(self, time: int, window: TimeWindow,
                                      ctx: Trigger.TriggerContext, fire_timestamp: Any) -> None:
        next_fire_timestamp = min(time + self.interval, window.max_timestamp())
        fire_timestamp.add(next_fire_timestamp)
        ctx.register_event_time_timer(next_fire_timestamp)

    def __repr__(self) -> str:
        return f"ContinuousEventTimeTrigger({self.interval})"


class ContinuousProcessingTimeTrigger(Trigger[Any, TimeWindow]):
    """Fires every ``interval`` of processing time (aligned to multiples of the interval), the
    last time at the window's end."""

    def __init__(self, interval: Any) -> None:
        self.interval = _positive_interval(interval, "ContinuousProcessingTimeTrigger")
        self.state_desc = ReducingStateDescriptor("fire-time", min, Types.LONG())

    @staticmethod
    def of(interval: Any) -> "ContinuousProcessingTimeTrigger":
        return ContinuousProcessingTimeTrigger(interval)

    def on_element(self, element: Any, timestamp: int, window: TimeWindow,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        now = ctx.get_current_processing_time()
        if fire_timestamp.get() is None:
            self._register_next_fire_timestamp(
                now - now % self.interval, window, ctx, fire_timestamp)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        if fire_timestamp.get() == time:
            fire_timestamp.clear()
            self._register_next_fire_timestamp(time, window, ctx, fire_timestamp)
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: TimeWindow,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: TimeWindow, ctx: Trigger.OnMergeContext) -> None:
        ctx.merge_partitioned_state(self.state_desc)
        next_fire_timestamp = ctx.get_partitioned_state(self.state_desc).get()
        if next_fire_timestamp is not None:
            ctx.register_processing_time_timer(next_fire_timestamp)

    def clear(self, window: TimeWindow, ctx: Trigger.TriggerContext) -> None:
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        timestamp = fire_timestamp.get()
        if timestamp is not None:
            ctx.delete_processing_time_timer(timestamp)
            fire_timestamp.clear()

    def _register_next_fire_timestamp(self, time: int, window: TimeWindow,
                                      ctx: Trigger.TriggerContext, fire_timestamp: Any) -> None:
        next_fire_timestamp = min(time + self.interval, window.max_timestamp())
        fire_timestamp.add(next_fire_timestamp)
        ctx.register_processing_time_timer(next_fire_timestamp)

    def __repr__(self) -> str:
        return f"ContinuousProcessingTimeTrigger({self.interval})"


class CountTrigger(Trigger[Any, Window]):
    """Fires when the pane holds ``window_size`` elements since the last firing (the count is a
    per-window reducing state, reset on firing)."""

    def __init__(self, window_size: int) -> None:
        if isinstance(window_size, bool) or not isinstance(window_size, int):
            raise InvalidTypeError(
                f"CountTrigger count must be an int, got {window_size!r} "
                f"({type(window_size).__name__})")
        self._window_size = window_size
        self._count_state_descriptor = ReducingStateDescriptor(
            "count", operator.add, Types.LONG())

    @staticmethod
    def of(window_size: int) -> "CountTrigger":
        return CountTrigger(window_size)

    def on_element(self, element: Any, timestamp: int, window: Window,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        count = ctx.get_partitioned_state(self._count_state_descriptor)
        count.add(1)
        if count.get() >= self._window_size:
            count.clear()
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Window,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Window,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Window, ctx: Trigger.OnMergeContext) -> None:
        ctx.merge_partitioned_state(self._count_state_descriptor)

    def clear(self, window: Window, ctx: Trigger.TriggerContext) -> None:
        ctx.get_partitioned_state(self._count_state_descriptor).clear()

    def __repr__(self) -> str:
        return f"CountTrigger({self._window_size})"


class PurgingTrigger(Trigger[Any, Window]):
    """Turns any trigger into a purging one: a FIRE of the nested trigger becomes
    FIRE_AND_PURGE."""

    def __init__(self, nested_trigger: Trigger) -> None:
        if not isinstance(nested_trigger, Trigger):
            raise InvalidTypeError(
                f"PurgingTrigger.of expects a Trigger, got {nested_trigger!r}")
        self.nested_trigger = nested_trigger

    @staticmethod
    def of(nested_trigger: Trigger) -> "PurgingTrigger":
        return PurgingTrigger(nested_trigger)

    def on_element(self, element: Any, timestamp: int, window: Window,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        return _purging(self.nested_trigger.on_element(element, timestamp, window, ctx))

    def on_event_time(self, time: int, window: Window,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        return _purging(self.nested_trigger.on_event_time(time, window, ctx))

    def on_processing_time(self, time: int, window: Window,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        return _purging(self.nested_trigger.on_processing_time(time, window, ctx))

    def can_merge(self) -> bool:
        return self.nested_trigger.can_merge()

    def on_merge(self, window: Window, ctx: Trigger.OnMergeContext) -> None:
        self.nested_trigger.on_merge(window, ctx)

    def clear(self, window: Window, ctx: Trigger.TriggerContext) -> None:
        self.nested_trigger.clear(window, ctx)

    def __repr__(self) -> str:
        return f"PurgingTrigger({self.nested_trigger!r})"


def _purging(result: TriggerResult) -> TriggerResult:
    return TriggerResult.FIRE_AND_PURGE if result.value[0] else result


class NeverTrigger(Trigger[Any, GlobalWindow]):
    """Never fires: the default trigger of :class:`GlobalWindows`."""

    def on_element(self, element: Any, timestamp: int, window: GlobalWindow,
                   ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: GlobalWindow,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: GlobalWindow,
                      ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_merge(self, window: GlobalWindow, ctx: Trigger.OnMergeContext) -> None:
        pass

    def clear(self, window: GlobalWindow, ctx: Trigger.TriggerContext) -> None:
        pass

    def __repr__(self) -> str:
        return "NeverTrigger()"


# -- assigners ----------------------------------------------------------------------------------


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


# -- evictors -----------------------------------------------------------------------------------


class TimestampedValue(Generic[T]):
    """A pane element as evictors see it: the value and its timestamp (None if it has none).

    Flink's ``org.apache.flink.streaming.runtime.operators.windowing.TimestampedValue``.
    """

    __slots__ = ("value", "timestamp")

    def __init__(self, value: T, timestamp: Optional[int] = None) -> None:
        self.value = value
        self.timestamp = timestamp

    def get_value(self) -> T:
        return self.value

    def get_timestamp(self) -> int:
        if self.timestamp is None:
            raise InvalidProgramError(
                f"Record {self.value!r} has no timestamp. Did you forget to call "
                "'data_stream.assign_timestamps_and_watermarks(...)'?")
        return self.timestamp

    def has_timestamp(self) -> bool:
        return self.timestamp is not None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TimestampedValue) and self.value == other.value
                and self.timestamp == other.timestamp)

    def __hash__(self) -> int:
        return hash((self.timestamp,))

    def __reduce__(self) -> Any:
        return TimestampedValue, (self.value, self.timestamp)

    def __repr__(self) -> str:
        return f"TimestampedValue({self.value!r}, {self.timestamp!r})"


class Evictor(abc.ABC, Generic[T, W]):
    """Removes elements from a pane after the trigger fires, before and/or after the window
    function runs.

    ``elements`` is the pane as a mutable ``list`` of :class:`TimestampedValue` in insertion
    order; an evictor removes elements from it in place (Java's ``iterator.remove()``), and
    the window operator keeps what is left. ``size`` is ``len(elements)``.
    """

    class EvictorContext(abc.ABC):
        @abc.abstractmethod
        def get_current_processing_time(self) -> int:
            pass

        def get_metric_group(self) -> Any:
            raise NotImplementedError("metric groups are not available to evictors yet")

        @abc.abstractmethod
        def get_current_watermark(self) -> int:
            pass

    @abc.abstractmethod
    def evict_before(self, elements: List[TimestampedValue], size: int, window: W,
                     evictor_context: "Evictor.EvictorContext") -> None:
        """Evicts elements before the window function is called."""

    @abc.abstractmethod
    def evict_after(self, elements: List[TimestampedValue], size: int, window: W,
                    evictor_context: "Evictor.EvictorContext") -> None:
        """Evicts elements after the window function was called."""


class _BeforeOrAfterEvictor(Evictor[Any, Window]):
    """An evictor that evicts either before or after the window function."""

    def __init__(self, do_evict_after: bool) -> None:
        self._do_evict_after = bool(do_evict_after)

    def evict_before(self, elements: List[TimestampedValue], size: int, window: Window,
                     evictor_context: Evictor.EvictorContext) -> None:
        if not self._do_evict_after:
            self._evict(elements, size)

    def evict_after(self, elements: List[TimestampedValue], size: int, window: Window,
                    evictor_context: Evictor.EvictorContext) -> None:
        if self._do_evict_after:
            self._evict(elements, size)

    @abc.abstractmethod
    def _evict(self, elements: List[TimestampedValue], size: int) -> None:
        pass


class CountEvictor(_BeforeOrAfterEvictor):
    """Keeps the last ``max_count`` elements of the pane (evicts the oldest)."""

    def __init__(self, max_count: int, do_evict_after: bool = False) -> None:
        super().__init__(do_evict_after)
        if isinstance(max_count, bool) or not isinstance(max_count, int):
            raise InvalidTypeError(f"CountEvictor max_count must be an int, got {max_count!r}")
        if max_count < 0:
            raise InvalidProgramError(f"CountEvictor max_count must be >= 0, got {max_count}")
        self._max_count = max_count

    @staticmethod
    def of(max_count: int, do_evict_after: bool = False) -> "CountEvictor":
        return CountEvictor(max_count, do_evict_after)

    def _evict(self, elements: List[TimestampedValue], size: int) -> None:
        if size > self._max_count:
            del elements[:size - self._max_count]

    def __repr__(self) -> str:
        return f"CountEvictor({self._max_count})"


class TimeEvictor(_BeforeOrAfterEvictor):
    """Keeps the elements of the last ``window_size`` ms: evicts every element whose timestamp
    is ``<= max_timestamp_in_pane - window_size``. A pane whose first element has no timestamp
    is left alone, as in Flink."""

    def __init__(self, window_size: Any, do_evict_after: bool = False) -> None:
        super().__init__(do_evict_after)
        self._window_size = _to_millis(window_size, "window_size", "TimeEvictor")

    @staticmethod
    def of(window_size: Any, do_evict_after: bool = False) -> "TimeEvictor":
        return TimeEvictor(window_size, do_evict_after)

    def _evict(self, elements: List[TimestampedValue], size: int) -> None:
        if not elements or elements[0].timestamp is None:
            return
        cutoff = max(e.timestamp for e in elements) - self._window_size
        elements[:] = [e for e in elements if e.timestamp > cutoff]

    def __repr__(self) -> str:
        return f"TimeEvictor({self._window_size})"


class DeltaFunction(abc.ABC):
    """The distance between two elements, for :class:`DeltaEvictor` (Java's
    ``DeltaFunction.getDelta(oldDataPoint, newDataPoint)``)."""

    @abc.abstractmethod
    def get_delta(self, old_data_point: Any, new_data_point: Any) -> float:
        pass


class DeltaEvictor(_BeforeOrAfterEvictor):
    """Evicts every element whose delta to the last element of the pane is ``>= threshold``.

    ``delta_function`` is a :class:`DeltaFunction` or a callable ``(old, new) -> float``.
    """

    def __init__(self, threshold: float, delta_function: Any,
                 do_evict_after: bool = False) -> None:
        super().__init__(do_evict_after)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise InvalidTypeError(f"DeltaEvictor threshold must be a number, got {threshold!r}")
        get_delta = getattr(delta_function, "get_delta", None)
        if callable(get_delta):
            self._get_delta = get_delta
        elif callable(delta_function):
            self._get_delta = delta_function
        else:
            raise InvalidTypeError(
                f"DeltaEvictor needs a DeltaFunction or a callable, got {delta_function!r}")
        self._delta_function = delta_function
        self._threshold = threshold

    @staticmethod
    def of(threshold: float, delta_function: Any,
           do_evict_after: bool = False) -> "DeltaEvictor":
        return DeltaEvictor(threshold, delta_function, do_evict_after)

    def _evict(self, elements: List[TimestampedValue], size: int) -> None:
        if not elements:
            return
        last_value = elements[-1].value
        get_delta, threshold = self._get_delta, self._threshold
        elements[:] = [e for e in elements if get_delta(e.value, last_value) < threshold]

    def __repr__(self) -> str:
        return f"DeltaEvictor({self._delta_function!r}, {self._threshold})"
