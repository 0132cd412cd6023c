"""The queues of the async wait operator: which results may leave, and in what order.

Pure state, no I/O, no threads (Flink's ``StreamElementQueue``): the operator adds its input
records and watermarks in input order, marks records done as their calls complete, and pops
what may be emitted. ``OrderedStreamElementQueue`` lets results leave in input order only.
``UnorderedStreamElementQueue`` lets them leave as they complete, but never across a
watermark: the records between two watermarks form a *segment*; a watermark leaves once every
record before it has, and no record after it leaves before it (Flink's
``UnorderedStreamElementQueue``). Both hold records whose calls were not issued yet as well:
``values()`` is everything still in the queue, in an order that restores it (a checkpoint).

Example::

    >>> queue = UnorderedStreamElementQueue()
    >>> a, b = queue.add_record("a", None), queue.add_record("b", None)
    >>> queue.add_watermark(10)
    >>> c = queue.add_record("c", None)
    >>> queue.complete(c, ["C"]); queue.complete(b, ["B"])
    >>> [e.results for e in queue.pop_completed()]    # c waits behind the watermark
    [['B']]
    >>> queue.complete(a, ["A"])
    >>> [getattr(e, "results", e) for e in queue.pop_completed()]
    [['A'], 10, ['C']]
"""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, List, Optional, Set, Union

__all__ = ["OrderedStreamElementQueue", "RecordEntry", "UnorderedStreamElementQueue"]


class RecordEntry:
    """One input record in the queue: its value, timestamp and, once done, its results."""

    __slots__ = ("value", "timestamp", "results", "timed_out", "segment")

    def __init__(self, value: Any, timestamp: Optional[int]) -> None:
        self.value = value
        self.timestamp = timestamp
        #: the call's results once it completed, None before
        self.results: Optional[list] = None
        #: set (on the event loop's thread) when the call outlived the timeout
        self.timed_out = False
        self.segment: Any = None

    def __repr__(self) -> str:
        return f"RecordEntry({self.value!r}, {self.timestamp!r}, results={self.results!r})"


#: what the queues hand out: a done record, or a watermark (an int)
Element = Union[RecordEntry, int]


class OrderedStreamElementQueue:
    """Results leave in input order; a watermark leaves after every record before it.

    Example::

        >>> queue = OrderedStreamElementQueue()
        >>> first, second = queue.add_record(1, None), queue.add_record(2, None)
        >>> queue.complete(second, [20])
        >>> queue.pop_completed()
        []
        >>> queue.complete(first, [10])
        >>> [e.results for e in queue.pop_completed()], len(queue)
        ([[10], [20]], 0)
    """

    def __init__(self) -> None:
        self._queue: Deque[Element] = deque()
        self._records = 0

    def __len__(self) -> int:
        """The number of records in the queue (watermarks do not count)."""
        return self._records

    def add_record(self, value: Any, timestamp: Optional[int]) -> RecordEntry:
        entry = RecordEntry(value, timestamp)
        self._queue.append(entry)
        self._records += 1
        return entry

    def add_watermark(self, watermark: int) -> None:
        self._queue.append(watermark)

    def complete(self, entry: RecordEntry, results: list) -> None:
        entry.results = results

    def pop_completed(self) -> List[Element]:
        """The elements that may leave now, in the order they must be emitted."""
        queue = self._queue
        out: List[Element] = []
        while queue:
            head = queue[0]
            if type(head) is RecordEntry:
                if head.results is None:
                    break
                self._records -= 1
            out.append(queue.popleft())
        return out

    def values(self) -> List[Element]:
        """Everything in the queue, in input order."""
        return list(self._queue)


class _Segment:
    """The records between two watermarks (or one watermark alone)."""

    __slots__ = ("incomplete", "completed")

    def __init__(self) -> None:
        self.incomplete: Set[RecordEntry] = set()
        self.completed: Deque[Element] = deque()

    def is_empty(self) -> bool:
        return not self.incomplete and not self.completed


class UnorderedStreamElementQueue:
    """Results leave as they complete, never across a watermark (see the module docstring)."""

    def __init__(self) -> None:
        self._segments: Deque[_Segment] = deque()
        self._records = 0

    def __len__(self) -> int:
        """The number of records in the queue (watermarks do not count)."""
        return self._records

    def add_record(self, value: Any, timestamp: Optional[int]) -> RecordEntry:
        if not self._segments:
            self._segments.append(_Segment())
        entry = RecordEntry(value, timestamp)
        segment = entry.segment = self._segments[-1]
        segment.incomplete.add(entry)
        self._records += 1
        return entry

    def add_watermark(self, watermark: int) -> None:
        segments = self._segments
        if segments and segments[-1].is_empty():
            segment = segments[-1]  # nothing waits before it in that segment: reuse it
        else:
            segment = _Segment()
            segments.append(segment)
        segment.completed.append(watermark)
        segments.append(_Segment())  # the records after the watermark

    def complete(self, entry: RecordEntry, results: list) -> None:
        entry.results = results
        segment = entry.segment
        if entry in segment.incomplete:
            segment.incomplete.discard(entry)
            segment.completed.append(entry)

    def pop_completed(self) -> List[Element]:
        """The elements that may leave now, in the order they must be emitted."""
        segments = self._segments
        out: List[Element] = []
        while segments:
            head = segments[0]
            while head.completed:
                element = head.completed.popleft()
                if type(element) is RecordEntry:
                    self._records -= 1
                out.append(element)
            if head.incomplete or len(segments) == 1:
                break  # the last segment stays, for the records still to come
            segments.popleft()
        return out

    def values(self) -> List[Element]:
        """Everything in the queue, segment by segment (the order within one is free)."""
        out: List[Element] = []
        for segment in self._segments:
            out.extend(segment.completed)
            out.extend(segment.incomplete)
        return out
