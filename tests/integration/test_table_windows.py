"""Event-time windows of the Table API and SQL print what real PyFlink 2.3 printed.

Fixtures (``tests/fixtures/pyflink/``): ``table_windows.py`` (window TVFs TUMBLE/HOP/
CUMULATE, legacy GROUP BY TUMBLE/HOP/SESSION, Table API Tumble/Slide/Session, OVER ROWS/
RANGE/unbounded, time attribute types), ``table_window_print_sink.py`` (the pattern of
PyFlink's windowing examples: FLOAT sums, an Instant rowtime, TIMESTAMP_LTZ sink columns),
``table_window_ddl.py`` (a rowtime and a watermark declared in CREATE TABLE, session time
zones). Each was recorded twice with the same output. When several keys' windows end
together, Flink emits them in the order of its window buffer's hash map, which SQL leaves
undefined: rows are compared sorted within each printed table (print sink lines sorted),
everything else exactly.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from flink_py.common import Row, Types
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.common.time import Instant
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.table import DataTypes, Schema, StreamTableEnvironment
from flink_py.table.errors import TableException, ValidationException
from tests.integration.test_fault_tolerance import AFTER, FailOnceAfterACheckpoint
from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py
from tests.integration.test_table_pyflink_parity import _with_table_rows_sorted

#: lines PyFlink's Beam runner logs on stdout
_RUNNER_NOISE = ("Using Any for unsupported type", "No module named google.cloud",
                 "PYFLINK_CYTHON_ENABLED")


def _run(program: str, tmp_path: Path, *args: str) -> str:
    done = run_on_flink_py(program, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _recorded(name: str) -> str:
    lines = (FIXTURES / name).read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith(_RUNNER_NOISE)) + "\n"


def test_window_tvfs_group_windows_and_over_aggregations_print_as_in_pyflink(tmp_path):
    ours = _run("table_windows.py", tmp_path)
    assert _with_table_rows_sorted(ours) == _with_table_rows_sorted(
        _recorded("table_windows.txt"))


@pytest.mark.parametrize("query", ["tumble", "slide", "session", "over"])
def test_windows_into_a_print_sink_print_the_lines_pyflink_printed(query, tmp_path):
    ours = _run("table_window_print_sink.py", tmp_path, query)
    recorded = _recorded(f"table_window_print_sink.{query}.txt")
    assert sorted(ours.splitlines()) == sorted(recorded.splitlines())
    if query in ("over", "session"):  # one output per timestamp or key: a fixed order
        assert ours == recorded


@pytest.mark.parametrize("mode, zone", [("stream", "UTC"), ("batch", "UTC"),
                                        ("batch", "America/New_York")])
def test_rowtimes_and_watermarks_declared_in_ddl_window_in_the_session_time_zone(
        mode, zone, tmp_path):
    ours = _run("table_window_ddl.py", tmp_path, mode, zone)
    recorded = _recorded(f"table_window_ddl.{mode}.{zone.replace('/', '_')}.txt")
    schema_end = recorded.index(")\n") + 2  # print_schema: columns, watermark, key
    assert ours[:schema_end] == recorded[:schema_end]
    assert _with_table_rows_sorted(ours[schema_end:]) == _with_table_rows_sorted(
        recorded[schema_end:])


def _orders(env):
    rows = [(1000, "a", 1), (2500, "b", 2), (1800, "a", 3), (6100, "a", 4), (4000, "b", 5)]
    return env.from_collection(
        [Row(Instant.of_epoch_milli(ms), k, v) for ms, k, v in rows],
        type_info=Types.ROW_NAMED(["f0", "k", "v"],
                                  [Types.INSTANT(), Types.STRING(), Types.INT()]))


def _table(t_env, stream, watermark="ts - INTERVAL '3' SECOND"):
    return t_env.from_data_stream(stream, Schema.new_builder()
                                  .column_by_expression("ts", "CAST(f0 AS TIMESTAMP(3))")
                                  .column("k", DataTypes.STRING())
                                  .column("v", DataTypes.INT())
                                  .watermark("ts", watermark).build())


def _collect(table):
    with table.execute().collect() as rows:
        return [tuple(r) for r in rows]


def test_a_window_aggregation_in_batch_mode_gives_the_streaming_windows():
    from flink_py.datastream import RuntimeExecutionMode
    results = {}
    for batch in (False, True):
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(1)
        if batch:
            env.set_runtime_mode(RuntimeExecutionMode.BATCH)
        t_env = StreamTableEnvironment.create(env)
        t_env.create_temporary_view("T", _table(t_env, _orders(env)))
        results[batch] = sorted(_collect(t_env.sql_query(
            "SELECT k, window_start, SUM(v) FROM TABLE(HOP(TABLE T, DESCRIPTOR(ts), "
            "INTERVAL '1' SECOND, INTERVAL '3' SECOND)) GROUP BY k, window_start, window_end")))
    assert results[False] == results[True]
    start = datetime.datetime(1970, 1, 1)
    assert (("a", start, 4) in results[True]
            and ("a", start + datetime.timedelta(seconds=4), 4) in results[True])


@pytest.mark.parametrize("query, error, message", [
    ("SELECT * FROM TABLE(TUMBLE(TABLE T, DESCRIPTOR(v), INTERVAL '1' SECOND))",
     ValidationException, "requires the timecol is a time attribute type"),
    ("SELECT * FROM TABLE(TUMBLE(TABLE T, DESCRIPTOR(ts)))", ValidationException,
     "missing the argument(s) SIZE"),
    ("SELECT window_start, COUNT(*) FROM TABLE(CUMULATE(TABLE T, DESCRIPTOR(ts), "
     "INTERVAL '2' SECOND, INTERVAL '5' SECOND)) GROUP BY window_start, window_end",
     ValidationException, "integral multiple of step"),
    ("SELECT SUM(v) OVER (PARTITION BY k ORDER BY v) FROM T", TableException,
     "must be defined on a time attribute"),
    ("SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT "
     "ROW), COUNT(*) OVER (PARTITION BY k ORDER BY ts) FROM T", TableException,
     "All aggregates must be computed on the same window"),
])
def test_bad_window_queries_are_refused_naming_the_problem(query, error, message):
    env = StreamExecutionEnvironment.get_execution_environment()
    t_env = StreamTableEnvironment.create(env)
    t_env.create_temporary_view("T", _table(t_env, _orders(env)))
    with pytest.raises(error) as caught:
        t_env.sql_query(query)
    assert message in str(caught.value)


def test_a_watermark_on_a_column_that_is_not_a_timestamp_is_refused():
    env = StreamExecutionEnvironment.get_execution_environment()
    with pytest.raises(ValidationException, match="TIMESTAMP\\(p\\) or TIMESTAMP_LTZ\\(p\\)"):
        _table(StreamTableEnvironment.create(env), _orders(env), watermark="v")


N, KEYS, WINDOW_MS = 12_000, 6, 200


def _event(x: int) -> Row:
    return Row(x % KEYS, x, x)  # k, v, t (epoch milliseconds, ascending)


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_window_aggregation_restores_its_slices_and_counts_every_row_once(
        tmp_path: Path, backend: str) -> None:
    from flink_py.datastream.state_backend import (EmbeddedRocksDBStateBackend,
                                                   HashMapStateBackend)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'chk'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    rows = (env.from_sequence(0, N - 1)
            .map(FailOnceAfterACheckpoint(str(tmp_path / "failed"), AFTER))
            .map(_event, output_type=Types.ROW_NAMED(["k", "v", "t"], [Types.LONG()] * 3)))
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set("table.local-time-zone", "UTC")
    t_env.create_temporary_view("S", t_env.from_data_stream(
        rows, Schema.new_builder().column("k", DataTypes.BIGINT())
        .column("v", DataTypes.BIGINT())
        .column_by_expression("ts", "TO_TIMESTAMP_LTZ(t, 3)")
        .watermark("ts", "ts - INTERVAL '0.05' SECOND").build()))
    result = t_env.sql_query(
        f"SELECT k, window_start, COUNT(*) AS c, SUM(v) AS s FROM TABLE(TUMBLE(TABLE S, "
        f"DESCRIPTOR(ts), INTERVAL '0.2' SECOND)) GROUP BY k, window_start, window_end")
    seen = {}
    for row in _collect(result):
        key = (row[0], row[1])
        assert seen.get(key, (row[2], row[3])) == (row[2], row[3]), "a window changed"
        seen[key] = (row[2], row[3])
    assert (tmp_path / "failed").exists(), "the injected failure did not happen"
    expected = {}
    for x in range(N):
        key = (x % KEYS, datetime.datetime(1970, 1, 1)
               + datetime.timedelta(milliseconds=x - x % WINDOW_MS))
        c, s = expected.get(key, (0, 0))
        expected[key] = (c + 1, s + x)
    assert seen == expected


def test_an_unbounded_datagen_table_runs_at_its_rows_per_second_until_cancelled():
    import time
    from flink_py.table import EnvironmentSettings, TableEnvironment
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", "1")
    t_env.execute_sql("CREATE TABLE g (a INT, b STRING) WITH ('connector' = 'datagen', "
                      "'rows-per-second' = '40', 'fields.a.min' = '1', 'fields.a.max' = '3', "
                      "'fields.b.length' = '4')")
    started = time.monotonic()
    with t_env.execute_sql("SELECT a, b FROM g").collect() as rows:
        first = [tuple(next(rows)) for _ in range(9)]
    elapsed = time.monotonic() - started
    assert all(1 <= a <= 3 and len(b) == 4 for a, b in first)
    assert elapsed >= 8 / 40, f"9 rows at 40 rows/s came in {elapsed:.3f} s"
    batch = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    batch.execute_sql("CREATE TABLE g (a INT) WITH ('connector' = 'datagen')")
    with pytest.raises(ValidationException, match="unbounded table"):
        batch.execute_sql("SELECT a FROM g").wait()


@pytest.mark.parametrize("mode", ["stream", "batch"])
def test_date_time_literals_casts_and_functions_print_as_in_pyflink(mode, tmp_path):
    assert _run("table_datetime.py", tmp_path, mode) == _recorded(
        f"table_datetime.{mode}.txt")


@pytest.mark.parametrize("ttl", [None, "20 ms"])
def test_table_exec_state_ttl_forgets_a_group_idle_for_longer(ttl):
    # the rows of one key come about 200 ms apart (datagen at 5 rows/s; the runtime may hand
    # two on together): with a 20 ms TTL a row that comes alone finds its group's
    # accumulators expired and starts the group anew (+I), as Flink's do; without, the one
    # group counts on
    from flink_py.table import EnvironmentSettings, TableEnvironment
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", "1")
    if ttl is not None:
        t_env.get_config().set("table.exec.state.ttl", ttl)
    t_env.execute_sql("CREATE TABLE g (k INT) WITH ('connector' = 'datagen', "
                      "'rows-per-second' = '5', 'fields.k.min' = '1', 'fields.k.max' = '1')")
    with t_env.execute_sql("SELECT k, COUNT(*) FROM g GROUP BY k").collect() as rows:
        changes = []
        while sum(1 for kind, _ in changes if kind in ("+I", "+U")) < 6:
            row = next(rows)
            changes.append((row.get_row_kind().short_string(), tuple(row)))
    inserts = [values for kind, values in changes if kind == "+I"]
    if ttl is None:
        assert inserts == [(1, 1)]
        assert [v for kind, v in changes if kind == "+U"] == [(1, n) for n in range(2, 7)]
    else:
        assert len(inserts) >= 2 and all(v == (1, 1) for v in inserts), changes


def test_a_bad_state_ttl_is_named():
    from flink_py.table import EnvironmentSettings, TableEnvironment
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("table.exec.state.ttl", "soon")
    with pytest.raises(ValidationException, match="'soon'"):
        t_env.sql_query("SELECT 1")


def test_unaliased_aggregates_of_the_table_api_are_named_as_in_pyflink(tmp_path):
    assert _run("table_api_names.py", tmp_path) == _recorded("table_api_names.txt")


def test_order_by_a_rowtime_in_streaming_prints_as_in_pyflink(tmp_path):
    # recorded twice (the ties' order by the second key, and the error text, the same)
    assert _run("table_temporal_sort.py", tmp_path) == _recorded("table_temporal_sort.txt")


def test_a_streams_own_timestamps_and_watermarks_as_rowtime_print_as_in_pyflink(tmp_path):
    # Schema.column_by_metadata('rowtime') + SOURCE_WATERMARK(), and the legacy
    # col('rowtime').rowtime field; recorded twice, the same
    assert _run("table_stream_rowtime.py", tmp_path) == _recorded("table_stream_rowtime.txt")
