"""A SQL aggregation survives a task failure: its accumulators are keyed state, restored from
the latest completed checkpoint, so every input row counts exactly once in the result."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import pytest

from flink_py.common import Row, Types
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.state_backend import EmbeddedRocksDBStateBackend, HashMapStateBackend
from flink_py.table import RowKind, StreamTableEnvironment
from tests.integration.test_fault_tolerance import AFTER, FailOnceAfterACheckpoint

N = 20_000
KEYS = 10


def to_row(x: int) -> Row:
    return Row(x % KEYS, x)


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_sql_group_by_restores_its_accumulators_and_counts_every_row_once(
        tmp_path: Path, backend: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    rows = (env.from_sequence(1, N)
            .map(FailOnceAfterACheckpoint(str(tmp_path / "failed"), AFTER))
            .map(to_row, output_type=Types.ROW_NAMED(["k", "v"], [Types.LONG(), Types.LONG()])))
    t_env = StreamTableEnvironment.create(env)
    t_env.create_temporary_view("S", t_env.from_data_stream(rows))
    result = t_env.sql_query("SELECT k, COUNT(*) AS c, SUM(v) AS s FROM S GROUP BY k")
    final: Dict[int, Tuple[int, int]] = {}
    kinds = set()
    with t_env.to_changelog_stream(result).execute_and_collect() as changes:
        for row in changes:
            kinds.add(row.get_row_kind())
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                k, c, s = row[0], row[1], row[2]
                if c > final.get(k, (0, 0))[0]:
                    final[k] = (c, s)
    assert (tmp_path / "failed").exists(), "the injected failure did not happen"
    expected = {k: (N // KEYS, sum(x for x in range(1, N + 1) if x % KEYS == k))
                for k in range(KEYS)}
    assert final == expected
    assert kinds == {RowKind.INSERT, RowKind.UPDATE_BEFORE, RowKind.UPDATE_AFTER}
