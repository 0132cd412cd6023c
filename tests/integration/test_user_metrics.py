"""User-defined metrics (``runtime_context.get_metrics_group()``), as PyFlink programs
register them in ``open``: counters, meters, distributions, gauges and subgroups; triggers
and evictors get the same group from their contexts' ``get_metric_group()``."""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest

from flink_py.common import Types
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import MapFunction, ProcessWindowFunction, RuntimeContext
from flink_py.datastream.window import Evictor, GlobalWindows, Trigger, TriggerResult
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


class _CountingTrigger(Trigger):
    """Fires for every element, counting them in the operator's metric group."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Any) -> TriggerResult:
        ctx.get_metric_group().counter("trigger_elements").inc()
        return TriggerResult.FIRE

    def on_processing_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Any) -> TriggerResult:
        return TriggerResult.CONTINUE

    def clear(self, window: Any, ctx: Any) -> None:
        pass


class _CountingEvictor(Evictor):
    """Keeps everything, counting its calls in the operator's metric group."""

    def evict_before(self, elements: Any, size: int, window: Any, ctx: Any) -> None:
        ctx.get_metric_group().counter("evictor_calls").inc()

    def evict_after(self, elements: Any, size: int, window: Any, ctx: Any) -> None:
        pass


class _ReportCounts(ProcessWindowFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self.group = runtime_context.get_metrics_group()

    def process(self, key: Any, context: Any, elements: Any) -> Iterator:
        yield (key, len(list(elements)), self.group.counter("trigger_elements").get_count(),
               self.group.counter("evictor_calls").get_count())


def test_triggers_and_evictors_share_the_operators_metric_group() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    out = list(env.from_collection([("a", 1), ("a", 2), ("a", 3)])
               .key_by(lambda v: v[0]).window(GlobalWindows.create())
               .trigger(_CountingTrigger()).evictor(_CountingEvictor())
               .process(_ReportCounts()).execute_and_collect())
    assert out == [("a", 1, 1, 1), ("a", 2, 2, 2), ("a", 3, 3, 3)]
