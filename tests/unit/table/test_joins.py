"""The streaming join's changelog for a given arrival order of its two inputs, against
orders PyFlink 2.3 printed (``tests/fixtures/pyflink/table_joins.py``: the changelog shows
which input's row came first), and the plan's names, keys and errors."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from flink_py.table import EnvironmentSettings, TableEnvironment
from flink_py.table.errors import ValidationException
from flink_py.table.expressions import col
from flink_py.table.join import Join, JoinChanges, join_names

I, UB, UA, D = 0, 1, 2, 3


class Rows:
    """One key's rows of one side: the state a keyed MapState holds in a job."""

    def __init__(self) -> None:
        self.rows: Dict[tuple, list] = {}

    def get(self, row: tuple) -> Optional[list]:
        return self.rows.get(row)

    def put(self, row: tuple, entry: list) -> None:
        self.rows[row] = entry

    def remove(self, row: tuple) -> None:
        self.rows.pop(row, None)

    def items(self) -> list:
        return list(self.rows.items())


@pytest.fixture
def t_env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_streaming_mode())


def _changelog(join: Join, arrivals: List[tuple]) -> List[tuple]:
    """The join's output for ``arrivals`` (``(side, kind, row)``), each key's rows in its
    own state as keyed state keeps them."""
    logic = JoinChanges(join)
    states: Dict[tuple, tuple] = {}
    out: List[tuple] = []
    for side, kind, row in arrivals:
        key_fns = join.left_keys if side == "L" else join.right_keys
        key = tuple(f(row) for f in key_fns)
        left, right = states.setdefault(key, (Rows(), Rows()))
        if side == "L":
            out += logic.process(left, right, (kind, row), True)
        else:
            out += logic.process(right, left, (kind, row), False)
    return out


def test_a_left_join_emits_null_padded_rows_and_retracts_them_at_the_match(t_env):
    t_env.create_temporary_view("L", t_env.from_elements([(1, 'a')], ['k', 'v']))
    t_env.create_temporary_view("R", t_env.from_elements([(1, 'x')], ['k', 'w']))
    join = t_env.sql_query("SELECT * FROM L LEFT JOIN R ON L.k = R.k")._plan.inputs[0]
    assert isinstance(join, Join) and len(join.left_keys) == 1
    # the arrival order of PyFlink's "== left" (first recording): L1 R1 L2 R3 L3 Rm Ln R4
    arrivals = [("L", I, (1, 'a')), ("R", I, (1, 'x')), ("L", I, (2, 'b')),
                ("R", I, (3, 'y')), ("L", I, (3, 'c')), ("R", I, (None, 'm')),
                ("L", I, (None, 'n')), ("R", I, (4, 'z'))]
    assert _changelog(join, arrivals) == [
        (I, (1, 'a', None, None)), (D, (1, 'a', None, None)), (I, (1, 'a', 1, 'x')),
        (I, (2, 'b', None, None)), (I, (3, 'c', 3, 'y')), (I, (None, 'n', None, None))]


def test_a_left_join_of_updating_inputs_retracts_with_deletes(t_env):
    t_env.create_temporary_view("C", t_env.from_elements([(1, 1)], ['k', 'c']))
    t_env.create_temporary_view("D", t_env.from_elements([(1, 1)], ['k', 'n']))
    join = t_env.sql_query("SELECT * FROM C LEFT JOIN D ON C.k = D.k")._plan.inputs[0]
    # PyFlink's "== updating left": the two GROUP BY changelogs alternating
    arrivals = [("L", I, (1, 1)), ("R", I, (1, 1)), ("L", I, (2, 1)), ("R", I, (2, 1)),
                ("L", UB, (1, 1)), ("R", UB, (1, 1)), ("L", UA, (1, 2)), ("R", UA, (1, 2)),
                ("R", I, (3, 1))]
    assert _changelog(join, arrivals) == [
        (I, (1, 1, None, None)), (D, (1, 1, None, None)), (I, (1, 1, 1, 1)),
        (I, (2, 1, None, None)), (D, (2, 1, None, None)), (I, (2, 1, 2, 1)),
        (D, (1, 1, 1, 1)), (I, (1, 2, None, None)), (D, (1, 2, None, None)),
        (I, (1, 2, 1, 2))]


