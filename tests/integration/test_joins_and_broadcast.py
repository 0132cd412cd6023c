"""Interval joins (Flink's bounds and lateness), co-process functions, and broadcast state."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from flink_py.common import Types, WatermarkStrategy
from flink_py.common.watermark_strategy import Watermark, WatermarkGenerator
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import (
    BroadcastProcessFunction, CoProcessFunction, KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction, ProcessJoinFunction, SourceFunction)
from flink_py.datastream.state import MapStateDescriptor, ValueStateDescriptor
from flink_py.errors import FlinkPyError, InvalidProgramError, JobExecutionError


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def _second_field(value: Any, record_timestamp: int) -> int:
    return value[1]


class WatermarkAfterEachRecord(WatermarkGenerator):
    """Punctuated: watermark = the record's timestamp after each record (no disorder)."""

    def on_event(self, event: Any, event_timestamp: int, output: Any) -> None:
        output.emit_watermark(Watermark(event_timestamp))

    def on_periodic_emit(self, output: Any) -> None:
        pass


def timestamped(env: StreamExecutionEnvironment, records: List[Tuple[str, int]],
                punctuated: bool = False) -> Any:
    strategy = (WatermarkStrategy.for_generator(WatermarkAfterEachRecord) if punctuated
                else WatermarkStrategy.for_monotonous_timestamps())
    return env.from_collection(records).assign_timestamps_and_watermarks(
        strategy.with_timestamp_assigner(_second_field))


class PairUp(ProcessJoinFunction):
    def process_element(self, left: Any, right: Any, ctx: Any) -> Iterator:
        yield left[1], right[1], ctx.get_timestamp()


def interval_join(lower: int, upper: int, left: List[Tuple[str, int]],
                  right: List[Tuple[str, int]], lower_exclusive: bool = False,
                  upper_exclusive: bool = False) -> List[Tuple[int, int, int]]:
    env = new_env()
    joined = (timestamped(env, left).key_by(lambda r: r[0])
              .interval_join(timestamped(env, right).key_by(lambda r: r[0]))
              .between(lower, upper))
    if lower_exclusive:
        joined = joined.lower_bound_exclusive()
    if upper_exclusive:
        joined = joined.upper_bound_exclusive()
    return sorted(joined.process(PairUp()).execute_and_collect())


LEFT = [("k", 10), ("k", 20), ("x", 20)]
RIGHT = [("k", 8), ("k", 10), ("k", 12), ("k", 21), ("k", 22), ("x", 30)]


def test_interval_join_pairs_elements_within_the_bounds_of_the_same_key() -> None:
    # right.ts in [left.ts - 2, left.ts + 2]; the pair's timestamp is the larger one
    assert interval_join(-2, 2, LEFT, RIGHT) == [
        (10, 8, 10), (10, 10, 10), (10, 12, 12), (20, 21, 21), (20, 22, 22)]


def test_interval_join_bounds_can_be_exclusive() -> None:
    assert interval_join(-2, 2, LEFT, RIGHT, lower_exclusive=True) == [
        (10, 10, 10), (10, 12, 12), (20, 21, 21), (20, 22, 22)]
    assert interval_join(-2, 2, LEFT, RIGHT, upper_exclusive=True) == [
        (10, 8, 10), (10, 10, 10), (20, 21, 21)]
    assert interval_join(-2, 2, LEFT, RIGHT, True, True) == [(10, 10, 10), (20, 21, 21)]


def test_interval_join_with_a_positive_window() -> None:
    # right.ts in [left.ts + 1, left.ts + 5]
    assert interval_join(1, 5, LEFT, RIGHT) == [(10, 12, 12), (20, 21, 21), (20, 22, 22)]


def _join_operator(lower: int, upper: int) -> Tuple[Any, List[Any]]:
    """An IntervalJoinOperator driven directly: the watermark order is then exact."""
    from flink_py.common.key_groups import KeyGroupRange
    from flink_py.runtime.operators.base import Output, StreamingRuntimeContext
    from flink_py.runtime.operators.interval_join import IntervalJoinOperator
    from flink_py.runtime.state.heap_keyed_state_backend import HeapKeyedStateBackend
    out: List[Any] = []
    operator = IntervalJoinOperator("IntervalJoin", PairUp(), lambda r: r[0], lambda r: r[0],
                                    lower, upper)
    operator.setup(StreamingRuntimeContext("join", 0, 1, 128),
                   Output(lambda values, timestamps: out.extend(zip(values, timestamps))),
                   HeapKeyedStateBackend(128, KeyGroupRange(0, 127)))
    operator.open()
    return operator, out


