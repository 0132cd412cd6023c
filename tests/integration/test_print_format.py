"""``print()``: what a PyFlink job writes to stdout, line for line.

* parallelism 1: the record alone; above 1: ``"<subtask index + 1>> record"``;
* ``print("id")``: ``"id> record"`` at parallelism 1, ``"id:<subtask index + 1>> record"``
  above;
* the record text is Java's ``toString()`` of the Java value the record becomes (``(a,1)``
  for a tuple, ``1.0E7`` for a double, ``true`` for a boolean, ``[1, 2]`` for a list,
  ``{a=1}`` for a map), except where PyFlink converts to text in Python before printing
  (``DataStream._align_output_type``): pickled records are printed as ``str(value)`` and
  top-level rows as ``"<kind>[" + ",".join(str(field)) + "]"``.
"""

from __future__ import annotations

from typing import Any, List

import pytest

from flink_py.common import Row, RowKind, Types
from flink_py.common.key_groups import KeyGroupAssigner, pyflink_key_by_hash_code
from flink_py.datastream import StreamExecutionEnvironment


def new_env(parallelism: int = 1) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    return env


def subtask_of_key(key: Any, parallelism: int, key_type: Any = None) -> int:
    """The subtask a PyFlink job routes ``key`` to (max parallelism 128).

    PyFlink's key_by hands Flink a one-field Row holding the key's Java value when
    ``key_type`` is given, else the pickled key; its hash picks the key group.
    """
    def hash_code(k: Any) -> int:
        return pyflink_key_by_hash_code(k, pickled=key_type is None)

    return KeyGroupAssigner(128, parallelism, hash_code).subtask_of(key)


def printed(capfd: Any, env: StreamExecutionEnvironment) -> List[str]:
    """Runs the job and returns the lines it printed to stdout."""
    capfd.readouterr()  # drop anything printed before the job
    env.execute()
    return capfd.readouterr().out.splitlines()


def print_values(capfd: Any, values: List[Any], type_info: Any = None) -> List[str]:
    """Prints ``values`` produced by a map with ``output_type=type_info`` at parallelism 1."""
    env = new_env()
    env.from_collection(values).map(lambda v: v, output_type=type_info).print()
    return printed(capfd, env)


# -- prefixes ---------------------------------------------------------------------------------

def test_parallelism_1_prints_the_record_alone(capfd):
    env = new_env(1)
    env.from_collection(["a", "b", "c"], type_info=Types.STRING()).print()
    assert printed(capfd, env) == ["a", "b", "c"]


def test_print_with_identifier_at_parallelism_1(capfd):
    env = new_env(1)
    env.from_collection(["a", "b"], type_info=Types.STRING()).print("out")
    assert printed(capfd, env) == ["out> a", "out> b"]


def test_parallelism_2_prefixes_the_subtask_number(capfd):
    env = new_env(2)
    env.from_collection(list(range(10)), type_info=Types.INT()).rebalance() \
        .map(lambda x: x, output_type=Types.INT()).print()
    lines = printed(capfd, env)
    assert len(lines) == 10
    prefixes = {line.split("> ")[0] for line in lines}
    assert prefixes == {"1", "2"}
    assert sorted(int(line.split("> ")[1]) for line in lines) == list(range(10))


@pytest.mark.parametrize("identifier,key_type", [
    (None, None), ("counts", None), (None, Types.STRING()), ("counts", Types.STRING())])
def test_keyed_print_puts_each_record_on_the_subtask_of_its_key_group(
        capfd, identifier, key_type):
    keys = [f"key{i}" for i in range(20)]
    env = new_env(2)
    ds = env.from_collection([(k, i) for i, k in enumerate(keys)],
                             type_info=Types.TUPLE([Types.STRING(), Types.INT()]))
    ds.key_by(lambda t: t[0], key_type=key_type).print(identifier)
    lines = printed(capfd, env)
    expected = []
    for i, key in enumerate(keys):
        subtask = subtask_of_key(key, 2, key_type) + 1
        # PyFlink's KeyedStream.print ignores its sink identifier (recorded in
        # tests/fixtures/pyflink/keyed_stream_partitioning.txt)
        prefix = f"{subtask}> "
        expected.append(f"{prefix}({key},{i})")
    assert sorted(lines) == sorted(expected)
    # Both subtasks print something, so the prefixes are really per subtask.
    assert len({line.split("> ")[0] for line in lines}) == 2


