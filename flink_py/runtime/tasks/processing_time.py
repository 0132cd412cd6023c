"""ProcessingTimeService: wall-clock timers of one task, fired into the task's mailbox.

Operators register a callback for a wall-clock time (ms since the epoch); when it is due the
service's thread only enqueues it as a mail of the task (for every kind of task), so the
callback runs in a mailbox step, between two default-action steps, never concurrently with
the task's operators. This is how periodic watermarks, processing-time windows and
``register_processing_time_timer`` get their time.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable, List, Optional, Tuple

log = logging.getLogger(__name__)

TimerCallback = Callable[[int], None]


def current_processing_time() -> int:
    """Milliseconds since the epoch, as Flink's ``System.currentTimeMillis()``."""
    return time.time_ns() // 1_000_000


class ScheduledTimer:
    """A registered timer; ``cancel()`` keeps it from firing (if it has not yet)."""

    __slots__ = ("timestamp", "callback", "cancelled")

    def __init__(self, timestamp: int, callback: TimerCallback) -> None:
        self.timestamp = timestamp
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ProcessingTimeService:
    """The timers of one task. ``run_in_task(fn)`` queues ``fn()`` as a mail of the task."""

    def __init__(self, run_in_task: Callable[[Callable[[], None]], None],
                 name: str = "task") -> None:
        self._run_in_task = run_in_task
        self._name = name
        self._cond = threading.Condition()
        self._heap: List[Tuple[int, int, ScheduledTimer]] = []
        self._sequence = itertools.count()
        self._thread: Optional[threading.Thread] = None
        self._shutdown = False

    def get_current_processing_time(self) -> int:
        return current_processing_time()

    def register_timer(self, timestamp: int, callback: TimerCallback) -> ScheduledTimer:
        """Calls ``callback(timestamp)`` in the task once the wall clock reaches ``timestamp``."""
        timer = ScheduledTimer(timestamp, callback)
        with self._cond:
            if self._shutdown:
                timer.cancelled = True
                return timer
            heapq.heappush(self._heap, (timestamp, next(self._sequence), timer))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"Timers of {self._name}")
                self._thread.start()
            self._cond.notify()
        return timer

    def shutdown(self) -> None:
        """Drops every pending timer and ends the timer thread."""
        with self._cond:
            self._shutdown = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._shutdown:
                        return
                    if self._heap:
                        due = self._heap[0][0] - current_processing_time()
                        if due <= 0:
                            timer = heapq.heappop(self._heap)[2]
                            break
                        self._cond.wait(due / 1000.0)
                    else:
                        self._cond.wait()
            if not timer.cancelled:
                self._run_in_task(self._firing(timer))

    def _firing(self, timer: ScheduledTimer) -> Callable[[], None]:
        def fire() -> None:
            if not timer.cancelled and not self._shutdown:
                timer.callback(timer.timestamp)
        return fire