def test_interval_join_drops_elements_behind_the_watermark() -> None:
    operator, out = _join_operator(-5, 5)
    operator.process_batch1([("k", 10)], [10])
    operator.process_watermark(20)
    operator.process_batch2([("k", 12)], [12])  # 12 < watermark 20: late, dropped
    operator.process_batch2([("k", 21)], [21])  # not late, but 10 is no longer buffered:
    assert out == []                            # its cleanup timer (10 + 5) fired at 20
    operator.process_batch1([("k", 24)], [24])
    assert out == [((24, 21, 24), 24)]


def test_interval_join_keeps_elements_until_no_partner_can_come() -> None:
    operator, out = _join_operator(-5, 5)
    operator.process_batch1([("k", 10)], [10])
    operator.process_watermark(14)  # 10 is kept until the watermark passes 10 + 5
    operator.process_batch2([("k", 15)], [15])
    assert out == [((10, 15, 15), 15)]


def test_interval_join_bad_bounds_and_missing_timestamps() -> None:
    env = new_env()
    a = env.from_collection([("k", 1)]).key_by(lambda r: r[0])
    with pytest.raises(InvalidProgramError, match="lower bound"):
        a.interval_join(a).between(5, 1)
    with pytest.raises(InvalidProgramError, match="KeyedStream"):
        a.interval_join(env.from_collection([1]))  # type: ignore[arg-type]
    env = new_env()
    a = env.from_collection([("k", 1)]).key_by(lambda r: r[0])
    b = env.from_collection([("k", 1)]).key_by(lambda r: r[0])
    with pytest.raises(JobExecutionError, match="needs event timestamps"):
        list(a.interval_join(b).between(-1, 1).process(PairUp()).execute_and_collect())


# -- co-process ---------------------------------------------------------------------------------

class Tag(CoProcessFunction):
    def process_element1(self, value: Any, ctx: Any) -> Iterator:
        yield "first", value

    def process_element2(self, value: Any, ctx: Any) -> Iterator:
        yield "second", value


def test_co_process_function_sees_both_inputs() -> None:
    env = new_env(2)
    out = env.from_collection([1, 2]).connect(env.from_collection(["a"])).process(Tag())
    assert sorted(map(str, out.execute_and_collect())) == [
        "('first', 1)", "('first', 2)", "('second', 'a')"]


class MatchOrders(KeyedCoProcessFunction):
    """Pairs an order with its payment whichever comes first (keyed state per order id)."""

    def open(self, runtime_context: Any) -> None:
        self.order = runtime_context.get_state(ValueStateDescriptor("order", Types.STRING()))
        self.paid = runtime_context.get_state(ValueStateDescriptor("paid", Types.INT()))

    def process_element1(self, value: Any, ctx: Any) -> Iterator:
        if self.paid.value() is not None:
            yield ctx.get_current_key(), value[1], self.paid.value()
        else:
            self.order.update(value[1])

    def process_element2(self, value: Any, ctx: Any) -> Iterator:
        if self.order.value() is not None:
            yield ctx.get_current_key(), self.order.value(), value[1]
        else:
            self.paid.update(value[1])


def test_keyed_co_process_function_shares_state_per_key_across_inputs() -> None:
    env = new_env(2)
    orders = env.from_collection([(1, "book"), (2, "pen"), (3, "ink")])
    payments = env.from_collection([(2, 5), (1, 30), (4, 9)])
    out = orders.connect(payments).key_by(lambda o: o[0], lambda p: p[0]).process(
        MatchOrders())
    assert sorted(out.execute_and_collect()) == [(1, "book", 30), (2, "pen", 5)]


def test_a_keyed_co_process_function_needs_keyed_inputs() -> None:
    env = new_env()
    with pytest.raises(InvalidProgramError, match="CoProcessFunction"):
        env.from_collection([1]).connect(env.from_collection([2])).process(MatchOrders())


# -- broadcast state ------------------------------------------------------------------------------

THRESHOLDS = MapStateDescriptor("thresholds", Types.STRING(), Types.INT())


