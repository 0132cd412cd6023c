"""Ingestion time: records are stamped with the wall clock when they enter event time."""

from __future__ import annotations

import time
from typing import Any, Iterator

from flink_py.common import WatermarkStrategy
from flink_py.common.watermark_strategy import IngestionTimeAssigner
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.functions import ProcessFunction


class StampOf(ProcessFunction):
    def process_element(self, value: Any, ctx: Any) -> Iterator:
        yield value, ctx.timestamp()


def test_ingestion_time_stamps_records_with_the_wall_clock_in_order() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    before = time.time_ns() // 1_000_000
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
        IngestionTimeAssigner())
    out = list(env.from_collection(list(range(50))).assign_timestamps_and_watermarks(strategy)
               .process(StampOf()).execute_and_collect())
    after = time.time_ns() // 1_000_000
    assert [v for v, _ in out] == list(range(50))
    stamps = [t for _, t in out]
    assert all(before <= t <= after for t in stamps), (before, stamps[:3], after)
    assert stamps == sorted(stamps)  # never backwards: monotonous watermarks hold


def test_the_assigner_never_goes_backwards() -> None:
    assigner = IngestionTimeAssigner()
    assigner._last = 2 ** 62  # as if the clock had been far ahead
    assert assigner.extract_timestamp("x", 0) == 2 ** 62
