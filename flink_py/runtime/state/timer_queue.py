"""Timer queues created by a keyed state backend (Flink's ``HeapPriorityQueueSet``).

A queue holds the timers of one timer service and one time domain. It is Flink's heap,
operation for operation, because the heap decides the order in which timers with the same
timestamp fire (windows of several keys ending together, timers of many keys at one
instant), and a program must print what Flink prints:

* a binary heap in an array whose head is at index 1, ordered by timestamp only;
* ``add`` appends and sifts up while the timer is strictly earlier than its parent;
* removing the element at an index (``poll`` removes the head) moves the last element there,
  sifts it down (to the first child unless the second is strictly earlier, while the child is
  strictly earlier) and, if it did not move, up;
* deletion is eager (each timer knows its index), and a set of ``(timestamp, key,
  namespace)`` keeps one timer per triple: registering one twice keeps the first.

That order was checked against Flink 2.3's own ``HeapPriorityQueueSet`` on a JVM and against
PyFlink programs (``tests/unit/runtime/test_timer_queue.py``). Flink's heap backend (the
default) keeps every timer of a task in this one heap, whatever its key group; a snapshot
writes each key group's timers in heap-array order and a restore adds them back key group by
key group, as here. Both our backends keep timers on the heap (Flink's
``state.backend.rocksdb.timer-service.factory: HEAP``); Flink's RocksDB timer store, which
orders ties by serialized key, is not reproduced.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

from flink_py.common.compiled import load_compiled

__all__ = ["EventTimeRegistrar", "InternalTimer", "KeyGroupedTimerQueue", "PyInternalTimer",
           "PyTimerQueue", "TimerKey"]

_MAX_LONG = 2 ** 63 - 1
_MIN_LONG = -2 ** 63

#: a timer as snapshots carry it: ``(timestamp, key, namespace)``
TimerKey = Tuple[int, Any, Any]


class PyInternalTimer:
    """A timer: when, for which key, in which namespace (e.g. a window). ``index`` is its
    place in the heap of the queue holding it (0 once it left the queue)."""

    __slots__ = ("timestamp", "key", "namespace", "index")

    def __init__(self, timestamp: int, key: Any, namespace: Any) -> None:
        self.timestamp = timestamp
        self.key = key
        self.namespace = namespace
        self.index = 0

    def __repr__(self) -> str:
        return f"Timer{{timestamp={self.timestamp}, key={self.key!r}, namespace={self.namespace!r}}}"

    # Flink's TimerHeapInternalTimer: equal when timestamp, key and namespace are
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyInternalTimer):
            return NotImplemented
        return (self.timestamp == other.timestamp and self.key == other.key
                and self.namespace == other.namespace)

    def __hash__(self) -> int:
        return hash((self.timestamp, self.key, self.namespace))


class PyTimerQueue:
    """Flink's ``HeapPriorityQueueSet`` of timers (see the module).

    ``heap[0]`` is unused so that the index arithmetic is Flink's: the children of ``i`` are
    ``2i`` and ``2i + 1``.

    >>> queue = PyTimerQueue("timers/event")
    >>> queue.add(20, "a", None); queue.add(10, "b", None); queue.add(10, "b", None)
    True
    True
    False
    >>> len(queue), queue.peek_time()
    (2, 10)
    >>> queue.pop_due(15)
    Timer{timestamp=10, key='b', namespace=None}
    >>> queue.pop_due(15) is None
    True
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.heap: List[Any] = [None]
        #: the dedup map: (timestamp, key, namespace) -> the timer in the heap
        self.timers: Dict[TimerKey, PyInternalTimer] = {}

    def add(self, timestamp: int, key: Any, namespace: Any) -> bool:
        """Adds the timer unless the queue holds it; True if it was added."""
        timers = self.timers
        triple = (timestamp, key, namespace)
        if triple in timers:
            return False
        if not _MIN_LONG <= timestamp <= _MAX_LONG:
            raise OverflowError(f"a timer's timestamp must fit a Java long "
                                f"({_MIN_LONG}..{_MAX_LONG}), got {timestamp}")
        timer = timers[triple] = PyInternalTimer(timestamp, key, namespace)
        heap = self.heap
        heap.append(timer)
        self._sift_up(len(heap) - 1)
        return True

    def remove(self, timestamp: int, key: Any, namespace: Any) -> bool:
        """Removes the timer if the queue holds it; True if it did."""
        timer = self.timers.pop((timestamp, key, namespace), None)
        if timer is None:
            return False
        self._remove_at(timer.index)
        return True

    def peek(self) -> Optional[PyInternalTimer]:
        """The head: the earliest timer (None when empty)."""
        heap = self.heap
        return heap[1] if len(heap) > 1 else None

    def peek_time(self) -> Optional[int]:
        """The earliest timer's timestamp (None when empty)."""
        heap = self.heap
        return heap[1].timestamp if len(heap) > 1 else None

    def poll(self) -> PyInternalTimer:
        """Removes and returns the head (the queue must not be empty)."""
        timer = self._remove_at(1)
        del self.timers[(timer.timestamp, timer.key, timer.namespace)]
        return timer

    def pop_due(self, time: int) -> Optional[PyInternalTimer]:
        """The head if its ``timestamp <= time``, removed; None if no timer is due."""
        heap = self.heap
        if len(heap) > 1 and heap[1].timestamp <= time:
            return self.poll()
        return None

    def _remove_at(self, index: int) -> PyInternalTimer:
        heap = self.heap
        removed = heap[index]
        removed.index = 0
        last = heap.pop()
        if last is removed:
            return removed
        heap[index] = last
        last.index = index
        self._sift_down(index)
        if heap[index] is last:
            self._sift_up(index)
        return removed

    def _sift_up(self, index: int) -> None:
        heap = self.heap
        timer = heap[index]
        timestamp = timer.timestamp
        parent_index = index >> 1
        while parent_index:
            parent = heap[parent_index]
            if timestamp >= parent.timestamp:
                break
            heap[index] = parent
            parent.index = index
            index = parent_index
            parent_index >>= 1
        heap[index] = timer
        timer.index = index

    def _sift_down(self, index: int) -> None:
        heap = self.heap
        size = len(heap) - 1
        timer = heap[index]
        timestamp = timer.timestamp
        child_index = index << 1
        while child_index <= size:
            child = heap[child_index]
            if child_index < size:
                second = heap[child_index + 1]
                if second.timestamp < child.timestamp:
                    child_index += 1
                    child = second
            if child.timestamp >= timestamp:
                break
            heap[index] = child
            child.index = index
            index = child_index
            child_index = index << 1
        heap[index] = timer
        timer.index = index

    def __iter__(self) -> Iterator[TimerKey]:
        """The timers in heap-array order (the order a snapshot writes them in)."""
        return iter([(t.timestamp, t.key, t.namespace) for t in self.heap[1:]])

    def __len__(self) -> int:
        return len(self.heap) - 1


_COMPILED = load_compiled("flink_py.runtime.state._timer_heap")
#: the timer queue and the timer it holds: compiled when built, else the Python classes
KeyGroupedTimerQueue: Any = _COMPILED.TimerHeap if _COMPILED else PyTimerQueue
InternalTimer: Any = _COMPILED.InternalTimer if _COMPILED else PyInternalTimer
#: ``EventTimeRegistrar(queue, backend, namespace, validate)`` of the compiled queue (None
#: without it): ``register(timestamp)`` for the backend's current key, in C
EventTimeRegistrar: Any = _COMPILED.EventTimeRegistrar if _COMPILED else None
