"""User-defined metrics (``runtime_context.get_metrics_group()``), as PyFlink programs
register them in ``open``: counters, meters, distributions, gauges and subgroups."""

from __future__ import annotations

from typing import Any, List

import pytest

from flink_py.common import Types
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import MapFunction, RuntimeContext
from flink_py.errors import InvalidProgramError
from flink_py.metrics import Counter, Distribution, Meter, MetricGroup
from flink_py.metrics.local import LocalMeter, LocalMetricGroup


class _Measured(MapFunction):
    """Counts, meters and measures its records, and emits what its metrics say."""

    def open(self, runtime_context: RuntimeContext) -> None:
        group = runtime_context.get_metrics_group()
        assert isinstance(group, MetricGroup)
        self.records = group.counter("records")
        self.again = group.counter("records")  # the same counter, as in PyFlink
        self.rate = group.meter("rate", time_span_in_seconds=60)
        self.sizes = group.add_group("sizes").distribution("size")
        self.by_kind = group.add_group("kind", "word").counter("seen")
        self.seen: List[int] = []
        group.gauge("last", lambda: self.seen[-1] if self.seen else 0)
        self.group = group

    def map(self, value: Any) -> Any:
        self.records.inc()
        self.again.inc(2)
        self.rate.mark_event()
        self.sizes.update(len(value))
        self.by_kind.inc()
        self.by_kind.dec()
        self.seen.append(len(value))
        metrics = self.group.get_metrics()
        return (value, self.records.get_count(), self.rate.get_count(),
                self.sizes.get_max(), metrics["Map.0.last"],
                sorted(k for k in metrics if k.startswith("Map.0.kind.word")))


def test_a_function_registers_and_updates_its_metrics() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    out = list(env.from_collection(["a", "bbb", "cc"], type_info=Types.STRING())
               .map(_Measured()).execute_and_collect())
    assert [o[:5] for o in out] == [("a", 3, 1, 1, 1), ("bbb", 6, 2, 3, 3), ("cc", 9, 3, 3, 2)]
    assert out[-1][5] == ["Map.0.kind.word.seen"]


def test_metric_types_and_meter_rate() -> None:
    group = LocalMetricGroup(["op", "0"])
    assert isinstance(group.counter("c"), Counter)
    assert isinstance(group.distribution("d"), Distribution)
    now = [100.0]
    meter = LocalMeter(10, clock=lambda: now[0])
    assert isinstance(meter, Meter)
    meter.mark_event(30)
    now[0] += 5
    meter.mark_event(20)
    assert (meter.get_count(), meter.get_rate()) == (50, 5.0)
    now[0] += 6  # the first 30 events are older than the 10 s span
    assert (meter.get_count(), meter.get_rate()) == (50, 2.0)
    distribution = group.distribution("d")
    for v in (4, 1, 7):
        distribution.update(v)
    assert (distribution.get_count(), distribution.get_sum(), distribution.get_min(),
            distribution.get_max(), distribution.get_mean()) == (3, 12, 1, 7, 4.0)
    sub = group.add_group("city", "Paris")
    assert sub is group.add_group("city", "Paris")
    assert sub.get_all_variables() == {"city": "Paris"}
    assert sub.get_metric_identifier("n") == "op.0.city.Paris.n"


def test_metrics_reject_bad_arguments() -> None:
    group = LocalMetricGroup(["op", "0"])
    with pytest.raises(InvalidProgramError, match="counter name must be a non-empty str"):
        group.counter("")
    with pytest.raises(InvalidProgramError, match="Counter.inc takes an int, got str"):
        group.counter("c").inc("1")  # type: ignore[arg-type]
    with pytest.raises(InvalidProgramError, match="needs a callable"):
        group.gauge("g", 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidProgramError, match="positive int, got 0"):
        group.meter("m", 0)
