"""The metric interfaces of ``pyflink.metrics.metricbase``: :class:`MetricGroup`,
:class:`Counter`, :class:`Meter`, :class:`Distribution`."""

from __future__ import annotations

import abc
from typing import Callable, Optional

__all__ = ["MetricGroup", "Metric", "Counter", "Meter", "Distribution"]


class MetricGroup(abc.ABC):
    """A named container of metrics and of further metric groups."""

    @abc.abstractmethod
    def add_group(self, name: str, extra: Optional[str] = None) -> "MetricGroup":
        """The subgroup ``name`` (created on first use). With ``extra``, a key group
        ``name`` with the value group ``extra`` under it, which is returned (a user
        variable ``name`` = ``extra``)."""

    @abc.abstractmethod
    def counter(self, name: str) -> "Counter":
        """The counter ``name`` of this group (the same one for the same name)."""

    @abc.abstractmethod
    def gauge(self, name: str, obj: Callable[[], int]) -> None:
        """Registers the gauge ``name``: ``obj()`` is its value when read."""

    @abc.abstractmethod
    def meter(self, name: str, time_span_in_seconds: int = 60) -> "Meter":
        """The meter ``name``, measuring events per second over ``time_span_in_seconds``."""

    @abc.abstractmethod
    def distribution(self, name: str) -> "Distribution":
        """The distribution ``name`` (count, sum, min, max and mean of its values)."""


class Metric(abc.ABC):
    """Base of every metric."""


class Counter(Metric, abc.ABC):
    """A count that goes up and down."""

    @abc.abstractmethod
    def inc(self, n: int = 1) -> None:
        """Adds ``n``."""

    @abc.abstractmethod
    def dec(self, n: int = 1) -> None:
        """Subtracts ``n``."""

    @abc.abstractmethod
    def get_count(self) -> int:
        """The current count."""


class Meter(Metric, abc.ABC):
    """Throughput: events marked, and their rate."""

    @abc.abstractmethod
    def mark_event(self, value: int = 1) -> None:
        """Marks ``value`` events."""

    @abc.abstractmethod
    def get_count(self) -> int:
        """The number of events marked so far."""


class Distribution(Metric, abc.ABC):
    """Statistics of the values a variable took."""

    @abc.abstractmethod
    def update(self, value: int) -> None:
        """Adds one value."""
