"""Interval joins, window joins and event-time temporal joins print what PyFlink 2.3 printed
for ``tests/fixtures/pyflink/table_time_joins.py``. Padded and joined rows are emitted as the
watermark advances, in an order that depends on when the watermarks come and on Flink's
hash order of its state: the rows of each table are compared sorted (they varied between
PyFlink's runs), everything else exactly. An interval join survives a task failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_py.common import Row, Types
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.common.time import Instant
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.datastream.state_backend import EmbeddedRocksDBStateBackend, HashMapStateBackend
from flink_py.table import (DataTypes, EnvironmentSettings, RowKind, Schema,
                            StreamTableEnvironment, TableEnvironment)
from flink_py.table.errors import TableException, ValidationException
from tests.integration.test_fault_tolerance import AFTER, FailOnceAfterACheckpoint
from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py
from tests.integration.test_table_pyflink_parity import _with_table_rows_sorted


def test_time_joins_print_what_pyflink_printed(tmp_path: Path) -> None:
    done = run_on_flink_py("table_time_joins.py", tmp_path)
    assert done.returncode == 0, done.stderr
    recorded = (FIXTURES / "table_time_joins.txt").read_text()
    assert _with_table_rows_sorted(done.stdout) == _with_table_rows_sorted(recorded)


def _rowtime_table(t_env: StreamTableEnvironment, stream: object) -> object:
    return t_env.from_data_stream(stream, Schema.new_builder()
                                  .column_by_expression("ts", "CAST(f0 AS TIMESTAMP(3))")
                                  .column("k", DataTypes.BIGINT())
                                  .watermark("ts", "ts - INTERVAL '2' SECOND").build())


N = 2_000
KEYS = 100


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_an_interval_join_restores_its_buffered_rows_and_joins_every_pair_once(
        tmp_path: Path, backend: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    # one source for both sides, in time order: row x at x * 10 ms, key x % KEYS
    numbers = env.from_sequence(1, N).map(
        FailOnceAfterACheckpoint(str(tmp_path / "failed"), AFTER))
    row_type = Types.ROW_NAMED(["f0", "k"], [Types.INSTANT(), Types.LONG()])
    left = numbers.map(lambda x: Row(Instant.of_epoch_milli(x * 10), x % KEYS),
                       output_type=row_type)
    right = numbers.map(lambda x: Row(Instant.of_epoch_milli(x * 10), x % KEYS),
                        output_type=row_type)
    t_env = StreamTableEnvironment.create(env)
    t_env.create_temporary_view("L", _rowtime_table(t_env, left))
    t_env.create_temporary_view("R", _rowtime_table(t_env, right))
    # x joins y of its key with |x - y| * 10 ms <= 1 s: y in {x - 100, x, x + 100}
    result = t_env.sql_query(
        "SELECT COUNT(*) AS c FROM L, R WHERE L.k = R.k "
        "AND L.ts BETWEEN R.ts - INTERVAL '1' SECOND AND R.ts + INTERVAL '1' SECOND")
    final = 0
    with t_env.to_changelog_stream(result).execute_and_collect() as changes:
        for row in changes:
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                final = max(final, row[0])
    assert (tmp_path / "failed").exists(), "the injected failure did not happen"
    assert final == N + 2 * (N - KEYS)


_DDL = ("CREATE TABLE o (id INT, c STRING, ts TIMESTAMP(3), pt AS PROCTIME(), "
        "WATERMARK FOR ts AS ts) WITH ('connector'='datagen', 'number-of-rows'='3')",
        "CREATE TABLE r (rid INT, rc STRING NOT NULL, rts TIMESTAMP(3), PRIMARY KEY (rc) NOT "
        "ENFORCED, WATERMARK FOR rts AS rts) WITH ('connector'='datagen', 'number-of-rows'='3')",
        "CREATE TABLE r2 (rid INT, rc STRING NOT NULL, rts TIMESTAMP(3), WATERMARK FOR rts AS "
        "rts) WITH ('connector'='datagen', 'number-of-rows'='3')")


# the messages PyFlink 2.3 gave for these (explain_sql)
@pytest.mark.parametrize("query, error, message", [
    ("SELECT * FROM o JOIN r FOR SYSTEM_TIME AS OF o.id AS x ON o.c = x.rc",
     ValidationException,
     "The system time period specification expects Timestamp type but is 'INTEGER'"),
    ("SELECT * FROM o JOIN r FOR SYSTEM_TIME AS OF o.pt AS x ON o.c = x.rc", TableException,
     "Processing-time temporal join is not supported yet."),
    ("SELECT * FROM o JOIN r2 FOR SYSTEM_TIME AS OF o.ts AS x ON o.c = x.rc",
     ValidationException, "Temporal Table Join requires primary key in versioned table, but "
                          "no primary key can be found."),
    ("SELECT * FROM o RIGHT JOIN r FOR SYSTEM_TIME AS OF o.ts AS x ON o.c = x.rc",
     TableException, "Unknown join type RIGHT"),
    ("SELECT * FROM o JOIN r FOR SYSTEM_TIME AS OF o.ts AS x ON o.id = x.rid",
     ValidationException, "Temporal table's primary key [rc] must be included in the "
                          "equivalence condition of temporal join, but current temporal join "
                          "condition is [id=rid]."),
])
def test_temporal_joins_flink_refuses_are_refused(query: str, error: type, message: str
                                                  ) -> None:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for ddl in _DDL:
        t_env.execute_sql(ddl)
    with pytest.raises(error) as raised:
        t_env.sql_query(query)
    assert message in str(raised.value)


def test_a_table_api_outer_join_bounded_in_event_time_is_an_interval_join() -> None:
    from flink_py.table.expressions import col, lit
    from flink_py.table.interval_join import IntervalJoin
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    t_env = StreamTableEnvironment.create(env)
    tables = []
    for rows in ([(1000, 1), (3000, 2), (9000, 1)], [(1500, 1), (2000, 2), (4000, 3)]):
        ds = env.from_collection([Row(Instant.of_epoch_milli(ms), k) for ms, k in rows],
                                 type_info=Types.ROW_NAMED(["f0", "k"],
                                                           [Types.INSTANT(), Types.LONG()]))
        tables.append(_rowtime_table(t_env, ds))
    a = tables[0]
    b = tables[1].select(col("ts").alias("bts"), col("k").alias("bk"))
    bounded = ((col("k") == col("bk")) & (col("ts") >= col("bts") - lit(1).seconds)
               & (col("ts") <= col("bts")))
    joined = a.left_outer_join(b, bounded)
    assert isinstance(joined._plan, IntervalJoin)
    assert not joined._plan.updating
    with joined.execute().collect() as results:
        rows = sorted((r[0].second, r[1], r[3]) for r in results)
    # a row at 3 s has no row of its key in [3 s, 4 s]; one at 9 s none in [9 s, 10 s]
    assert rows == [(1, 1, 1), (3, 2, None), (9, 1, None)]
