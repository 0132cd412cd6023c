"""Table API and SQL programs print what real PyFlink 2.3 printed for them.

The ``table_*.py`` programs in ``tests/fixtures/pyflink/`` ran on PyFlink 2.3.0; their
stdout is the ``.txt`` beside them (``.stream.txt``/``.batch.txt`` for a program run in each
mode). Here each runs on flink_py with only its imports changed. Streaming output -- every
changelog row in order, the tableau's widths, Java's number formatting -- is compared byte
for byte. A batch GROUP BY's rows come in the order of Flink's hash or sort aggregation,
which SQL leaves undefined without ORDER BY: there the rows of each table are compared
sorted, and everything else exactly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

from tests.integration.test_pyflink_typed_streams import FIXTURES, run_on_flink_py


def _run(program: str, tmp_path: Path, *args: str) -> str:
    done = run_on_flink_py(program, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _recorded(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_tables_from_elements_select_filter_and_sql_print_as_in_pyflink(tmp_path):
    assert _run("table_basics.py", tmp_path) == _recorded("table_basics.txt")


@pytest.mark.parametrize("program", ["table_changelog.py", "table_expressions.py",
                                     "table_distinct.py", "table_columns_limit.py"])
def test_streaming_results_and_changelogs_print_as_in_pyflink(program, tmp_path):
    recorded = _recorded(program.replace(".py", ".stream.txt"))
    assert _run(program, tmp_path, "stream") == recorded


def _with_table_rows_sorted(text: str) -> List[str]:
    """The lines, with the rows of each printed table sorted (borders and headers stay).
    A table is: border, header, border, rows, border."""
    out: List[str] = []
    rows: List[str] = []
    borders = 0
    for line in text.splitlines():
        if line.startswith("+-"):
            borders += 1
            if borders == 3:  # the rows end
                out += sorted(rows)
                rows, borders = [], 0
            out.append(line)
        elif borders == 2:
            rows.append(line)
        else:
            out.append(line)
    return out


@pytest.mark.parametrize("program", ["table_changelog.py", "table_expressions.py",
                                     "table_distinct.py", "table_columns_limit.py"])
def test_batch_results_print_as_in_pyflink_up_to_group_order(program, tmp_path):
    recorded = _recorded(program.replace(".py", ".batch.txt"))
    printed = _run(program, tmp_path, "batch")
    assert "| op |" not in printed  # batch results have no changelog column
    assert _with_table_rows_sorted(printed) == _with_table_rows_sorted(recorded)


def test_sql_errors_name_what_failed_and_where_as_flink_does(tmp_path):
    printed = _run("table_errors.py", tmp_path).splitlines()
    recorded = _recorded("table_errors.txt").splitlines()
    assert len(printed) == len(recorded) == 6
    for ours, flinks in zip(printed, recorded):
        query, _, flink_error = flinks.partition(" -> ")
        assert ours.startswith(query + " -> "), ours
        our_error = ours[len(query) + 4:]
        if "validation failed" in flink_error:
            assert our_error.startswith("SQL validation failed. "), our_error
            # the position where we have it, else the message after Flink's position
            what = re.sub(r"^SQL validation failed\. (At|From) line[^:]*: ", "", flink_error)
            assert what in our_error, (what, our_error)
            if "Column 'x'" in flink_error or "Object 'Nope'" in flink_error:
                assert our_error.startswith(flink_error), (flink_error, our_error)
        else:
            assert our_error.startswith("SQL parse failed. "), our_error
            assert re.search(r"at line 1, column \d+", our_error), our_error


def _per_identifier(text: str) -> dict:
    lines: dict = {}
    for line in text.splitlines():
        identifier, sep, rest = line.partition("> ")
        lines.setdefault(identifier if sep else "", []).append(line)
    return lines


def test_tables_from_and_to_data_streams_print_as_in_pyflink(tmp_path):
    # three pipelines print at once: compared per print identifier, each in order
    printed = _run("table_datastream.py", tmp_path)
    assert _per_identifier(printed) == _per_identifier(_recorded("table_datastream.txt"))


def test_an_updating_table_is_refused_as_a_data_stream():
    from flink_py.common.typeinfo import Types
    from flink_py.datastream import StreamExecutionEnvironment
    from flink_py.table import StreamTableEnvironment, TableException
    env = StreamExecutionEnvironment.get_execution_environment()
    t_env = StreamTableEnvironment.create(env)
    stream = env.from_collection([(1, "a")], type_info=Types.ROW_NAMED(
        ["id", "k"], [Types.INT(), Types.STRING()]))
    t_env.create_temporary_view("S", t_env.from_data_stream(stream))
    counts = t_env.sql_query("SELECT k, COUNT(*) AS c FROM S GROUP BY k")
    with pytest.raises(TableException, match="doesn't support consuming update changes "
                                             "which is produced by node GroupAggregate"):
        t_env.to_data_stream(counts)


def test_python_udfs_called_from_the_table_api_and_sql_print_as_in_pyflink(tmp_path):
    assert _run("table_udf.py", tmp_path) == _recorded("table_udf.txt")


def test_a_udf_result_its_type_cannot_hold_fails_the_job_naming_the_function():
    from flink_py.table import DataTypes, EnvironmentSettings, TableEnvironment
    from flink_py.table.expressions import col
    from flink_py.table.udf import udf
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", "1")
    halve = udf(lambda x: x / 2, result_type=DataTypes.BIGINT(), name="halve")
    table = t_env.from_elements([(3,)], ["a"]).select(halve(col("a")))
    with pytest.raises(Exception, match=r"the function 'halve' returned 1.5 of type float, "
                                        r"which its result type BIGINT cannot hold"):
        list(table.execute().collect())


def test_an_unknown_function_is_named_with_its_argument_types():
    from flink_py.table import EnvironmentSettings, TableEnvironment, ValidationException
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.create_temporary_view("T", t_env.from_elements([(1, "a")], ["id", "k"]))
    with pytest.raises(ValidationException, match=r"No match found for function signature "
                                                  r"nope\(<BIGINT>, <VARCHAR\(2147483647\)>\)"):
        t_env.sql_query("SELECT nope(id, k) FROM T")


def test_order_by_in_batch_mode_prints_as_in_pyflink(tmp_path):
    # ASC puts NULLs last and DESC first by default, as Flink does; ties keep input order
    printed = _run("table_order_by.py", tmp_path, "batch")
    assert printed == _recorded("table_order_by.batch.txt")


def test_a_streaming_sort_without_a_time_attribute_is_refused_as_in_flink(tmp_path):
    printed = _run("table_order_by.py", tmp_path, "stream").splitlines()
    # each case's outcome in Flink: its error line, or the table it printed (its row count)
    flinks = [line for line in _recorded("table_order_by.stream.txt").splitlines()
              if not line.startswith(("+", "|"))]
    assert len(printed) == len(flinks) == 7
    for ours, flink in zip(printed, flinks):
        if flink.startswith("Sort on"):  # a plain ORDER BY: Flink's own message
            assert ours == flink
        else:  # ORDER BY ... LIMIT is Flink's Top-N, a retracting changelog not built yet
            assert flink.endswith("rows in set")
            assert ours == "ORDER BY with LIMIT (Top-N) in streaming mode is not supported yet"


def test_ddl_datagen_print_blackhole_and_insert_print_as_in_pyflink(tmp_path):
    assert _run("table_ddl_insert.py", tmp_path) == _recorded("table_ddl_insert.txt")


def test_a_table_without_a_connector_option_is_refused_naming_it():
    from flink_py.table import EnvironmentSettings, TableEnvironment, ValidationException
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    with pytest.raises(ValidationException, match=r"Table options do not contain an option "
                                                  r"key 'connector'.*default_database.t'"):
        t_env.execute_sql("CREATE TABLE t (a INT) WITH ('format' = 'csv')")


def test_an_insert_of_the_wrong_number_of_columns_is_refused():
    from flink_py.table import EnvironmentSettings, TableEnvironment, ValidationException
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.execute_sql("CREATE TABLE s (a BIGINT) WITH ('connector' = 'blackhole')")
    t_env.create_temporary_view("T", t_env.from_elements([(1, 2)], ["x", "y"]))
    with pytest.raises(ValidationException, match="Different number of columns"):
        t_env.execute_sql("INSERT INTO s SELECT x, y FROM T")


def test_catalog_database_and_view_statements_print_as_in_pyflink(tmp_path):
    printed = _run("table_catalog.py", tmp_path)
    assert printed == _recorded("table_catalog.txt")
