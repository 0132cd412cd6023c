"""A streaming SQL join survives a task failure: both sides' rows are keyed MapState, restored
from the latest completed checkpoint, so rows that arrived before the failure still join the
rows that arrive after it, and every row joins exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_py.common import Row, Types
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.state_backend import EmbeddedRocksDBStateBackend, HashMapStateBackend
from flink_py.table import RowKind, StreamTableEnvironment
from tests.integration.test_fault_tolerance import AFTER, FailOnceAfterACheckpoint

N = 5_000
KEYS = 100


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_join_restores_both_sides_rows_and_joins_every_row_once(tmp_path: Path,
                                                                   backend: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    # one source for both sides (a finished source would end checkpointing): its first
    # KEYS records are the right side, one row per key, all in long before the failure, so
    # that after the restore only the join's state still has them
    numbers = env.from_sequence(1, N + KEYS).map(
        FailOnceAfterACheckpoint(str(tmp_path / "failed"), AFTER))
    right = numbers.filter(lambda x: x <= KEYS).map(
        lambda x: Row(x - 1, (x - 1) * 10), output_type=Types.ROW_NAMED(
            ["rk", "w"], [Types.LONG(), Types.LONG()]))
    left = numbers.filter(lambda x: x > KEYS).map(
        lambda x: Row(x - KEYS, (x - KEYS) % KEYS), output_type=Types.ROW_NAMED(
            ["id", "k"], [Types.LONG(), Types.LONG()]))
    t_env = StreamTableEnvironment.create(env)
    t_env.create_temporary_view("L", t_env.from_data_stream(left))
    t_env.create_temporary_view("R", t_env.from_data_stream(right))
    result = t_env.sql_query(
        "SELECT COUNT(*) AS c, SUM(w) AS s, SUM(id) AS ids FROM L JOIN R ON L.k = R.rk")
    final = (0, 0, 0)
    with t_env.to_changelog_stream(result).execute_and_collect() as changes:
        for row in changes:
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER) and row[0] > final[0]:
                final = (row[0], row[1], row[2])
    assert (tmp_path / "failed").exists(), "the injected failure did not happen"
    assert final == (N, sum((x % KEYS) * 10 for x in range(1, N + 1)), N * (N + 1) // 2)
