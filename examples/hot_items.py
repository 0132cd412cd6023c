"""The seeds' hot items: the top N most viewed items of every sliding hour, every 5 minutes.

User behaviour events ``(user_id, item_id, category_id, behavior, timestamp_s)`` arrive in
timestamp order (monotonous watermarks). Page views (``pv``) are counted per item in 1 hour
windows sliding by 5 minutes with an AggregateFunction; a window function turns each count
into ``(item_id, window_end, count)``. Keyed by window end, a KeyedProcessFunction collects
the counts of one window in ListState and, when the watermark passes the window's end (an
event-time timer at ``window_end + 1``), prints the window's ranking.

Usage::

    python examples/hot_items.py [--input <csv: user,item,category,behavior,ts_s>] [--top 3]
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, List, Optional, Tuple

from flink_py.common import Time, Types, WatermarkStrategy
from flink_py.common.utils import ParameterTool
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import (
    AggregateFunction, KeyedProcessFunction, WindowFunction)
from flink_py.datastream.state import ListStateDescriptor
from flink_py.datastream.window import SlidingEventTimeWindows

Event = Tuple[int, int, int, str, int]


def sample_events(count: int = 3000, seed: int = 11) -> List[Event]:
    """Two hours of events: items with smaller ids are viewed more often."""
    rng = random.Random(seed)
    start = 1511658000  # 2017-11-26 01:00:00 UTC, as in the seeds' UserBehavior data
    events = []
    for i in range(count):
        item = min(int(rng.expovariate(0.25)) + 1, 20)
        behavior = rng.choices(["pv", "cart", "fav", "buy"], [85, 7, 5, 3])[0]
        events.append((rng.randrange(1000), item, item % 4, behavior, start + i * 7200 // count))
    return events


class CountAgg(AggregateFunction):
    def create_accumulator(self) -> int:
        return 0

    def add(self, value: Event, accumulator: int) -> int:
        return accumulator + 1

    def get_result(self, accumulator: int) -> int:
        return accumulator

    def merge(self, acc_a: int, acc_b: int) -> int:
        return acc_a + acc_b


class WindowResult(WindowFunction):
    """``(item_id, window_end, count)`` for the item's count in one window."""

    def apply(self, key: int, window: Any, inputs: Iterable[int]) -> Iterator:
        yield key, window.end, next(iter(inputs))


class TopN(KeyedProcessFunction):
    def __init__(self, top: int) -> None:
        self.top = top

    def open(self, runtime_context: Any) -> None:
        self.items = runtime_context.get_list_state(ListStateDescriptor("items"))

    def process_element(self, value: Tuple[int, int, int], ctx: Any) -> Iterator:
        self.items.add(value)
        ctx.timer_service().register_event_time_timer(value[1] + 1)
        return iter(())

    def on_timer(self, timestamp: int, ctx: Any) -> Iterator:
        ranked = sorted(self.items.get(), key=lambda item: (-item[2], item[0]))[:self.top]
        self.items.clear()
        end = datetime.fromtimestamp((timestamp - 1) / 1000, timezone.utc)
        lines = [f"window end: {end:%Y-%m-%d %H:%M:%S}"]
        lines += [f"No {rank}: item={item} views={count}"
                  for rank, (item, _, count) in enumerate(ranked, 1)]
        yield "\n".join(lines)


def read_csv(path: str) -> List[Event]:
    events = []
    with open(path) as f:
        for line in f:
            if line.strip():
                user, item, category, behavior, ts = line.strip().split(",")
                events.append((int(user), int(item), int(category), behavior, int(ts)))
    return events


def main(argv: Optional[List[str]] = None) -> None:
    params = ParameterTool.from_args(sys.argv[1:] if argv is None else argv)
    events = read_csv(params.get("input")) if params.has("input") else sample_events()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(params.get_int("parallelism", 1))
    strategy = (WatermarkStrategy.for_monotonous_timestamps()
                .with_timestamp_assigner(lambda event, _: event[4] * 1000))
    (env.from_collection(events)
        .assign_timestamps_and_watermarks(strategy)
        .filter(lambda event: event[3] == "pv")
        .key_by(lambda event: event[1])
        .window(SlidingEventTimeWindows.of(Time.hours(1), Time.minutes(5)))
        .aggregate(CountAgg(), WindowResult())
        .key_by(lambda item_count: item_count[1])
        .process(TopN(params.get_int("top", 3)), output_type=Types.STRING())
        .print())
    env.execute("hot_items")


if __name__ == "__main__":
    main()
