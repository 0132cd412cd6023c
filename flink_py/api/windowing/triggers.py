"""Triggers: :class:`TriggerResult`, :class:`Trigger` and the built-in triggers, which decide
when the pane of a window is evaluated or purged.

Part of :mod:`flink_py.datastream.window` (PyFlink's ``pyflink.datastream.window``), which
re-exports every public name: import from there.
"""

from __future__ import annotations

import abc
import enum
import operator
from typing import Any, Generic

from flink_py.common.typeinfo import Types
from flink_py.api.state import ReducingStateDescriptor, State, StateDescriptor
from flink_py.api.windowing._common import T, W, _to_millis
from flink_py.api.windowing.windows import GlobalWindow, TimeWindow, Window
from flink_py.errors import InvalidProgramError, InvalidTypeError

__all__ = [
    "TriggerResult", "Trigger", "EventTimeTrigger", "ProcessingTimeTrigger",
    "ContinuousEventTimeTrigger", "ContinuousProcessingTimeTrigger", "CountTrigger",
    "PurgingTrigger", "NeverTrigger",
]


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
            self.register_next_fire_timestamp(
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
            self.register_next_fire_timestamp(time, window, ctx, fire_timestamp)
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

    def register_next_fire_timestamp(self, time: int, window: TimeWindow,
                                     ctx: Trigger.TriggerContext,
                                     fire_timestamp_state: Any) -> None:
        """Registers the next firing after ``time``: one interval later, at most the window's
        last timestamp; ``fire_timestamp_state`` (the trigger's reducing state) keeps it."""
        next_fire_timestamp = min(time + self.interval, window.max_timestamp())
        fire_timestamp_state.add(next_fire_timestamp)
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
            self.register_next_fire_timestamp(
                now - now % self.interval, window, ctx, fire_timestamp)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow,
                           ctx: Trigger.TriggerContext) -> TriggerResult:
        fire_timestamp = ctx.get_partitioned_state(self.state_desc)
        if fire_timestamp.get() == time:
            fire_timestamp.clear()
            self.register_next_fire_timestamp(time, window, ctx, fire_timestamp)
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

    def register_next_fire_timestamp(self, time: int, window: TimeWindow,
                                     ctx: Trigger.TriggerContext,
                                     fire_timestamp_state: Any) -> None:
        """Registers the next firing after ``time``: one interval later, at most the window's
        last timestamp; ``fire_timestamp_state`` (the trigger's reducing state) keeps it."""
        next_fire_timestamp = min(time + self.interval, window.max_timestamp())
        fire_timestamp_state.add(next_fire_timestamp)
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
