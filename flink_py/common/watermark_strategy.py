"""``WatermarkStrategy`` and ``TimestampAssigner``, as in ``pyflink.common.watermark_strategy``.

This module holds the strategy's settings; generating timestamps and watermarks from them
at run time is the event-time runtime's job.
"""

from __future__ import annotations

import abc
from typing import Any, Optional

from flink_py.common.time import Duration
from flink_py.errors import InvalidProgramError


class TimestampAssigner(abc.ABC):
    """Extracts an event timestamp (ms since the epoch) from a record."""

    @abc.abstractmethod
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        pass


class WatermarkStrategy:
    """How a source (or ``assign_timestamps_and_watermarks``) makes timestamps and watermarks.

    Example::

        strategy = (WatermarkStrategy
                    .for_bounded_out_of_orderness(Duration.of_seconds(5))
                    .with_timestamp_assigner(MyAssigner()))
    """

    def __init__(self, kind: str, max_out_of_orderness_ms: int = 0,
                 timestamp_assigner: Optional[Any] = None, idleness_ms: Optional[int] = None,
                 generator: Optional[Any] = None) -> None:
        self.kind = kind
        self.max_out_of_orderness_ms = max_out_of_orderness_ms
        self.timestamp_assigner = timestamp_assigner
        self.idleness_ms = idleness_ms
        self.generator = generator

    def _copy(self, **changes: Any) -> "WatermarkStrategy":
        values = dict(kind=self.kind, max_out_of_orderness_ms=self.max_out_of_orderness_ms,
                      timestamp_assigner=self.timestamp_assigner,
                      idleness_ms=self.idleness_ms, generator=self.generator)
        values.update(changes)
        return WatermarkStrategy(**values)

    def with_timestamp_assigner(self, timestamp_assigner: Any) -> "WatermarkStrategy":
        """The assigner (a TimestampAssigner or a callable ``(value, ts) -> int``)."""
        if not (isinstance(timestamp_assigner, TimestampAssigner)
                or callable(timestamp_assigner)):
            raise InvalidProgramError(
                f"with_timestamp_assigner expects a TimestampAssigner or a callable, got "
                f"{type(timestamp_assigner).__name__} {timestamp_assigner!r}")
        return self._copy(timestamp_assigner=timestamp_assigner)

    def with_idleness(self, idle_timeout: Duration) -> "WatermarkStrategy":
        """Marks an input idle after ``idle_timeout`` without records."""
        return self._copy(idleness_ms=_millis(idle_timeout, "idle timeout"))

    @staticmethod
    def for_monotonous_timestamps() -> "WatermarkStrategy":
        """Watermarks for timestamps that never decrease (out-of-orderness 0)."""
        return WatermarkStrategy("bounded", 0)

    @staticmethod
    def for_bounded_out_of_orderness(max_out_of_orderness: Duration) -> "WatermarkStrategy":
        """Watermarks that trail the largest timestamp seen by ``max_out_of_orderness``."""
        return WatermarkStrategy("bounded", _millis(max_out_of_orderness, "out-of-orderness"))

    @staticmethod
    def no_watermarks() -> "WatermarkStrategy":
        """No watermarks: for processing-time programs."""
        return WatermarkStrategy("none")

    @staticmethod
    def for_generator(generator_supplier: Any) -> "WatermarkStrategy":
        """A custom watermark generator."""
        return WatermarkStrategy("custom", generator=generator_supplier)

    def __repr__(self) -> str:
        return (f"WatermarkStrategy({self.kind}, out_of_orderness="
                f"{self.max_out_of_orderness_ms} ms)")


def _millis(duration: Any, what: str) -> int:
    if isinstance(duration, Duration):
        millis = duration.to_milliseconds()
    elif isinstance(duration, int) and not isinstance(duration, bool):
        millis = duration
    else:
        raise InvalidProgramError(f"{what} must be a Duration, got {duration!r}")
    if millis < 0:
        raise InvalidProgramError(f"{what} must not be negative, got {millis} ms")
    return millis
