"""Windows, window assigners, triggers and evictors, as in ``pyflink.datastream.window``.

These are the pure building blocks of a window operator: an assigner maps an element (and its
timestamp) to windows, a trigger decides when a window's pane is evaluated or purged, an
evictor removes elements from a pane before or after evaluation. None of them does I/O; the
window operator gives them a context for time, timers and per-window state.

Times are integer milliseconds. Sizes, slides, offsets and gaps accept PyFlink's
:class:`~flink_py.common.time.Time`, a :class:`~flink_py.common.time.Duration` or an ``int`` of
milliseconds.

Example::

    >>> TumblingEventTimeWindows.of(Time.seconds(10)).assign_windows("a", 7000, None)
    [TimeWindow{start=0, end=10000}]
    >>> SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5)).assign_windows(
    ...     "a", 7000, None)
    [TimeWindow{start=5000, end=15000}, TimeWindow{start=0, end=10000}]

The classes live in :mod:`flink_py.api.windowing` (``windows``, ``assigners``,
``triggers``, ``evictors``); this module is the public path and re-exports them.
"""

from __future__ import annotations

# Names this module has always exposed beyond ``__all__`` (PyFlink scripts import ``Time`` from
# here, for one); kept so that ``dir()`` of the module does not change.
import abc  # noqa: F401
import enum  # noqa: F401
import operator  # noqa: F401
import struct  # noqa: F401
from io import BytesIO  # noqa: F401
from typing import (  # noqa: F401
    Any, Callable, Collection, Generic, Iterable, List, Optional, TypeVar)

from flink_py.common.time import Duration, Time  # noqa: F401
from flink_py.common.typeinfo import Types  # noqa: F401
from flink_py.api.state import (  # noqa: F401
    ReducingStateDescriptor, State, StateDescriptor, ValueStateDescriptor)
from flink_py.api.windowing._common import T, W  # noqa: F401
from flink_py.api.windowing.assigners import (  # noqa: F401
    MAX_WINDOW_NUM, CountSlidingWindowAssigner, CountTumblingWindowAssigner,
    DynamicEventTimeSessionWindows, DynamicProcessingTimeSessionWindows, EventTimeSessionWindows,
    GlobalWindows, MergingWindowAssigner, ProcessingTimeSessionWindows,
    SessionWindowTimeGapExtractor, SlidingEventTimeWindows, SlidingProcessingTimeWindows,
    TumblingEventTimeWindows, TumblingProcessingTimeWindows, WindowAssigner)
from flink_py.api.windowing.evictors import (  # noqa: F401
    CountEvictor, DeltaEvictor, DeltaFunction, Evictor, TimeEvictor, TimestampedValue)
from flink_py.api.windowing.triggers import (  # noqa: F401
    ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger, CountTrigger, EventTimeTrigger,
    NeverTrigger, ProcessingTimeTrigger, PurgingTrigger, Trigger, TriggerResult)
from flink_py.api.windowing.windows import (  # noqa: F401
    MAX_LONG_VALUE, MIN_LONG_VALUE, CountWindow, CountWindowSerializer, GlobalWindow,
    GlobalWindowSerializer, TimeWindow, TimeWindowSerializer, Window)
from flink_py.errors import InvalidProgramError, InvalidTypeError  # noqa: F401

__all__ = [
    "Window", "TimeWindow", "CountWindow", "GlobalWindow",
    "WindowAssigner", "MergingWindowAssigner",
    "TumblingEventTimeWindows", "TumblingProcessingTimeWindows",
    "SlidingEventTimeWindows", "SlidingProcessingTimeWindows",
    "EventTimeSessionWindows", "ProcessingTimeSessionWindows",
    "DynamicEventTimeSessionWindows", "DynamicProcessingTimeSessionWindows",
    "SessionWindowTimeGapExtractor", "GlobalWindows",
    "CountTumblingWindowAssigner", "CountSlidingWindowAssigner",
    "TriggerResult", "Trigger", "EventTimeTrigger", "ProcessingTimeTrigger",
    "ContinuousEventTimeTrigger", "ContinuousProcessingTimeTrigger", "CountTrigger",
    "PurgingTrigger", "NeverTrigger",
    "TimestampedValue", "Evictor", "CountEvictor", "TimeEvictor", "DeltaEvictor",
    "DeltaFunction",
    "TimeWindowSerializer", "CountWindowSerializer", "GlobalWindowSerializer",
]
