"""``TimerService``, as in ``pyflink.datastream.timerservice``."""

from __future__ import annotations

import abc


class TimerService(abc.ABC):
    """Clocks, and timers for the current key (keyed streams only)."""

    @abc.abstractmethod
    def current_processing_time(self) -> int:
        """The wall-clock time, ms since the epoch."""

    @abc.abstractmethod
    def current_watermark(self) -> int:
        """The operator's current event-time watermark."""

    @abc.abstractmethod
    def register_processing_time_timer(self, timestamp: int) -> None:
        """``on_timer`` is called once the wall clock reaches ``timestamp``."""

    @abc.abstractmethod
    def register_event_time_timer(self, timestamp: int) -> None:
        """``on_timer`` is called once the watermark reaches ``timestamp``."""

    @abc.abstractmethod
    def delete_processing_time_timer(self, timestamp: int) -> None:
        pass

    @abc.abstractmethod
    def delete_event_time_timer(self, timestamp: int) -> None:
        pass
