"""The interval join: ``a.key_by(..).interval_join(b.key_by(..)).between(lo, hi).process(f)``.

Flink's IntervalJoinOperator: a left element with timestamp ``t`` joins every right element of
the same key with a timestamp in ``[t + lo, t + hi]`` (bounds exclusive if so configured), and
vice versa. Both sides are buffered per key and timestamp in keyed state; an element older than
the current watermark is late and dropped; buffered elements are removed by event-time timers
once no future element of the other side can join them. A joined pair is emitted with the
larger of the two timestamps.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from flink_py.api.state import MapStateDescriptor
from flink_py.errors import InvalidProgramError
from flink_py.runtime.operators.base import TwoInputStreamOperator, close_function
from flink_py.runtime.operators.simple import SideOutputCollector
from flink_py.runtime.operators.timers import InternalTimer

_LEFT, _RIGHT = "left", "right"


class _JoinContext:
    __slots__ = ("_left", "_right")

    def __init__(self) -> None:
        self._left = 0
        self._right = 0

    def get_left_timestamp(self) -> int:
        return self._left

    def get_right_timestamp(self) -> int:
        return self._right

    def get_timestamp(self) -> int:
        return max(self._left, self._right)


class IntervalJoinOperator(TwoInputStreamOperator):
    """Keyed on both inputs; see the module docstring."""

    computes_keys = True

    def __init__(self, name: str, function: Any, key_selector1: Callable[[Any], Any],
                 key_selector2: Callable[[Any], Any], lower_bound: int, upper_bound: int,
                 lower_inclusive: bool = True, upper_inclusive: bool = True) -> None:
        super().__init__(name)
        if lower_bound > upper_bound:
            raise InvalidProgramError(
                f"interval join: the lower bound ({lower_bound} ms) must not be larger than "
                f"the upper bound ({upper_bound} ms)")
        self.function = function
        self.key_selectors = (key_selector1, key_selector2)
        # Exclusive bounds become inclusive ones one millisecond inside (as Flink does).
        self.lower = lower_bound if lower_inclusive else lower_bound + 1
        self.upper = upper_bound if upper_inclusive else upper_bound - 1

    def open(self) -> None:
        backend = self.keyed_state_backend
        self._buffers = (
            backend.get_partitioned_state(MapStateDescriptor("LEFT_BUFFER")),
            backend.get_partitioned_state(MapStateDescriptor("RIGHT_BUFFER")))
        self.timers = self.get_internal_timer_service("interval-join-timers", self)
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")
        self._join = getattr(self.function, "process_element", self.function)
        self._ctx = _JoinContext()
        self._collector: Optional[SideOutputCollector] = None

    def process_batch1(self, values: list, timestamps: Optional[list]) -> None:
        self._process(0, values, timestamps)

    def process_batch2(self, values: list, timestamps: Optional[list]) -> None:
        self._process(1, values, timestamps)

    def _process(self, side: int, values: list, timestamps: Optional[list]) -> None:
        if timestamps is None:
            raise InvalidProgramError(
                f"'{self.name}': an interval join needs event timestamps on both inputs "
                f"(assign_timestamps_and_watermarks); records of input {side + 1} have none")
        backend = self.keyed_state_backend
        set_key = backend.set_current_key
        key_of = self.key_selectors[side]
        collector = self._collector = SideOutputCollector(True)
        try:
            for value, ts in zip(values, timestamps):
                set_key(key_of(value))
                self._element(side, value, ts)
        except InvalidProgramError:
            raise
        except Exception as exc:
            raise self.user_error(exc)
        finally:
            self._collector = None
        collector.flush_to(self.output)

    def _element(self, side: int, value: Any, ts: int) -> None:
        if ts < self.current_watermark:
            return  # late: Flink drops it
        own, other = self._buffers[side], self._buffers[1 - side]
        bucket = own.get(ts)
        entries: List[Any] = [] if bucket is None else bucket
        entries.append(value)
        own.put(ts, entries)
        if side == 0:
            low, high = ts + self.lower, ts + self.upper
        else:
            low, high = ts - self.upper, ts - self.lower
        ctx = self._ctx
        add_all = self._collector.add_all  # type: ignore[union-attr]
        for other_ts, others in other.items():
            if low <= other_ts <= high:
                for other_value in others:
                    if side == 0:
                        ctx._left, ctx._right = ts, other_ts
                        add_all(self._join(value, other_value, ctx), max(ts, other_ts))
                    else:
                        ctx._left, ctx._right = other_ts, ts
                        add_all(self._join(other_value, value, ctx), max(ts, other_ts))
        # When no element of the other side can still join this one, drop it (Flink's rule).
        if side == 0:
            cleanup = ts + self.upper if self.upper > 0 else ts
        else:
            cleanup = ts - self.lower if self.lower < 0 else ts
        self.timers.register_event_time_timer((_LEFT, _RIGHT)[side] + f":{ts}", cleanup)

    def on_event_time(self, timer: InternalTimer) -> None:
        side_name, _, ts_text = timer.namespace.partition(":")
        buffer = self._buffers[0 if side_name == _LEFT else 1]
        buffer.remove(int(ts_text))

    def on_processing_time(self, timer: InternalTimer) -> None:
        pass

    def process_watermark(self, watermark: int) -> None:
        self.timers.advance_watermark(watermark)
        super().process_watermark(watermark)

    def close(self) -> None:
        timers = getattr(self, "timers", None)
        if timers is not None:
            timers.close()
        try:
            close_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "close()")