class ApplyThreshold(KeyedBroadcastProcessFunction):
    """Readings above their sensor's broadcast threshold are alerts; rules arrive first."""

    def process_element(self, value: Any, ctx: Any) -> Iterator:
        threshold = ctx.get_broadcast_state(THRESHOLDS).get(value[0])
        if threshold is not None and value[1] > threshold:
            yield value
        if threshold is None:
            yield "no rule", value

    def process_broadcast_element(self, value: Any, ctx: Any) -> Iterator:
        ctx.get_broadcast_state(THRESHOLDS).put(value[0], value[1])
        return iter(())


class RulesThenReadings(BroadcastProcessFunction):
    """Reports, from every subtask, the rule set it holds when it sees a reading."""

    def process_element(self, value: Any, ctx: Any) -> Iterator:
        yield value, sorted(ctx.get_broadcast_state(THRESHOLDS).items())

    def process_broadcast_element(self, value: Any, ctx: Any) -> Iterator:
        ctx.get_broadcast_state(THRESHOLDS).put(value[0], value[1])
        return iter(())


_RULES_LOCK = threading.Lock()
_RULES_COMPLETE: Dict[str, int] = {}


class RulesThenReadingsCounting(RulesThenReadings):
    """Counts, per test run, the subtasks that have received the last rule."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def process_broadcast_element(self, value: Any, ctx: Any) -> Iterator:
        ctx.get_broadcast_state(THRESHOLDS).put(value[0], value[1])
        if value[0] == "b":
            with _RULES_LOCK:
                _RULES_COMPLETE[self.run_id] = _RULES_COMPLETE.get(self.run_id, 0) + 1
        return iter(())


class ReadingsAfterRules(SourceFunction):
    """Emits its readings once every parallel instance holds all rules (same process)."""

    def __init__(self, run_id: str, parallelism: int) -> None:
        self.run_id = run_id
        self.parallelism = parallelism
        self.running = True

    def run(self, ctx: Any) -> None:
        deadline = time.monotonic() + 10
        while self.running and _RULES_COMPLETE.get(self.run_id, 0) < self.parallelism:
            if time.monotonic() > deadline:
                raise AssertionError("the rules did not reach every subtask within 10 s")
            time.sleep(0.005)  # polling interval
        for i in range(9):
            ctx.collect(i)

    def cancel(self) -> None:
        self.running = False


def test_broadcast_state_is_the_same_in_every_parallel_instance() -> None:
    run_id = uuid.uuid4().hex
    env = new_env(3)
    rules = env.from_collection([("a", 1), ("b", 2)]).broadcast(THRESHOLDS)
    readings = env.add_source(ReadingsAfterRules(run_id, 3)).set_parallelism(1).rebalance()
    out = list(readings.connect(rules).process(RulesThenReadingsCounting(run_id))
               .execute_and_collect())
    assert sorted(v for v, _ in out) == list(range(9))
    assert all(held == [("a", 1), ("b", 2)] for _, held in out), out


def test_broadcast_state_is_read_only_on_the_non_broadcast_side() -> None:
    class Writes(BroadcastProcessFunction):
        def process_element(self, value: Any, ctx: Any) -> Iterator:
            ctx.get_broadcast_state(THRESHOLDS).put("x", 1)
            return iter(())

        def process_broadcast_element(self, value: Any, ctx: Any) -> Iterator:
            return iter(())

    env = new_env()
    rules = env.from_collection([("a", 1)]).broadcast(THRESHOLDS)
    with pytest.raises(JobExecutionError, match="read-only"):
        list(env.from_collection([1]).connect(rules).process(Writes()).execute_and_collect())


def test_keyed_broadcast_process_function_applies_the_rules() -> None:
    env = new_env(2)
    rules = env.from_collection([("s1", 10), ("s2", 20)]).broadcast(THRESHOLDS)
    readings = env.from_collection([("s1", 5), ("s1", 15), ("s2", 25), ("s3", 1)])
    out = list(readings.key_by(lambda r: r[0]).connect(rules).process(ApplyThreshold())
               .execute_and_collect())
    alerts = sorted(v for v in out if v[0] != "no rule")
    # A reading that overtook its rule is reported as such; once rules are in, they apply.
    assert set(alerts) <= {("s1", 15), ("s2", 25)}
    assert ("no rule", ("s3", 1)) in out


def test_broadcast_needs_map_state_descriptors() -> None:
    env = new_env()
    with pytest.raises(FlinkPyError, match="MapStateDescriptor"):
        env.from_collection([1]).broadcast(ValueStateDescriptor("v", Types.INT()))
