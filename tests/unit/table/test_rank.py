"""Top-N plans from SQL: the Rank's limit from the row number filter, the no-ranking-number
optimisation, deduplication's insert-only kind, and the refusals."""

from __future__ import annotations

import pytest

from flink_py.table import EnvironmentSettings, TableEnvironment
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.rank import Rank, _compare


@pytest.fixture
def t_env() -> TableEnvironment:
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.create_temporary_view("T", env.from_elements([('a', 1, 10), ('b', 2, 5)],
                                                     ['k', 'id', 'v']))
    return env


def _rank(plan) -> Rank:
    while not isinstance(plan, Rank):
        plan = plan.inputs[0]
    return plan


def _plan(t_env, sql):
    return t_env.sql_query(sql)._plan


def test_the_row_number_filter_sets_the_limit_and_the_select_the_rank_output(t_env):
    rank = _rank(_plan(t_env, "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k "
                              "ORDER BY v DESC) AS rn FROM T) WHERE rn < 3"))
    assert (rank.limit, rank.output_rank, rank.updating) == (2, True, True)
    rank = _rank(_plan(t_env, "SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k "
                              "ORDER BY v DESC) AS rn FROM T) WHERE rn <= 5 AND v > 1"))
    assert (rank.limit, rank.output_rank) == (5, False)


def test_rank_equals_a_number_other_than_one_is_refused(t_env):
    with pytest.raises(TableException, match="rn = N other than rn = 1"):
        _plan(t_env, "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM T) "
                     "WHERE rn = 2")


def test_row_number_without_order_by_is_refused_with_flinks_message(t_env):
    with pytest.raises(ValidationException, match="requires order by clause with "
                                                  "non-constant fields"):
        _plan(t_env, "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k) AS rn "
                     "FROM T) WHERE rn <= 2")


def test_a_streaming_row_number_without_a_filter_is_a_plain_over_and_refused(t_env):
    with pytest.raises(TableException, match="ASCENDING"):
        t_env.execute_sql("SELECT *, ROW_NUMBER() OVER (ORDER BY v DESC) AS rn FROM T"
                          ).print()
    with pytest.raises(TableException, match="time attribute"):
        t_env.execute_sql("SELECT *, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM T").print()


def test_sort_keys_compare_with_flinks_null_order():
    asc = _compare([(True, False)])
    desc = _compare([(False, True)])
    assert asc((1,), (2,)) < 0 and asc((None,), (2,)) > 0
    assert desc((1,), (2,)) > 0 and desc((None,), (2,)) < 0 and desc((3,), (3,)) == 0


def test_a_filter_left_on_the_row_number_keeps_it_in_the_ranks_output(t_env):
    rank = _rank(_plan(t_env, "SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k "
                              "ORDER BY v DESC) AS rn FROM T) WHERE rn <= 3 AND rn > 1"))
    assert (rank.limit, rank.output_rank) == (3, True)


def test_rows_beyond_the_rank_filter_are_not_emitted(t_env):
    t_env.create_temporary_view("U", t_env.from_elements(
        [('a', 1), ('a', 5), ('a', 3), ('a', 9)], ['k', 'v']))
    result = t_env.execute_sql(
        "SELECT k, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) "
        "AS rn FROM U) WHERE rn <= 3 AND rn > 1")
    with result.collect() as rows:
        changes = [(r.get_row_kind().short_string(), tuple(r)) for r in rows]
    # the changes of ranks 2 and 3 only, in the order the Top-3 emits them
    assert changes == [("+I", ('a', 1, 2)), ("-U", ('a', 1, 2)), ("+U", ('a', 3, 2)),
                       ("+I", ('a', 1, 3)), ("-U", ('a', 3, 2)), ("+U", ('a', 5, 2)),
                       ("-U", ('a', 1, 3)), ("+U", ('a', 3, 3))]
