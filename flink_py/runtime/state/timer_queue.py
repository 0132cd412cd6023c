"""Timer queues created by a keyed state backend (Flink's KeyGroupedInternalPriorityQueue).

A queue holds ``(timestamp, key, namespace)`` timers of one timer service and one time
domain. It is a heap with a set for deduplication (registering a timer twice keeps one) and
lazy deletion. The backend that created a queue snapshots it with the keyed state, per key
group (the timer's key decides its group), so timers rescale with their keys.

Both backends keep timers on the heap (Flink's ``state.backend.rocksdb.timer-service.factory:
HEAP``): timers are few per key and hot, and being in the keyed snapshot is what matters for
recovery.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Iterator, List, Optional, Set, Tuple

#: a live timer: ``(timestamp, key, namespace)``
TimerKey = Tuple[int, Any, Any]


class KeyGroupedTimerQueue:
    """A heap of timers with a set for deduplication; deletion is lazy.

    Heap entries are ``(timestamp, sequence, (timestamp, key, namespace))``: the sequence
    keeps keys and namespaces (which need not be comparable) out of the ordering, and the
    entry tuple is the very object in ``live``, so popping builds no tuple to look it up.

    >>> queue = KeyGroupedTimerQueue("timers/event")
    >>> queue.add(20, "a", None); queue.add(10, "b", None); queue.add(10, "b", None)
    >>> len(queue), queue.peek_time()
    (2, 10)
    >>> queue.pop_due(15)
    (10, 'b', None)
    >>> queue.pop_due(15) is None
    True
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.heap: List[Tuple[int, int, TimerKey]] = []
        self.live: Set[TimerKey] = set()
        self._sequence = itertools.count()

    def add(self, timestamp: int, key: Any, namespace: Any) -> None:
        entry = (timestamp, key, namespace)
        if entry not in self.live:
            self.live.add(entry)
            heapq.heappush(self.heap, (timestamp, next(self._sequence), entry))

    def remove(self, timestamp: int, key: Any, namespace: Any) -> None:
        self.live.discard((timestamp, key, namespace))

    def peek_time(self) -> Optional[int]:
        """The earliest live timer's timestamp (None when empty)."""
        heap = self.heap
        while heap and heap[0][2] not in self.live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, time: int) -> Optional[TimerKey]:
        """The earliest live timer with ``timestamp <= time``, removed; None if none is due."""
        heap = self.heap
        live = self.live
        while heap and heap[0][0] <= time:
            entry = heapq.heappop(heap)[2]
            if entry in live:
                live.remove(entry)
                return entry
        return None

    def __iter__(self) -> Iterator[TimerKey]:
        return iter(list(self.live))

    def __len__(self) -> int:
        return len(self.live)