def test_print_of_a_keyed_aggregation_at_parallelism_2(capfd):
    env = new_env(2)
    data = [("a", 1), ("b", 1), ("a", 1)]
    env.from_collection(data, type_info=Types.TUPLE([Types.STRING(), Types.INT()])) \
        .key_by(lambda t: t[0]).sum(1).print("sum")
    lines = printed(capfd, env)
    sub_a = subtask_of_key("a", 2) + 1
    sub_b = subtask_of_key("b", 2) + 1
    assert sorted(lines) == sorted([f"sum:{sub_a}> (a,1)", f"sum:{sub_a}> (a,2)",
                                    f"sum:{sub_b}> (b,1)"])
    assert [line for line in lines if "(a," in line] == \
        [f"sum:{sub_a}> (a,1)", f"sum:{sub_a}> (a,2)"]


def test_print_returns_a_sink_whose_parallelism_can_be_set(capfd):
    env = new_env(4)
    env.from_collection(["x", "y"], type_info=Types.STRING()).print().set_parallelism(1)
    assert printed(capfd, env) == ["x", "y"]


# -- the record text, per type ----------------------------------------------------------------

@pytest.mark.parametrize("type_info,value,text", [
    (Types.STRING(), "hello world", "hello world"),
    (Types.INT(), 42, "42"),
    (Types.INT(), -7, "-7"),
    (Types.LONG(), 2 ** 40, "1099511627776"),
    (Types.DOUBLE(), 1e7, "1.0E7"),
    (Types.DOUBLE(), 1.5, "1.5"),
    (Types.DOUBLE(), 3.0, "3.0"),
    (Types.DOUBLE(), 0.0001, "1.0E-4"),
    (Types.DOUBLE(), 123456789.5, "1.234567895E8"),
    (Types.FLOAT(), 0.1, "0.1"),
    (Types.BOOLEAN(), True, "true"),
    (Types.BOOLEAN(), False, "false"),
    (Types.TUPLE([Types.STRING(), Types.INT()]), ("a", 1), "(a,1)"),
    (Types.TUPLE([Types.STRING(), Types.DOUBLE()]), ("a", 1e7), "(a,1.0E7)"),
    (Types.TUPLE([Types.STRING(), Types.TUPLE([Types.BOOLEAN(), Types.INT()])]),
     ("a", (True, 2)), "(a,(true,2))"),
    (Types.ROW([Types.STRING(), Types.INT()]), Row("a", 1), "+I[a,1]"),
    (Types.ROW_NAMED(["name", "count"], [Types.STRING(), Types.INT()]),
     Row(name="a", count=1), "+I[a,1]"),
    # Top-level rows are turned into text in Python: str() of each field.
    (Types.ROW([Types.STRING(), Types.DOUBLE(), Types.BOOLEAN()]), Row("a", 1e7, True),
     "+I[a,10000000.0,True]"),
    (Types.LIST(Types.INT()), [1, 2, 3], "[1, 2, 3]"),
    (Types.MAP(Types.STRING(), Types.INT()), {"a": 1}, "{a=1}"),
    # Pickled records are printed as str(value).
    (None, ("a", 1), "('a', 1)"),
    (None, "plain", "plain"),
    (None, {"k": [1, 2]}, "{'k': [1, 2]}"),
    (None, 1e7, "10000000.0"),
    (None, True, "True"),
], ids=lambda v: repr(v)[:40])
def test_record_text_per_type(capfd, type_info, value, text):
    assert print_values(capfd, [value], type_info) == [text]


def test_row_kinds_are_printed(capfd):
    updated = Row("a", 2)
    updated.set_row_kind(RowKind.UPDATE_AFTER)
    retracted = Row("a", 1)
    retracted.set_row_kind(RowKind.UPDATE_BEFORE)
    deleted = Row("a", 2)
    deleted.set_row_kind(RowKind.DELETE)
    lines = print_values(capfd, [Row("a", 1), retracted, updated, deleted],
                         Types.ROW([Types.STRING(), Types.INT()]))
    assert lines == ["+I[a,1]", "-U[a,1]", "+U[a,2]", "-D[a,2]"]


def test_source_types_print_like_their_type(capfd):
    env = new_env()
    env.from_collection([1.0, 2.5e-5], type_info=Types.DOUBLE()).print()
    env.from_collection([("x", True)], type_info=Types.TUPLE([Types.STRING(),
                                                             Types.BOOLEAN()])).print("t")
    lines = printed(capfd, env)
    assert sorted(lines) == sorted(["1.0", "2.5E-5", "t> (x,true)"])


def test_pickled_tuples_from_a_word_count(capfd):
    env = new_env()
    (env.from_collection(["a b", "a"])
     .flat_map(lambda line: [(w, 1) for w in line.split()])
     .key_by(lambda t: t[0]).sum(1).print())
    assert printed(capfd, env) == ["('a', 1)", "('b', 1)", "('a', 2)"]
