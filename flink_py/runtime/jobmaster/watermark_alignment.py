"""The JobMaster's side of watermark alignment (FLIP-182): the groups' smallest watermarks.

Each parallel instance of a source whose WatermarkStrategy has ``with_watermark_alignment``
reports its current watermark every ``update_interval`` (``report``): the last one it
emitted, ``Long.MAX_VALUE`` once it is idle or finished (then it does not hold its group
back), nothing before its first watermark (Flink's SourceOperator skips the report while
its watermark is uninitialized). The answer is the group's combined watermark: the smallest
last report over the group's reporters, which the source compares with its own watermark
less its maximal drift (runtime/operators/watermark_alignment.py).

Flink's SourceCoordinator answers on its own timer with a ``WatermarkAlignmentEvent`` sent
to each subtask; here the answer travels back with the report (one call instead of two
messages). Each source learns its group's watermark once per update interval either way.

Reporters are keyed by the source operator's id and subtask index, so that a restarted
attempt replaces its predecessor's report instead of adding one. The state is guarded by one
lock, as the collect buffers' (reports come from the RPC threads of many tasks, and the
answer is needed at once; the JobMaster's main thread would add a queue and a future to
every report).

Example::

    >>> coordinator = WatermarkAlignmentCoordinator()
    >>> coordinator.report("g", ("fast", 0), 5_000)
    5000
    >>> coordinator.report("g", ("slow", 0), 1_000)
    1000
    >>> coordinator.report("g", ("slow", 0), MAX_WATERMARK)  # finished
    5000
"""

from __future__ import annotations

import threading
from typing import Dict, Hashable

__all__ = ["MAX_WATERMARK", "WatermarkAlignmentCoordinator", "WatermarkAggregator"]

#: Java's Long.MAX_VALUE: what an idle or finished source reports
MAX_WATERMARK = 2 ** 63 - 1


class WatermarkAggregator:
    """The last watermark of each reporter of one group, and their smallest (Flink's
    ``WatermarkAggregator``). Not thread-safe: its coordinator holds the lock."""

    __slots__ = ("_watermarks", "_aggregated")

    def __init__(self) -> None:
        self._watermarks: Dict[Hashable, int] = {}
        self._aggregated = MAX_WATERMARK

    def aggregate(self, reporter: Hashable, watermark: int) -> int:
        """Records ``reporter``'s ``watermark``; returns the group's smallest."""
        previous = self._watermarks.get(reporter)
        self._watermarks[reporter] = watermark
        if watermark < self._aggregated:
            self._aggregated = watermark
        elif previous == self._aggregated and watermark != previous:
            # the smallest moved on: recompute (a group has a few reporters)
            self._aggregated = min(self._watermarks.values())
        return self._aggregated

    @property
    def aggregated_watermark(self) -> int:
        return self._aggregated


class WatermarkAlignmentCoordinator:
    """The watermark groups of one job (shared by all its sources, as Flink's
    ``CoordinatorStore`` shares a group's aggregator between source coordinators)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: Dict[str, WatermarkAggregator] = {}

    def report(self, watermark_group: str, reporter: Hashable, watermark: int) -> int:
        """From any thread: ``reporter``'s current watermark in ``watermark_group``.

        :param reporter: (source operator id, subtask index).
        :param watermark: the reporter's last emitted watermark, or :data:`MAX_WATERMARK`
            once it is idle or finished.
        :return: the group's combined watermark (the smallest of its reporters' last).
        """
        with self._lock:
            aggregator = self._groups.get(watermark_group)
            if aggregator is None:
                aggregator = self._groups[watermark_group] = WatermarkAggregator()
            return aggregator.aggregate(reporter, watermark)
