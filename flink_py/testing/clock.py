"""A processing-time service whose clock the test sets (Flink's TestProcessingTimeService).

>>> clock = ManualProcessingTimeService(now=0)
>>> fired = []
>>> _ = clock.register_timer(10, fired.append)
>>> clock.set_current_time(5); fired
[]
>>> clock.set_current_time(10); fired
[10]
"""

from __future__ import annotations

import heapq
import itertools
from typing import Callable, List, Tuple

from flink_py.runtime.tasks.processing_time import ScheduledTimer


class ManualProcessingTimeService:
    """``get_current_processing_time`` is what the test set; ``set_current_time`` fires
    every timer that is due, earliest first, on the caller's thread (so a test needs no
    waiting: time moves only when the test says so)."""

    def __init__(self, now: int = 0) -> None:
        self._now = now
        self._heap: List[Tuple[int, int, ScheduledTimer]] = []
        self._sequence = itertools.count()

    def get_current_processing_time(self) -> int:
        return self._now

    def register_timer(self, timestamp: int, callback: Callable[[int], None]
                       ) -> ScheduledTimer:
        timer = ScheduledTimer(timestamp, callback)
        heapq.heappush(self._heap, (timestamp, next(self._sequence), timer))
        return timer

    def set_current_time(self, now: int) -> None:
        """Moves the clock to ``now`` (never back) and fires the due timers."""
        if now < self._now:
            raise ValueError(f"processing time cannot go back: {now} < {self._now}")
        self._now = now
        heap = self._heap
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)[2]
            if not timer.cancelled:
                timer.callback(timer.timestamp)

    def num_pending_timers(self) -> int:
        return sum(1 for _, _, timer in self._heap if not timer.cancelled)

    def shutdown(self) -> None:
        self._heap.clear()
