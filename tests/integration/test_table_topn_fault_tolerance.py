"""A streaming Top-N survives a task failure: each key's top rows are keyed state, restored
from the latest completed checkpoint, so the changelog, applied in order, ends with each
key's true top rows and never retracts a row it did not insert."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Dict

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
    # values that rise and fall, so that the top rows change all along the input
    return Row(x % KEYS, (x * 7919) % 10_007)


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_top_n_restores_its_rows_and_ends_with_each_keys_top_rows(tmp_path: Path,
                                                                    backend: str) -> None:
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
    result = t_env.sql_query("SELECT k, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
                             "k ORDER BY v DESC) AS rn FROM S) WHERE rn <= 3")
    table: Counter = Counter()
    with t_env.to_changelog_stream(result).execute_and_collect() as changes:
        for row in changes:
            values = (row[0], row[1], row[2])
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                table[values] += 1
            else:
                assert table[values] > 0, f"{row.get_row_kind()} of a row not inserted: {values}"
                table[values] -= 1
    assert (tmp_path / "failed").exists(), "the injected failure did not happen"
    expected: Dict[tuple, int] = Counter()
    for k in range(KEYS):
        top = sorted(((x * 7919) % 10_007 for x in range(1, N + 1) if x % KEYS == k),
                     reverse=True)[:3]
        for rank, v in enumerate(top, 1):
            expected[(k, v, rank)] += 1
    assert +table == expected
