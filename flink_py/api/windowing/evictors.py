"""Evictors: :class:`TimestampedValue`, :class:`Evictor` and the built-in evictors, which
remove elements from a pane before or after the window function runs.

Part of :mod:`flink_py.datastream.window` (PyFlink's ``pyflink.datastream.window``), which
re-exports every public name: import from there.
"""

from __future__ import annotations

import abc
from typing import Any, Generic, List, Optional

from flink_py.api.windowing._common import T, W, _to_millis
from flink_py.api.windowing.windows import Window
from flink_py.errors import InvalidProgramError, InvalidTypeError

__all__ = [
    "TimestampedValue", "Evictor", "CountEvictor", "TimeEvictor", "DeltaEvictor",
    "DeltaFunction",
]


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
