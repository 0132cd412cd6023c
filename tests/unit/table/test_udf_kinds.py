"""Table functions, aggregate functions (and aggregations over an updating input), table
aggregate functions, Table.map and async scalar functions: the semantics the PyFlink
fixtures do not pin down, checked on collected rows."""

from __future__ import annotations

import asyncio
from typing import Dict, List, Tuple

import pytest

from flink_py.common.types import Row
from flink_py.table import DataTypes, EnvironmentSettings, TableEnvironment, TableException
from flink_py.table.expressions import col, lit
from flink_py.table.udf import (AggregateFunction, AsyncScalarFunction, TableFunction, udaf,
                                udf, udtf)


def _env(streaming: bool = True) -> TableEnvironment:
    settings = (EnvironmentSettings.in_streaming_mode() if streaming
                else EnvironmentSettings.in_batch_mode())
    t_env = TableEnvironment.create(settings)
    t_env.get_config().set("parallelism.default", "1")
    return t_env


def _changes(table) -> List[Tuple[str, tuple]]:
    return [(r.get_row_kind().short_string(), tuple(r)) for r in table.execute().collect()]


def _final(changes: List[Tuple[str, tuple]], width: int) -> Dict[tuple, tuple]:
    """The rows a changelog leaves, by their first ``width`` columns."""
    state: Dict[tuple, tuple] = {}
    for kind, row in changes:
        if kind in ("+I", "+U"):
            state[row[:width]] = row
        else:
            assert state.pop(row[:width]) == row
    return state


def test_a_table_function_returning_none_a_tuple_or_a_list_gives_those_rows():
    t_env = _env()
    t = t_env.from_elements([(0,), (1,), (2,)], ['n'])

    @udtf(result_types=[DataTypes.BIGINT(), DataTypes.STRING()])
    def rows(n):
        if n == 0:
            return None  # no rows
        if n == 1:
            return (1, 'one')  # one row, returned
        return [(2, 'a'), (2, 'b')]

    out = [tuple(r) for r in t.join_lateral(rows(col('n')).alias('x', 's'))
           .execute().collect()]
    assert out == [(1, 1, 'one'), (2, 2, 'a'), (2, 2, 'b')]


def test_a_table_function_row_of_the_wrong_arity_or_type_fails_the_job_naming_it():
    t_env = _env()
    t = t_env.from_elements([(1,)], ['n'])
    bad_arity = udtf(lambda n: [(n, n)], result_types=[DataTypes.BIGINT()], name="bad_arity")
    bad_type = udtf(lambda n: ['x'], result_types=[DataTypes.BIGINT()], name="bad_type")
    for f in (bad_arity, bad_type):
        with pytest.raises(Exception, match=f._name):
            list(t.flat_map(f(col('n'))).execute().collect())


#: what the module-level functions below saw (the job runs in this process; the classes
#: travel to the task by reference, so this list is theirs)
EVENTS: List[str] = []


class Tracked(TableFunction):
    def open(self, function_context):
        EVENTS.append("open")

    def eval(self, n):
        EVENTS.append(f"eval {n}")
        yield n

    def close(self):
        EVENTS.append("close")


class Slow(AsyncScalarFunction):
    def open(self, function_context):
        EVENTS.append("open")

    async def eval(self, x):
        await asyncio.sleep(0)
        return x * 2

    def close(self):
        EVENTS.append("close")


def test_a_table_function_is_opened_before_its_rows_and_closed_at_the_end():
    EVENTS.clear()
    t_env = _env()
    tracked = udtf(Tracked(), result_types=DataTypes.BIGINT())
    list(t_env.from_elements([(1,), (2,)], ['n']).flat_map(tracked(col('n')))
         .execute().collect())
    assert EVENTS == ["open", "eval 1", "eval 2", "close"]


def test_a_row_typed_string_names_a_table_functions_columns():
    t_env = _env()
    pairs = udtf(lambda n: [(n, n * 2)], result_types='ROW<a BIGINT, b BIGINT>')
    table = t_env.from_elements([(3,)], ['n']).flat_map(pairs(col('n')))
    assert table.get_schema().get_field_names() == ['a', 'b']
    assert [tuple(r) for r in table.execute().collect()] == [(3, 6)]


def test_join_lateral_of_the_function_itself_needs_an_alias_as_in_pyflink():
    t_env = _env()
    split = udtf(lambda r: [r[0]], result_types=[DataTypes.BIGINT()])
    with pytest.raises(AttributeError, match="must be followed by a alias"):
        t_env.from_elements([(1,)], ['n']).join_lateral(split)


class Total(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += v

    def retract(self, acc, v):
        acc[0] -= v

    def get_value(self, acc):
        return acc[0]

    def get_result_type(self):
        return DataTypes.BIGINT()

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())


def test_a_udaf_over_an_updating_input_retracts_and_deletes_an_emptied_group():
    t_env = _env()
    total = udaf(Total())
    # k's max moves from group m=1 to m=5: the outer group 1 loses its only row (-D)
    t = t_env.from_elements([('k', 1), ('j', 2), ('k', 5)], ['k', 'v'])
    inner = t.group_by(col('k')).select(col('k'), col('v').max.alias('m'))
    changes = _changes(inner.group_by(col('m')).select(col('m'), total(col('m')).alias('s')))
    assert ('-D', (1, 1)) in changes
    assert _final(changes, 1) == {(2,): (2, 2), (5,): (5, 5)}


