"""What the window building blocks share: the element and window type variables, and the
conversion of a size, slide, offset or gap (Time, Duration or int of milliseconds) to ms.

Part of :mod:`flink_py.datastream.window` (PyFlink's ``pyflink.datastream.window``), which
re-exports every public name: import from there.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flink_py.common.time import Duration, Time
from flink_py.errors import InvalidTypeError

T = TypeVar("T")
W = TypeVar("W")


def _to_millis(value: Any, what: str, owner: str) -> int:
    """A size/slide/offset/gap given as Time, Duration or int of milliseconds, in ms."""
    if isinstance(value, (Time, Duration)):
        return value.to_milliseconds()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidTypeError(
        f"{owner}: {what} must be a Time, a Duration or an int of milliseconds, got {value!r} "
        f"({type(value).__name__})")
