"""The metrics of one parallel operator instance, kept in it: what
``RuntimeContext.get_metrics_group()`` returns.

Counters, meters and distributions of the same name in the same group are the same object
(as PyFlink's, whose metrics are cells keyed by group and name). Nothing reports them yet
(flink_py has no metrics system: issue 14); :meth:`LocalMetricGroup.get_metrics` and the
metrics' getters read them.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from flink_py.errors import InvalidProgramError
from flink_py.metrics.metricbase import Counter, Distribution, Meter, MetricGroup

__all__ = ["LocalMetricGroup", "LocalCounter", "LocalMeter", "LocalDistribution"]


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidProgramError(f"a {what} name must be a non-empty str, got {name!r}")
    return name


def _check_count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidProgramError(f"{what} takes an int, got {type(n).__name__} {n!r}")
    return n


class LocalCounter(Counter):
    """A counter; safe to use from several threads."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def inc(self, n: int = 1) -> None:
        _check_count(n, "Counter.inc")
        with self._lock:
            self._count += n

    def dec(self, n: int = 1) -> None:
        _check_count(n, "Counter.dec")
        with self._lock:
            self._count -= n

    def get_count(self) -> int:
        return self._count


class LocalMeter(Meter):
    """Events marked, and their rate per second over the last ``time_span_in_seconds``.

    :param clock: the time in seconds (monotonic), for tests.
    """

    def __init__(self, time_span_in_seconds: int = 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(time_span_in_seconds, bool) or not isinstance(time_span_in_seconds, int) \
                or time_span_in_seconds <= 0:
            raise InvalidProgramError(
                f"a meter's time_span_in_seconds must be a positive int, got "
                f"{time_span_in_seconds!r}")
        self._span = time_span_in_seconds
        self._clock = clock
        self._count = 0
        self._events: Deque[Tuple[float, int]] = collections.deque()
        self._lock = threading.Lock()

    def mark_event(self, value: int = 1) -> None:
        _check_count(value, "Meter.mark_event")
        now = self._clock()
        with self._lock:
            self._count += value
            self._events.append((now, value))
            self._expire(now)

    def get_count(self) -> int:
        return self._count

    def get_rate(self) -> float:
        """Events per second over the time span."""
        with self._lock:
            self._expire(self._clock())
            return sum(v for _, v in self._events) / self._span

    def _expire(self, now: float) -> None:
        while self._events and self._events[0][0] <= now - self._span:
            self._events.popleft()


class LocalDistribution(Distribution):
    """Count, sum, min, max and mean of the values given to :meth:`update`."""

    def __init__(self) -> None:
        self._count = 0
        self._sum = 0
        self._min: Optional[int] = None
        self._max: Optional[int] = None
        self._lock = threading.Lock()

    def update(self, value: int) -> None:
        _check_count(value, "Distribution.update")
        with self._lock:
            self._count += 1
            self._sum += value
            self._min = value if self._min is None else min(self._min, value)
            self._max = value if self._max is None else max(self._max, value)

    def get_count(self) -> int:
        return self._count

    def get_sum(self) -> int:
        return self._sum

    def get_min(self) -> Optional[int]:
        return self._min

    def get_max(self) -> Optional[int]:
        return self._max

    def get_mean(self) -> Optional[float]:
        return self._sum / self._count if self._count else None


class LocalMetricGroup(MetricGroup):
    """A metric group of one operator instance.

    :param scope: the group's scope components, e.g. ``["Map", "0"]`` (operator name and
        subtask index) for an operator's root group.
    :param variables: the user variables of the group and its parents (``add_group(key,
        value)``).
    """

    def __init__(self, scope: List[str], variables: Optional[Dict[str, str]] = None) -> None:
        self._scope = list(scope)
        self._variables = dict(variables or {})
        self._groups: Dict[Tuple[str, Optional[str]], "LocalMetricGroup"] = {}
        self._counters: Dict[str, LocalCounter] = {}
        self._meters: Dict[str, LocalMeter] = {}
        self._distributions: Dict[str, LocalDistribution] = {}
        self._gauges: Dict[str, Callable[[], int]] = {}
        self._lock = threading.Lock()

    def add_group(self, name: str, extra: Optional[str] = None) -> "LocalMetricGroup":
        _check_name(name, "metric group")
        if extra is not None:
            _check_name(extra, "metric group value")
        with self._lock:
            group = self._groups.get((name, extra))
            if group is None:
                scope = self._scope + [name] + ([] if extra is None else [extra])
                variables = dict(self._variables)
                if extra is not None:
                    variables[name] = extra
                group = self._groups[(name, extra)] = LocalMetricGroup(scope, variables)
            return group

    def counter(self, name: str) -> LocalCounter:
        return self._metric(self._counters, _check_name(name, "counter"), LocalCounter)

    def gauge(self, name: str, obj: Callable[[], int]) -> None:
        _check_name(name, "gauge")
        if not callable(obj):
            raise InvalidProgramError(
                f"gauge {name!r} needs a callable that returns its value, got {obj!r}")
        with self._lock:
            self._gauges[name] = obj

    def meter(self, name: str, time_span_in_seconds: int = 60) -> LocalMeter:
        return self._metric(self._meters, _check_name(name, "meter"),
                            lambda: LocalMeter(time_span_in_seconds))

    def distribution(self, name: str) -> LocalDistribution:
        return self._metric(self._distributions, _check_name(name, "distribution"),
                            LocalDistribution)

    def _metric(self, registry: Dict[str, Any], name: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            metric = registry.get(name)
            if metric is None:
                metric = registry[name] = make()
            return metric

    def get_scope_components(self) -> List[str]:
        return list(self._scope)

    def get_all_variables(self) -> Dict[str, str]:
        return dict(self._variables)

    def get_metric_identifier(self, metric_name: str) -> str:
        """``scope.components.metric_name``, as Flink's default delimiter joins them."""
        return ".".join(self._scope + [metric_name])

    def get_metrics(self) -> Dict[str, Any]:
        """Every metric of this group and its subgroups by identifier: counters, meters and
        distributions as their objects, gauges as their current value."""
        with self._lock:
            found: Dict[str, Any] = {}
            for registry in (self._counters, self._meters, self._distributions):
                found.update({self.get_metric_identifier(n): m for n, m in registry.items()})
            gauges = list(self._gauges.items())
            groups = list(self._groups.values())
        found.update({self.get_metric_identifier(n): g() for n, g in gauges})
        for group in groups:
            found.update(group.get_metrics())
        return found
