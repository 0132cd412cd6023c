"""The planner finds an interval join's bounds as Flink's IntervalJoinUtil does."""

from __future__ import annotations

from typing import Optional, Tuple

import pytest

from flink_py.table import DataTypes, Schema, StreamTableEnvironment
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.common import Row, Types
from flink_py.common.time import Instant
from flink_py.table.interval_join import IntervalJoin, WindowJoin


@pytest.fixture(scope="module")
def t_env() -> StreamTableEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    t_env = StreamTableEnvironment.create(env)
    for name in ("A", "B"):
        ds = env.from_collection([Row(Instant.of_epoch_milli(0), 1)], type_info=Types.ROW_NAMED(
            ["f0", "id"], [Types.INSTANT(), Types.INT()]))
        t_env.create_temporary_view(name, t_env.from_data_stream(ds, Schema.new_builder()
            .column_by_expression("ts", "CAST(f0 AS TIMESTAMP(3))")
            .column("id", DataTypes.INT())
            .watermark("ts", "ts - INTERVAL '1' SECOND").build()))
    return t_env


def _bounds(t_env: StreamTableEnvironment, condition: str) -> Optional[Tuple[int, int]]:
    plan = t_env.sql_query(f"SELECT * FROM A a JOIN B b ON a.id = b.id AND {condition}")._plan
    while not isinstance(plan, IntervalJoin) and plan.inputs:
        plan = plan.inputs[0]
    return (plan.lower, plan.upper) if isinstance(plan, IntervalJoin) else None


@pytest.mark.parametrize("condition, bounds", [
    ("a.ts BETWEEN b.ts - INTERVAL '4' SECOND AND b.ts", (-4000, 0)),
    ("a.ts >= b.ts - INTERVAL '2' SECOND AND a.ts <= b.ts + INTERVAL '1' SECOND", (-2000, 1000)),
    ("a.ts > b.ts - INTERVAL '3' SECOND AND a.ts < b.ts", (-2999, -1)),
    ("b.ts BETWEEN a.ts AND a.ts + INTERVAL '2' SECOND", (-2000, 0)),
    ("b.ts - INTERVAL '1' SECOND <= a.ts AND b.ts >= a.ts", (-1000, 0)),
])
def test_bounds_of_left_minus_right_time(t_env: StreamTableEnvironment, condition: str,
                                         bounds: Tuple[int, int]) -> None:
    assert _bounds(t_env, condition) == bounds


def test_a_one_sided_bound_is_a_regular_join(t_env: StreamTableEnvironment) -> None:
    assert _bounds(t_env, "a.ts >= b.ts") is None


def test_window_tvf_relations_joined_on_their_windows_are_a_window_join(
        t_env: StreamTableEnvironment) -> None:
    plan = t_env.sql_query(
        "SELECT L.id FROM (SELECT * FROM TABLE(TUMBLE(TABLE A, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND))) L JOIN (SELECT * FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(ts), "
        "INTERVAL '5' SECOND))) R ON L.window_start = R.window_start "
        "AND L.window_end = R.window_end AND L.id = R.id")._plan
    assert isinstance(plan.inputs[0], WindowJoin)
    assert not plan.updating
