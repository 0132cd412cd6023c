"""Windows: :class:`Window`, :class:`TimeWindow`, :class:`CountWindow` and
:class:`GlobalWindow`, their serializers, and Java's ``Long`` bounds used as timestamps.

Part of :mod:`flink_py.datastream.window` (PyFlink's ``pyflink.datastream.window``), which
re-exports every public name: import from there.
"""

from __future__ import annotations

import abc
import operator
import struct
from io import BytesIO
from typing import TYPE_CHECKING, Any, Iterable, List, Optional

from flink_py.common.serializer import TypeSerializer

if TYPE_CHECKING:
    from flink_py.api.windowing.assigners import MergingWindowAssigner

__all__ = [
    "Window", "TimeWindow", "CountWindow", "GlobalWindow",
    "TimeWindowSerializer", "CountWindowSerializer", "GlobalWindowSerializer",
    "MAX_LONG_VALUE", "MIN_LONG_VALUE",
]

#: Java's ``Long.MAX_VALUE``: the max timestamp of a global or count window.
MAX_LONG_VALUE = 2 ** 63 - 1
#: Java's ``Long.MIN_VALUE``: Flink's "record has no timestamp" marker.
MIN_LONG_VALUE = -(2 ** 63)


class Window(abc.ABC):
    """A finite bucket of elements; every window has a maximum timestamp, after which all of its
    elements are known to have arrived."""

    __slots__ = ()

    @abc.abstractmethod
    def max_timestamp(self) -> int:
        """The largest timestamp that still belongs to this window."""


class TimeWindow(tuple, Window):  # type: ignore[misc]
    """The interval ``[start, end)`` in milliseconds.

    Example::

        >>> w = TimeWindow(0, 10000)
        >>> w.max_timestamp(), w.intersects(TimeWindow(10000, 20000)), w.cover(TimeWindow(5, 12))
        (9999, True, TimeWindow{start=0, end=10000})
    """

    # A tuple underneath: hashing, equality and ordering run in C, which matters as every
    # element of a window operator looks its windows up in dicts and sets.
    __slots__ = ()

    def __new__(cls, start: int, end: int) -> "TimeWindow":
        return tuple.__new__(cls, (start, end))

    start = property(operator.itemgetter(0), doc="The first timestamp of the window.")
    end = property(operator.itemgetter(1), doc="The first timestamp after the window.")

    def max_timestamp(self) -> int:
        return self.end - 1

    def intersects(self, other: "TimeWindow") -> bool:
        """Whether the windows overlap or touch (``[0, 5)`` and ``[5, 10)`` intersect, so session
        windows that touch merge, as in Flink)."""
        return self.start <= other.end and self.end >= other.start

    def cover(self, other: "TimeWindow") -> "TimeWindow":
        """The smallest window that covers this window and ``other``."""
        return TimeWindow(min(self.start, other.start), max(self.end, other.end))

    @staticmethod
    def get_window_start_with_offset(timestamp: int, offset: int, window_size: int) -> int:
        """The start of the window of size ``window_size`` shifted by ``offset`` that holds
        ``timestamp``; correct for negative timestamps and offsets (Python's ``%`` is already
        non-negative for a positive divisor, which is what Flink's special case computes).

        >>> TimeWindow.get_window_start_with_offset(-1, 0, 5000)
        -5000
        """
        return timestamp - (timestamp - offset) % window_size

    @staticmethod
    def merge_windows(windows: Iterable["TimeWindow"],
                      callback: "MergingWindowAssigner.MergeCallback") -> None:
        """Merges overlapping (or touching) windows, as Flink's ``TimeWindow.mergeWindows``.

        Calls ``callback.merge(to_be_merged, merge_result)`` once per group of two or more
        windows, ``to_be_merged`` being a list sorted by start. Duplicates count once.
        """
        current: Optional[TimeWindow] = None
        group: List[TimeWindow] = []
        for candidate in sorted(set(windows)):
            if current is None:
                current = candidate
                group = [candidate]
            elif current.intersects(candidate):
                current = current.cover(candidate)
                group.append(candidate)
            else:
                if len(group) > 1:
                    callback.merge(group, current)
                current = candidate
                group = [candidate]
        if current is not None and len(group) > 1:
            callback.merge(group, current)

    def __reduce__(self) -> Any:
        return TimeWindow, (self.start, self.end)

    def __repr__(self) -> str:
        return f"TimeWindow{{start={self.start}, end={self.end}}}"


class CountWindow(Window):
    """A window of a count-based assigner, identified by a sequence number (PyFlink's)."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:  # noqa: A002 - PyFlink's parameter name
        self.id = id

    def max_timestamp(self) -> int:
        return MAX_LONG_VALUE

    def __eq__(self, other: object) -> bool:
        return other.__class__ is CountWindow and self.id == other.id  # type: ignore

    def __hash__(self) -> int:
        return hash(self.id)

    def __reduce__(self) -> Any:
        return CountWindow, (self.id,)

    def __repr__(self) -> str:
        return f"CountWindow{{id={self.id}}}"


class GlobalWindow(Window):
    """The single window that holds every element (of :class:`GlobalWindows`)."""

    __slots__ = ()

    @staticmethod
    def get() -> "GlobalWindow":
        return _GLOBAL_WINDOW

    def max_timestamp(self) -> int:
        return MAX_LONG_VALUE

    def __eq__(self, other: object) -> bool:
        return other.__class__ is GlobalWindow

    def __hash__(self) -> int:
        return 0

    def __reduce__(self) -> Any:
        return GlobalWindow.get, ()

    def __repr__(self) -> str:
        return "GlobalWindow"


_GLOBAL_WINDOW = GlobalWindow()


class TimeWindowSerializer(TypeSerializer):
    """Writes a :class:`TimeWindow` as two big-endian longs (start, end), as Flink does."""

    _FORMAT = struct.Struct(">qq")

    def serialize(self, element: TimeWindow, stream: BytesIO) -> None:
        stream.write(self._FORMAT.pack(element.start, element.end))

    def deserialize(self, stream: BytesIO) -> TimeWindow:
        return TimeWindow(*self._FORMAT.unpack(stream.read(16)))


class CountWindowSerializer(TypeSerializer):
    """Writes a :class:`CountWindow` as one big-endian long (its id)."""

    _FORMAT = struct.Struct(">q")

    def serialize(self, element: CountWindow, stream: BytesIO) -> None:
        stream.write(self._FORMAT.pack(element.id))

    def deserialize(self, stream: BytesIO) -> CountWindow:
        return CountWindow(self._FORMAT.unpack(stream.read(8))[0])


class GlobalWindowSerializer(TypeSerializer):
    """Writes the :class:`GlobalWindow` as a single zero byte, as Flink does."""

    def serialize(self, element: GlobalWindow, stream: BytesIO) -> None:
        stream.write(b"\x00")

    def deserialize(self, stream: BytesIO) -> GlobalWindow:
        stream.read(1)
        return _GLOBAL_WINDOW