def test_built_in_aggregates_over_an_updating_input_give_the_final_rows_batch_gives():
    rows = [('a', 1), ('b', 2), ('a', 3), ('c', None), ('b', 7), ('a', 3)]

    def query(t):
        per_key = t.group_by(col('k')).select(col('k'), col('v').sum.alias('s'))
        return per_key.select(col('s').count.alias('n'), col('s').sum.alias('total'),
                              col('s').min.alias('lo'), col('s').max.alias('hi'),
                              col('s').avg.alias('mean'), col('s').sum0.alias('z'),
                              col('s').count.distinct.alias('nd'))
    streaming = _changes(query(_env().from_elements(rows, ['k', 'v'])))
    kind, last = streaming[-1]
    assert kind == "+U"
    batch = [tuple(r) for r in query(_env(False).from_elements(rows, ['k', 'v']))
             .execute().collect()]
    assert batch == [last] == [(2, 16, 7, 9, 8, 16, 2)]


def test_a_udaf_without_retract_fails_when_a_retraction_reaches_it():
    class NoRetract(AggregateFunction):
        def create_accumulator(self):
            return [0]

        def accumulate(self, acc, v):
            acc[0] += 1

        def get_value(self, acc):
            return acc[0]

    t_env = _env()
    count = udaf(NoRetract(), result_type='BIGINT', accumulator_type='ARRAY<BIGINT>')
    t = t_env.from_elements([('k', 1), ('k', 2)], ['k', 'v'])
    inner = t.group_by(col('k')).select(col('k'), col('v').sum.alias('s'))
    with pytest.raises(Exception, match="Method retract is not implemented"):
        list(inner.select(count(col('s'))).execute().collect())


def test_udaf_types_and_func_types_are_checked_as_pyflink_checks_them():
    with pytest.raises(TableException, match="needs pandas"):
        udaf(Total(), func_type="pandas")
    with pytest.raises(ValueError, match="must be one of"):
        udaf(Total(), func_type="vectorized")
    with pytest.raises(TypeError, match="at the same time"):
        udaf(Total(), result_type='BIGINT', accumulator_type=DataTypes.BIGINT())
    with pytest.raises(TypeError, match="Invalid function"):
        udaf(Total)


def test_a_udaf_in_batch_mode_is_refused_as_flink_refuses_it():
    t_env = _env(False)
    total = udaf(Total())
    t = t_env.from_elements([('a', 1)], ['k', 'v'])
    with pytest.raises(TableException, match="Cannot generate a valid execution plan"):
        list(t.group_by(col('k')).select(total(col('v'))).execute().collect())


def test_a_registered_udaf_is_an_aggregate_in_sql_and_in_call_by_name():
    from flink_py.table.expressions import call
    t_env = _env()
    t_env.create_temporary_function("total", udaf(Total()))
    t = t_env.from_elements([('a', 1), ('a', 2), ('b', 5)], ['k', 'v'])
    t_env.create_temporary_view("T", t)
    sql = _final(_changes(t_env.sql_query("SELECT k, total(v) + 1 AS s FROM T GROUP BY k")), 1)
    api = _final(_changes(t.group_by(col('k')).select(col('k'), call('total', col('v')))), 1)
    assert sql == {('a',): ('a', 4), ('b',): ('b', 6)}
    assert api == {('a',): ('a', 3), ('b',): ('b', 5)}


def test_map_of_a_row_result_checks_each_field():
    t_env = _env()
    bad = udf(lambda a: Row('x'), result_type=DataTypes.ROW(
        [DataTypes.FIELD("n", DataTypes.BIGINT())]), name="bad_row")
    with pytest.raises(Exception, match="bad_row"):
        list(t_env.from_elements([(1,)], ['a']).map(bad(col('a'))).execute().collect())


def test_an_async_scalar_function_is_opened_awaited_per_row_and_closed():
    EVENTS.clear()
    t_env = _env()
    slow = udf(Slow(), result_type=DataTypes.BIGINT())
    out = [tuple(r) for r in t_env.from_elements([(1,), (2,)], ['x'])
           .select(slow(col('x')), lit(1)).execute().collect()]
    assert out == [(2, 1), (4, 1)] and EVENTS == ["open", "close"]


def test_aggregate_of_the_function_itself_gets_one_row_of_every_column():
    """As PyFlink 2.3 calls it over a table (seen: accumulate(acc, Row(id=1, k='a', v=10)))."""
    class CountAndSum(AggregateFunction):
        def create_accumulator(self):
            return Row(0, 0)

        def accumulate(self, acc, row):
            acc[0] += 1
            acc[1] += row.v

        def get_value(self, acc):
            return Row(acc[0], acc[1])

        def get_result_type(self):
            return 'ROW<cnt BIGINT, total BIGINT>'

        def get_accumulator_type(self):
            return 'ROW<cnt BIGINT, total BIGINT>'

    t_env = _env()
    count_sum = udaf(CountAndSum())
    t = t_env.from_elements([(1, 'a', 10), (2, 'b', 20), (3, 'a', 5)], ['id', 'k', 'v'])
    final = _final(_changes(t.group_by(col('k')).aggregate(count_sum.alias('c', 's'))
                            .select(col('k'), col('c'), col('s'))), 1)
    assert final == {('a',): ('a', 2, 15), ('b',): ('b', 1, 20)}


def test_map_of_a_tuple_for_a_row_result_fails_saying_to_return_a_row():
    """PyFlink 2.3 fails there too (its row coder: 'tuple' object has no attribute
    'get_fields_by_names')."""
    t_env = _env()
    pair = udf(lambda a: (a, 'x'), result_type='ROW<i BIGINT, s STRING>', name="pair")
    with pytest.raises(Exception, match="'pair' returned .* return a Row"):
        list(t_env.from_elements([(1,)], ['a']).map(pair(col('a'))).execute().collect())
