"""The hash a PyFlink key_by routes with, by key_type, equals Flink 2.3's on a JVM.

Every expected value below was printed by Flink 2.3.0's own classes (flink-dist-2.3.0.jar,
Java 17): ``Row.of(javaValue).hashCode()`` of the one-field Row PyFlink's KeyByKeySelector
hands to Flink, ``KeyGroupRangeAssignment.assignToKeyGroup(row, 128)`` and
``assignKeyToParallelOperator(row, 128, 4)``. The pickled rows hold the bytes
``cloudpickle.dumps(key)`` gave in PyFlink's own environment.
"""

from __future__ import annotations

import pickle

import pytest

from flink_py.common.key_groups import KeyGroupAssigner, pyflink_key_by_hash_code
from flink_py.common.key_hash import (
    KeyByKeyHash, pickled_key_bytes, typed_java_hash_code)
from flink_py.common.typeinfo import Types
from flink_py.common.types import Row, RowKind

T = Types

# (key_type, key, Row.of(key).hashCode(), key group of 128, subtask of 4) from the JVM
JVM_CASES = [
    (T.INT(), -6, 56, 68, 2),
    (T.LONG(), -6, 67, 17, 0),
    (T.LONG(), -30_000_000_000, -64771017, 0, 0),
    (T.SHORT(), -6, 56, 68, 2),
    (T.BYTE(), -6, 56, 68, 2),
    (T.STRING(), "hello", 99162384, 40, 1),
    (T.STRING(), "\u65e5\u672c", 835109, 85, 2),
    (T.DOUBLE(), -4.5, -1072562114, 26, 0),
    (T.FLOAT(), 0.1, 1036832011, 44, 1),
    (T.BOOLEAN(), True, 1293, 67, 2),
    (T.CHAR(), "x", 182, 45, 1),
    (T.BIG_INT(), 2 ** 70, 61566, 20, 0),
    (T.TUPLE([T.INT(), T.STRING()]), (1, "a"), 190, 107, 3),
    (T.TUPLE([T.STRING(), T.TUPLE([T.INT(), T.DOUBLE()])]), ("a", (1, 0.5)),
     1071647772, 89, 2),
    (T.ROW([T.INT(), T.STRING()]), Row(1, "a"), 2143, 107, 3),
    (T.ROW_NAMED(["id", "name"], [T.INT(), T.STRING()]), Row(id=1, name="a"), 2143, 107, 3),
    (T.ROW([T.INT(), T.STRING()]), Row(1, None), 2015, 34, 1),
    (T.LIST(T.INT()), [1, 2], 2017, 60, 1),
    (T.MAP(T.STRING(), T.INT()), {"a": 1, "b": 2}, 352, 101, 3),
    (T.BASIC_ARRAY(T.INT()), [1, 2], 2017, 60, 1),
    (T.PRIMITIVE_ARRAY(T.INT()), [1, 2], 1056, 29, 0),
    (T.PRIMITIVE_ARRAY(T.LONG()), [1, -2], 1055, 65, 2),
    (T.ROW([T.LIST(T.INT())]), Row([1, 2]), 2079, 127, 3),
    (None, "hello", -177558165, 82, 2),
    (None, 7, -89360182, 14, 0),
    (None, (1, "a"), -747330470, 6, 0),
    (None, Row(1, "a"), -1428316038, 34, 1),
    (None, 2.5, -391186618, 65, 2),
    (T.PICKLED_BYTE_ARRAY(), "hello", -177558165, 82, 2),
]


@pytest.mark.parametrize("key_type,key,row_hash,key_group,subtask", JVM_CASES,
                         ids=[f"{c[0]!r}-{c[1]!r}" for c in JVM_CASES])
def test_key_by_hash_and_placement_equal_flink_on_the_jvm(key_type, key, row_hash, key_group,
                                                          subtask) -> None:
    key_hash = KeyByKeyHash(key_type)
    assert key_hash(key) == row_hash
    assigner = KeyGroupAssigner(128, 4, hash_function=key_hash)
    assert assigner.key_group_of(key) == key_group
    assert assigner.subtask_of(key) == subtask


def test_typed_java_hash_codes_equal_java_hash_code() -> None:
    # Long.hashCode(-6) = 5, Integer.hashCode(-6) = -6, Float.hashCode(0.1f) = 1036831949,
    # Double.hashCode(0.1) = -1507852285, Tuple2.of(1, "a").hashCode() = 128,
    # Row.of(1, "a").hashCode() = 2081 (all printed by the JVM)
    assert typed_java_hash_code(-6, T.INT()) == -6
    assert typed_java_hash_code(-6, T.LONG()) == 5
    assert typed_java_hash_code(0.1, T.FLOAT()) == 1036831949
    assert typed_java_hash_code(0.1, T.DOUBLE()) == -1507852285
    assert typed_java_hash_code((1, "a"), T.TUPLE([T.INT(), T.STRING()])) == 128
    assert typed_java_hash_code(Row(1, "a"), T.ROW([T.INT(), T.STRING()])) == 2081
    assert typed_java_hash_code(None, T.STRING()) == 0


def test_a_row_kind_enters_a_typed_row_key_hash() -> None:
    insert = typed_java_hash_code(Row(1, "a"), T.ROW([T.INT(), T.STRING()]))
    row = Row(1, "a")
    row.set_row_kind(RowKind.DELETE)
    assert typed_java_hash_code(row, T.ROW([T.INT(), T.STRING()])) == insert + 31 * 3


def test_pickled_keys_are_the_bytes_pyflink_pickles() -> None:
    # cloudpickle.dumps(Row(1, 'a')) in PyFlink 2.3's environment, byte for byte
    pyflink_row = (b"\x80\x05\x95I\x00\x00\x00\x00\x00\x00\x00\x8c\x14pyflink.common.types\x94"
                   b"\x8c\x0b_create_row\x94\x93\x94NK\x01\x8c\x01a\x94\x86\x94h\x00\x8c\x07"
                   b"RowKind\x94\x93\x94K\x00\x85\x94R\x94\x87\x94R\x94.")
    assert pickled_key_bytes(Row(1, "a")) == pyflink_row
    assert pickle.loads(pickled_key_bytes("hello")) == "hello"
    assert pickled_key_bytes("hello") == pickle.dumps("hello", protocol=5)


def test_pickled_key_hash_is_the_untyped_pyflink_key_by_hash() -> None:
    for key in ["hello", 7, (1, "a"), Row(1, "a"), 2.5, None, frozenset({1})]:
        assert KeyByKeyHash(None)(key) == pyflink_key_by_hash_code(key, pickled=True)


def test_key_by_key_hash_pickles_and_compares_by_key_type() -> None:
    typed = KeyByKeyHash(T.LONG())
    restored = pickle.loads(pickle.dumps(typed))
    assert restored == typed and restored(-6) == 67
    assert KeyByKeyHash(None) == KeyByKeyHash(T.PICKLED_BYTE_ARRAY())
    assert KeyByKeyHash(T.INT()) != KeyByKeyHash(T.LONG())
    with pytest.raises(TypeError, match="key_type must be a TypeInformation"):
        KeyByKeyHash("INT")  # type: ignore[arg-type]
