"""Rolling aggregations on a KeyedStream, with Flink's semantics exactly.

* ``sum/min/max(f)``: the key's FIRST record with only field ``f`` replaced by the running
  aggregate (Java's ``SumAggregator`` / ``ComparableAggregator`` with ``first = false``
  copy field ``f`` into the first record they saw);
* ``min_by/max_by(f)``: the whole record holding the extreme; the earlier one on a tie;
* ``reduce(fn)``: ``fn(previous_result, record)`` for every record after the key's first;
* STREAMING: one output per input; BATCH (and AUTOMATIC on bounded input): one final output
  per key.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from flink_py.common import Row, Types
from flink_py.datastream import ReduceFunction, RuntimeExecutionMode, StreamExecutionEnvironment


def new_env(parallelism: int = 1, mode: RuntimeExecutionMode = None
            ) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    if mode is not None:
        env.set_runtime_mode(mode)
    return env


def rolling(data: List[Any], aggregate: str, field: Any, parallelism: int = 1,
            mode: RuntimeExecutionMode = None, type_info: Any = None,
            key: Any = lambda r: r[0]) -> List[Any]:
    """Runs ``from_collection(data).key_by(key).<aggregate>(field)`` and collects it."""
    env = new_env(parallelism, mode)
    ds = env.from_collection(data, type_info=type_info)
    keyed = ds.key_by(key)
    return list(getattr(keyed, aggregate)(field).execute_and_collect())


def per_key(results: List[Any], key: Any = lambda r: r[0]) -> Dict[Any, List[Any]]:
    grouped: Dict[Any, List[Any]] = {}
    for r in results:
        grouped.setdefault(key(r), []).append(r)
    return grouped


# -- sum / min / max: the first record with one field replaced ------------------------------------

def test_max_keeps_the_other_fields_of_the_first_record():
    data = [("a", 1, "x"), ("a", 5, "y"), ("a", 3, "z")]
    assert rolling(data, "max", 1) == [("a", 1, "x"), ("a", 5, "x"), ("a", 5, "x")]


def test_min_keeps_the_other_fields_of_the_first_record():
    data = [("a", 5, "x"), ("a", 1, "y"), ("a", 3, "z"), ("a", 0, "w")]
    assert rolling(data, "min", 1) == \
        [("a", 5, "x"), ("a", 1, "x"), ("a", 1, "x"), ("a", 0, "x")]


def test_sum_keeps_the_other_fields_of_the_first_record():
    data = [("a", 1, "x"), ("a", 2, "y"), ("a", 3, "z")]
    assert rolling(data, "sum", 1) == [("a", 1, "x"), ("a", 3, "x"), ("a", 6, "x")]


def test_sum_of_floats_and_mixed_numbers():
    data = [("a", 0.5), ("a", 1), ("a", 0.25)]
    assert rolling(data, "sum", 1) == [("a", 0.5), ("a", 1.5), ("a", 1.75)]


def test_sum_of_the_key_field_itself():
    data = [(1, "x"), (1, "y"), (2, "z")]
    assert rolling(data, "sum", 0) == [(1, "x"), (2, "x"), (2, "z")]


def test_aggregates_are_kept_per_key():
    data = [("a", 1, "a1"), ("b", 10, "b1"), ("a", 7, "a2"), ("b", 5, "b2"), ("a", 2, "a3")]
    grouped = per_key(rolling(data, "max", 1, parallelism=2))
    assert grouped == {
        "a": [("a", 1, "a1"), ("a", 7, "a1"), ("a", 7, "a1")],
        "b": [("b", 10, "b1"), ("b", 10, "b1")],
    }
    grouped = per_key(rolling(data, "sum", 1, parallelism=2))
    assert grouped == {
        "a": [("a", 1, "a1"), ("a", 8, "a1"), ("a", 10, "a1")],
        "b": [("b", 10, "b1"), ("b", 15, "b1")],
    }


def test_aggregation_by_tuple_index_on_a_typed_tuple_stream():
    tuple_type = Types.TUPLE([Types.STRING(), Types.INT(), Types.STRING()])
    data = [("a", 4, "x"), ("a", 2, "y"), ("a", 9, "z")]
    assert rolling(data, "min", 1, type_info=tuple_type) == \
        [("a", 4, "x"), ("a", 2, "x"), ("a", 2, "x")]
    assert rolling(data, "sum", 1, type_info=tuple_type) == \
        [("a", 4, "x"), ("a", 6, "x"), ("a", 15, "x")]


def test_list_records_by_index():
    data = [["a", 1, "x"], ["a", 5, "y"]]
    assert rolling(data, "max", 1) == [["a", 1, "x"], ["a", 5, "x"]]


# -- by Row field name -------------------------------------------------------------------------

ROW_TYPE = Types.ROW_NAMED(["word", "count", "note"], [Types.STRING(), Types.INT(), Types.STRING()])


def rows(*values: tuple) -> List[Row]:
    return [Row(word=w, count=c, note=n) for w, c, n in values]


@pytest.mark.parametrize("aggregate,expected", [
    ("sum", [("a", 3, "x"), ("a", 4, "x"), ("a", 6, "x")]),
    ("max", [("a", 3, "x"), ("a", 3, "x"), ("a", 3, "x")]),
    ("min", [("a", 3, "x"), ("a", 1, "x"), ("a", 1, "x")]),
    ("min_by", [("a", 3, "x"), ("a", 1, "y"), ("a", 1, "y")]),
    ("max_by", [("a", 3, "x"), ("a", 3, "x"), ("a", 3, "x")]),
])
@pytest.mark.parametrize("field", ["count", 1])
def test_row_aggregation_by_field_name_and_index(aggregate, expected, field):
    data = rows(("a", 3, "x"), ("a", 1, "y"), ("a", 2, "z"))
    out = rolling(data, aggregate, field, type_info=ROW_TYPE, key=lambda r: r.word)
    assert all(isinstance(r, Row) for r in out)
    assert [(r.word, r["count"], r[2]) for r in out] == expected
    assert [r.as_dict() for r in out][0] == {"word": "a", "count": 3, "note": "x"}


def test_row_aggregation_by_name_on_pickled_rows():
    data = rows(("a", 3, "x"), ("b", 1, "y"), ("a", 2, "z"))
    out = rolling(data, "sum", "count", key=lambda r: r.word, parallelism=2)
    grouped = per_key(out, key=lambda r: r.word)
    assert [(r.count, r.note) for r in grouped["a"]] == [(3, "x"), (5, "x")]
    assert [(r.count, r.note) for r in grouped["b"]] == [(1, "y")]


# -- min_by / max_by: whole records, the earlier one on ties -------------------------------------

def test_min_by_returns_whole_records_and_keeps_the_earlier_on_ties():
    data = [("a", 5, "x"), ("a", 1, "y"), ("a", 1, "z"), ("a", 3, "w"), ("a", 0, "v")]
    assert rolling(data, "min_by", 1) == \
        [("a", 5, "x"), ("a", 1, "y"), ("a", 1, "y"), ("a", 1, "y"), ("a", 0, "v")]


def test_max_by_returns_whole_records_and_keeps_the_earlier_on_ties():
    data = [("a", 1, "x"), ("a", 5, "y"), ("a", 5, "z"), ("a", 3, "w"), ("a", 6, "v")]
    assert rolling(data, "max_by", 1) == \
        [("a", 1, "x"), ("a", 5, "y"), ("a", 5, "y"), ("a", 5, "y"), ("a", 6, "v")]


def test_max_by_differs_from_max():
    data = [("a", 1, "x"), ("a", 5, "y")]
    assert rolling(data, "max", 1) == [("a", 1, "x"), ("a", 5, "x")]
    assert rolling(data, "max_by", 1) == [("a", 1, "x"), ("a", 5, "y")]


# -- reduce -----------------------------------------------------------------------------------

def test_reduce_emits_for_every_record():
    data = [("a", 1), ("b", 2), ("a", 3), ("a", 4), ("b", 5)]
    env = new_env(2)
    out = list(env.from_collection(data).key_by(lambda t: t[0])
               .reduce(lambda acc, v: (acc[0], acc[1] * 10 + v[1])).execute_and_collect())
    assert per_key(out) == {"a": [("a", 1), ("a", 13), ("a", 134)],
                            "b": [("b", 2), ("b", 25)]}


def test_reduce_with_a_reduce_function_gets_previous_result_then_new_record():
    class Concat(ReduceFunction):
        def reduce(self, value1: Any, value2: Any) -> Any:
            return value1 + "|" + value2

    env = new_env()
    out = list(env.from_collection(["a1", "b1", "a2", "a3"]).key_by(lambda s: s[0])
               .reduce(Concat()).execute_and_collect())
    assert out == ["a1", "b1", "a1|a2", "a1|a2|a3"]


# -- basic-type streams: field 0 is the whole value ---------------------------------------------

@pytest.mark.parametrize("type_info", [None, Types.INT()], ids=["pickled", "INT"])
def test_sum_min_max_on_a_stream_of_ints_with_field_0(type_info):
    data = [1, 2, 3, 4, 5, 6]
    odd_even = lambda x: x % 2  # noqa: E731
    # One subtask: the outputs come in input order (odd key: 1, 4, 9; even key: 2, 6, 12).
    assert rolling(data, "sum", 0, type_info=type_info, key=odd_even) == [1, 2, 4, 6, 9, 12]
    data = [5, 3, 8, 1]
    one_key = lambda x: 0  # noqa: E731
    assert rolling(data, "min", 0, type_info=type_info, key=one_key) == [5, 3, 3, 1]
    assert rolling(data, "max", 0, type_info=type_info, key=one_key) == [5, 5, 8, 8]
    assert rolling(data, "max_by", 0, type_info=type_info, key=one_key) == [5, 5, 8, 8]


def test_sum_with_the_default_field_is_field_0():
    env = new_env()
    out = list(env.from_collection([1, 2, 3]).key_by(lambda x: "k").sum()
               .execute_and_collect())
    assert out == [1, 3, 6]


# -- one output per input in STREAMING; final values in BATCH --------------------------------------

DATA = [(f"k{i % 5}", (i * 7) % 11, f"n{i}") for i in range(50)]


def final_per_key(results: List[Any]) -> Dict[Any, Any]:
    final: Dict[Any, Any] = {}
    for r in results:
        final[r[0]] = r
    return final


@pytest.mark.parametrize("aggregate", ["sum", "min", "max", "min_by", "max_by"])
def test_streaming_emits_one_output_per_input(aggregate):
    out = rolling(DATA, aggregate, 1, parallelism=3, mode=RuntimeExecutionMode.STREAMING)
    assert len(out) == len(DATA)
    assert {k: len(v) for k, v in per_key(out).items()} == {f"k{i}": 10 for i in range(5)}


def expected_final(aggregate: str) -> Dict[str, tuple]:
    expected = {}
    for key, records in per_key(DATA).items():
        values = [r[1] for r in records]
        first = records[0]
        if aggregate == "sum":
            expected[key] = (key, sum(values), first[2])
        elif aggregate == "min":
            expected[key] = (key, min(values), first[2])
        elif aggregate == "max":
            expected[key] = (key, max(values), first[2])
        elif aggregate == "min_by":
            expected[key] = records[values.index(min(values))]
        else:
            expected[key] = records[values.index(max(values))]
    return expected


@pytest.mark.parametrize("aggregate", ["sum", "min", "max", "min_by", "max_by"])
def test_batch_emits_exactly_one_final_row_per_key(aggregate):
    out = rolling(DATA, aggregate, 1, parallelism=3, mode=RuntimeExecutionMode.BATCH)
    assert len(out) == 5
    assert final_per_key(out) == expected_final(aggregate)
    streaming = rolling(DATA, aggregate, 1, parallelism=3, mode=RuntimeExecutionMode.STREAMING)
    assert final_per_key(streaming) == final_per_key(out)


def test_batch_reduce_emits_one_final_value_per_key():
    env = new_env(2, RuntimeExecutionMode.BATCH)
    out = list(env.from_collection([("a", 1), ("b", 2), ("a", 3), ("a", 4)])
               .key_by(lambda t: t[0]).reduce(lambda x, y: (x[0], x[1] + y[1]))
               .execute_and_collect())
    assert sorted(out) == [("a", 8), ("b", 2)]


@pytest.mark.parametrize("aggregate", ["sum", "max_by"])
def test_automatic_mode_on_bounded_input_behaves_like_batch(aggregate):
    out = rolling(DATA, aggregate, 1, parallelism=2, mode=RuntimeExecutionMode.AUTOMATIC)
    assert len(out) == 5
    assert final_per_key(out) == expected_final(aggregate)


def test_batch_rows_keep_their_names():
    data = rows(("a", 3, "x"), ("b", 1, "y"), ("a", 2, "z"))
    out = rolling(data, "sum", "count", type_info=ROW_TYPE, key=lambda r: r.word,
                  mode=RuntimeExecutionMode.BATCH)
    assert sorted((r.word, r.count, r.note) for r in out) == [("a", 5, "x"), ("b", 1, "y")]


# -- comparable, non-numeric fields ---------------------------------------------------------------

@pytest.mark.parametrize("type_info", [None, Types.TUPLE([Types.STRING(), Types.STRING()])],
                         ids=["pickled", "TUPLE"])
def test_min_and_max_on_a_string_field(type_info):
    data = [("a", "m"), ("a", "z"), ("a", "b")]
    assert rolling(data, "max", 1, type_info=type_info) == [("a", "m"), ("a", "z"), ("a", "z")]
    assert rolling(data, "min", 1, type_info=type_info) == [("a", "m"), ("a", "m"), ("a", "b")]


def test_min_by_and_max_by_on_a_string_field():
    data = [("a", "m", 1), ("a", "z", 2), ("a", "b", 3)]
    assert rolling(data, "max_by", 1) == [("a", "m", 1), ("a", "z", 2), ("a", "z", 2)]
    assert rolling(data, "min_by", 1) == [("a", "m", 1), ("a", "m", 1), ("a", "b", 3)]


def test_row_aggregation_by_name_on_tuples_declared_as_rows():
    data = [("a", 3, "x"), ("a", 1, "y")]
    out = rolling(data, "sum", "count", type_info=ROW_TYPE, key=lambda r: r[0])
    assert [(r.word, r.count, r.note) for r in out] == [("a", 3, "x"), ("a", 4, "x")]