def test_an_inner_join_forwards_its_inputs_row_kinds(t_env):
    t_env.create_temporary_view("C", t_env.from_elements([(1, 1)], ['k', 'c']))
    t_env.create_temporary_view("D", t_env.from_elements([(1, 1)], ['k', 'n']))
    join = t_env.sql_query("SELECT * FROM C JOIN D ON C.k = D.k")._plan.inputs[0]
    arrivals = [("L", I, (1, 1)), ("R", I, (1, 1)), ("L", UB, (1, 1)), ("L", UA, (1, 2))]
    assert _changelog(join, arrivals) == [(I, (1, 1, 1, 1)), (UB, (1, 1, 1, 1)),
                                          (UA, (1, 2, 1, 1))]


def test_null_keys_join_nothing(t_env):
    # as in PyFlink's "== full": (NULL, n) and (NULL, m) each NULL-padded
    t_env.create_temporary_view("L", t_env.from_elements([(1, 'a')], ['k', 'v']))
    t_env.create_temporary_view("R", t_env.from_elements([(1, 'x')], ['k', 'w']))
    join = t_env.sql_query("SELECT * FROM L FULL JOIN R ON L.k = R.k")._plan.inputs[0]
    out = _changelog(join, [("L", I, (None, 'a')), ("R", I, (None, 'x'))])
    assert out == [(I, (None, 'a', None, None)), (I, (None, None, None, 'x'))]


def test_join_names_suffix_a_right_name_the_left_has_as_calcite_does():
    assert join_names(["k", "v"], ["k", "w"]) == ["k", "v", "k0", "w"]
    assert join_names(["k", "k0"], ["k", "k0"]) == ["k", "k0", "k1", "k00"]


def test_a_comma_join_takes_the_where_equality_as_its_key(t_env):
    t_env.create_temporary_view("L", t_env.from_elements([(1, 'a')], ['k', 'v']))
    t_env.create_temporary_view("R", t_env.from_elements([(1, 'x')], ['k', 'w']))
    plan = t_env.sql_query("SELECT L.v FROM L, R WHERE L.k = R.k AND L.v <> 'b'")._plan
    joins = [n for n in _nodes(plan) if isinstance(n, Join)]
    assert len(joins) == 1 and len(joins[0].left_keys) == 1
    cross = t_env.sql_query("SELECT L.v FROM L CROSS JOIN R")._plan.inputs[0]
    assert isinstance(cross, Join) and not cross.left_keys


def _nodes(plan):
    yield plan
    for child in plan.inputs:
        yield from _nodes(child)


def test_the_table_api_refuses_inputs_that_share_a_column_name_as_pyflink(t_env):
    left = t_env.from_elements([(1, 'a')], ['k', 'v'])
    right = t_env.from_elements([(1, 'x')], ['k', 'w'])
    with pytest.raises(ValidationException, match=r"join relations with ambiguous names: \[k\]"):
        left.join(right)
    with pytest.raises(ValidationException, match="Ambiguous column name: k"):
        left.join(right, col('k') == col('k'))
    renamed = right.rename_columns(col('k').alias('rk'))
    assert left.join(renamed, col('k') == col('rk')).get_schema().get_field_names() == [
        'k', 'v', 'rk', 'w']


def test_the_table_api_builds_only_union_all_on_streaming_tables(t_env):
    # PyFlink 2.3: "The UNION operation on two unbounded tables is currently not supported."
    a = t_env.from_elements([(1, 'a')], ['x', 'y'])
    b = t_env.from_elements([(2, 'b')], ['x', 'y'])
    assert a.union_all(b).get_schema().get_field_names() == ['x', 'y']
    for method, name in (("union", "UNION"), ("intersect", "INTERSECT"),
                         ("minus", "MINUS"), ("minus_all", "MINUS")):
        with pytest.raises(ValidationException, match=f"The {name} operation on two "
                                                      f"unbounded tables is currently not "
                                                      f"supported."):
            getattr(a, method)(b)
