"""The timers of a keyed operator: event-time timers fired by the watermark, processing-time
timers fired by the wall clock (through the task's ProcessingTimeService).

A timer is ``(timestamp, key, namespace)`` and is registered for the operator's current key.
Registering the same timer twice keeps one; deleting one that fired or never existed is a
no-op. Event-time timers fire, in timestamp order, once the watermark reaches their timestamp
(``timestamp <= watermark``); before a timer's callback runs, the key is made current so
that state reads and writes see that key's state.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, List, Optional, Set, Tuple

from flink_py.runtime.operators.base import MIN_WATERMARK


class InternalTimer:
    """A timer that fired: when, for which key, in which namespace (e.g. a window)."""

    __slots__ = ("timestamp", "key", "namespace")

    def __init__(self, timestamp: int, key: Any, namespace: Any) -> None:
        self.timestamp = timestamp
        self.key = key
        self.namespace = namespace

    def __repr__(self) -> str:
        return f"Timer{{timestamp={self.timestamp}, key={self.key!r}, namespace={self.namespace!r}}}"


class _TimerQueue:
    """A heap of timers with a set for deduplication; deletion is lazy.

    Heap entries are ``(timestamp, sequence, (timestamp, key, namespace))``: the sequence
    keeps keys and namespaces (which need not be comparable) out of the ordering, and the
    entry tuple is the very object in ``live``, so popping builds no tuple to look it up.
    """

    def __init__(self) -> None:
        self.heap: List[Tuple[int, int, Tuple[int, Any, Any]]] = []
        self.live: Set[Tuple[int, Any, Any]] = set()
        self._sequence = itertools.count()

    def add(self, timestamp: int, key: Any, namespace: Any) -> None:
        entry = (timestamp, key, namespace)
        if entry not in self.live:
            self.live.add(entry)
            heapq.heappush(self.heap, (timestamp, next(self._sequence), entry))

    def remove(self, timestamp: int, key: Any, namespace: Any) -> None:
        self.live.discard((timestamp, key, namespace))

    def peek_time(self) -> Optional[int]:
        heap = self.heap
        while heap and heap[0][2] not in self.live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, time: int) -> Optional[InternalTimer]:
        """The earliest live timer with ``timestamp <= time``, removed; None if none is due."""
        heap = self.heap
        live = self.live
        while heap and heap[0][0] <= time:
            entry = heapq.heappop(heap)[2]
            if entry in live:
                live.remove(entry)
                return InternalTimer(*entry)
        return None

    def __len__(self) -> int:
        return len(self.live)


class InternalTimerService:
    """Timers of one keyed operator instance.

    ``target`` has ``on_event_time(timer)`` and ``on_processing_time(timer)``; the backend's
    current key is set to the timer's key before each call.
    """

    def __init__(self, target: Any, keyed_state_backend: Any,
                 processing_time_service: Any) -> None:
        self._target = target
        self._backend = keyed_state_backend
        self._processing_time_service = processing_time_service
        self._event_timers = _TimerQueue()
        self._processing_timers = _TimerQueue()
        self._scheduled: Any = None  # the ScheduledTimer of the earliest processing timer
        self._scheduled_time: Optional[int] = None
        self.current_watermark = MIN_WATERMARK

    # -- registration (for the current key) ----------------------------------------------------

    def register_event_time_timer(self, namespace: Any, timestamp: int) -> None:
        # _TimerQueue.add inlined: one timer per event is the common case (W5)
        entry = (timestamp, self._backend.current_key, namespace)
        queue = self._event_timers
        if entry not in queue.live:
            queue.live.add(entry)
            heapq.heappush(queue.heap, (timestamp, next(queue._sequence), entry))

    def delete_event_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._event_timers.remove(timestamp, self._backend.current_key, namespace)

    def register_processing_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._processing_timers.add(timestamp, self._backend.current_key, namespace)
        if self._scheduled_time is None or timestamp < self._scheduled_time:
            self._schedule(timestamp)

    def delete_processing_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._processing_timers.remove(timestamp, self._backend.current_key, namespace)

    def current_processing_time(self) -> int:
        return self._processing_time_service.get_current_processing_time()

    def num_event_time_timers(self) -> int:
        return len(self._event_timers)

    def num_processing_time_timers(self) -> int:
        return len(self._processing_timers)

    # -- firing ---------------------------------------------------------------------------------

    def advance_watermark(self, watermark: int) -> None:
        """Fires every event-time timer with ``timestamp <= watermark``, in order."""
        self.current_watermark = watermark
        # _TimerQueue.pop_due inlined. Timers the callbacks register (or delete) go to the
        # same heap and set, so a due one registered while firing fires in this loop too.
        heap = self._event_timers.heap
        live = self._event_timers.live
        heappop = heapq.heappop
        backend = self._backend
        on_event_time = self._target.on_event_time
        while heap and heap[0][0] <= watermark:
            entry = heappop(heap)[2]
            if entry in live:
                live.remove(entry)
                backend.current_key = entry[1]
                on_event_time(InternalTimer(*entry))

    def _schedule(self, timestamp: int) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
        self._scheduled_time = timestamp
        self._scheduled = self._processing_time_service.register_timer(
            timestamp, self._on_processing_time)

    def _on_processing_time(self, time: int) -> None:
        self._scheduled = None
        self._scheduled_time = None
        pop = self._processing_timers.pop_due
        backend = self._backend
        now = max(time, self.current_processing_time())
        timer = pop(now)
        while timer is not None:
            backend.current_key = timer.key
            self._target.on_processing_time(timer)
            timer = pop(now)
        following = self._processing_timers.peek_time()
        if following is not None and (self._scheduled_time is None
                                      or following < self._scheduled_time):
            self._schedule(following)

    def close(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
