"""Key hashing and key-group assignment against Java / Flink values.

Expected values were produced with OpenJDK 17 (``String.hashCode``, ``Long.hashCode``,
``Double.hashCode``, ``Arrays.hashCode``, ``BigInteger.hashCode``, ``List``/``Map``
``hashCode``) and a verbatim copy of Flink's ``MathUtils.murmurHash``, Flink's ``Tuple2``
hash fold and ``RowUtils.deepHashCodeRow``.
"""

from __future__ import annotations

import functools
import pickle
from collections import namedtuple
from enum import Enum

import pytest

from flink_py.common.key_groups import (
    DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
    UPPER_BOUND_MAX_PARALLELISM,
    KeyGroupAssigner,
    KeyGroupRange,
    assign_key_to_parallel_operator,
    assign_to_key_group,
    check_parallelism_preconditions,
    compute_default_max_parallelism,
    compute_key_group_for_key_hash,
    compute_key_group_range_for_operator_index,
    compute_operator_index_for_key_group,
    java_boolean_hash_code,
    java_bytes_hash_code,
    java_double_hash_code,
    java_float_hash_code,
    java_hash_code,
    java_int_hash_code,
    java_long_hash_code,
    java_string_hash_code,
    murmur_hash,
    pyflink_key_by_hash_code,
    round_up_to_power_of_two,
)
from flink_py.errors import InvalidProgramError

# ------------------------------------------------------------------------------ Java hashCode


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hello", 99162322),
        ("", 0),
        ("a", 97),
        ("Flink", 67968320),
        ("The quick brown fox jumps over the lazy dog", -609428141),
        ("\u00e9t\u00e9", 227742),
        ("\u4f60\u597d", 652829),
        ("\U0001F600x", 54959989),  # a surrogate pair counts as two UTF-16 units
        ("key-12345", 1154953029),
    ],
)
def test_string_hash_code_equals_java(text: str, expected: int) -> None:
    assert java_string_hash_code(text) == expected
    assert java_hash_code(text) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, 0),
        (1, 1),
        (-1, 0),
        (2147483647, 2147483647),
        (-2147483648, 2147483647),
        (2147483648, -2147483648),
        (-2147483649, -2147483648),
        (4294967296, 1),
        (9223372036854775807, -2147483648),
        (-9223372036854775808, -2147483648),
        (123456789012345, -2045923535),
    ],
)
def test_long_hash_code_equals_java(value: int, expected: int) -> None:
    assert java_long_hash_code(value) == expected


def test_python_int_is_integer_within_int32_and_long_beyond() -> None:
    assert java_hash_code(-1) == -1  # Integer.hashCode(-1); Long.hashCode(-1) would be 0
    assert java_hash_code(-2147483648) == -2147483648
    assert java_hash_code(2147483648) == -2147483648  # Long
    assert java_hash_code(123456789012345) == -2045923535  # Long
    assert java_int_hash_code(42) == 42


@pytest.mark.parametrize(
    "value, expected",
    [(2**64, 961), (-(2**70 + 5), -61509), (2**100 - 1, 445872), (2**63, -2147483648)],
)
def test_ints_beyond_long_hash_as_java_big_integer(value: int, expected: int) -> None:
    assert java_hash_code(value) == expected


def test_int_and_long_hash_reject_values_out_of_range() -> None:
    with pytest.raises(InvalidProgramError, match="2147483648 does not fit a Java int"):
        java_int_hash_code(2**31)
    with pytest.raises(InvalidProgramError, match="does not fit a Java long"):
        java_long_hash_code(2**63)


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.0, 0),
        (-0.0, -2147483648),
        (1.0, 1072693248),
        (-1.5, -1074266112),
        (3.141592653589793, 340593891),
        (1e300, -164130400),
        (float("nan"), 2146959360),
        (float("inf"), 2146435072),
        (0.1, -1507852285),
    ],
)
def test_double_hash_code_equals_java(value: float, expected: int) -> None:
    assert java_double_hash_code(value) == expected
    assert java_hash_code(value) == expected


@pytest.mark.parametrize(
    "value, expected", [(0.0, 0), (1.0, 1065353216), (-1.5, -1077936128), (0.1, 1036831949)]
)
def test_float_hash_code_equals_java(value: float, expected: int) -> None:
    assert java_float_hash_code(value) == expected


def test_boolean_none_and_bytes_hash_codes_equal_java() -> None:
    assert java_boolean_hash_code(True) == java_hash_code(True) == 1231
    assert java_boolean_hash_code(False) == java_hash_code(False) == 1237
    assert java_hash_code(None) == 0
    assert java_bytes_hash_code(b"") == 1
    assert java_bytes_hash_code(bytes([1, 2, 3])) == 30817
    assert java_hash_code(bytes([0xFF, 0x80, 0x7F])) == 24989  # signed bytes
    assert java_hash_code(bytearray([1, 2, 3])) == 30817


def test_tuple_hash_code_is_flink_tuple_fold() -> None:
    assert java_hash_code(("a", 1)) == 3008
    assert java_hash_code((1 << 40, "x")) == 8056
    assert java_hash_code((None, True)) == 1231
    assert java_hash_code(()) == 0  # Tuple0
    assert java_hash_code((5,)) == 5  # Tuple1: just the field's hash


def test_list_and_dict_hash_as_java_collections() -> None:
    assert java_hash_code([1, "a", None]) == 33759
    assert java_hash_code({"a": 1, "b": 2}) == 192


class _RowKind(Enum):
    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3


class _FakeRow(tuple):
    """Stands in for flink_py.common.types.Row: a tuple subclass with a row kind."""

    def __new__(cls, *values: object, kind: _RowKind = _RowKind.INSERT) -> "_FakeRow":
        row = super().__new__(cls, values)
        row._kind = kind  # type: ignore[attr-defined]
        return row

    def get_row_kind(self) -> _RowKind:
        return self._kind  # type: ignore[attr-defined]


def test_row_hash_code_equals_flink_row_utils() -> None:
    assert java_hash_code(_FakeRow("hello")) == 99162384
    assert java_hash_code(_FakeRow(1, "a", None, kind=_RowKind.UPDATE_AFTER)) == 64573
    assert java_hash_code(_FakeRow(bytes([1, 2]), 2.5, kind=_RowKind.DELETE)) == 1074036828
    assert java_hash_code(_FakeRow(None)) == 31


def test_row_hash_code_uses_colleague_row_type_when_available() -> None:
    types = pytest.importorskip("flink_py.common.types")
    row_type = getattr(types, "Row", None)
    if row_type is None:
        pytest.skip("flink_py.common.types.Row not written yet")
    try:
        row = row_type("hello")
    except Exception as e:  # pragma: no cover - depends on the colleague's constructor
        pytest.skip(f"Row('hello') not constructible: {e}")
    assert java_hash_code(row) == 99162384
    of_kind = getattr(row_type, "of_kind", None)
    row_kind = getattr(types, "RowKind", None)
    if of_kind is not None and row_kind is not None:
        assert java_hash_code(of_kind(row_kind.UPDATE_AFTER, 1, "a", None)) == 64573


def test_pyflink_key_by_hash_wraps_key_in_a_row() -> None:
    # PyFlink's KeyByKeySelector hands Flink Row.of(key): 31 * 0 + (31 + (31 + key.hashCode())).
    assert pyflink_key_by_hash_code("hello") == java_hash_code(_FakeRow("hello")) == 99162384
    assert pyflink_key_by_hash_code(None) == 31
    pickled = pickle.dumps("hello", protocol=5)  # cloudpickle.dumps, as PyFlink
    assert pyflink_key_by_hash_code("hello", pickled=True) == 62 + java_bytes_hash_code(pickled)


def test_other_objects_hash_their_pickled_bytes() -> None:
    Point = namedtuple("Point", "x y")
    assert java_hash_code(Point(1, 2)) == java_hash_code((1, 2))  # still a tuple

    key = frozenset({1})
    assert java_hash_code(key) == java_bytes_hash_code(pickle.dumps(key, protocol=5))


def test_hash_codes_are_stable_32_bit_and_not_python_hash() -> None:
    for key in ["x" * 1000, 2**40, -(2**62), 1e-300, (1, (2, ("three", None))), b"\x00" * 50]:
        code = java_hash_code(key)
        assert -(2**31) <= code < 2**31
        assert code == java_hash_code(key)


def test_subclasses_hash_like_their_base_type() -> None:
    class MyStr(str):
        pass

    class MyInt(int):
        pass

    assert java_hash_code(MyStr("hello")) == 99162322
    assert java_hash_code(MyInt(-1)) == -1


# ------------------------------------------------------------------------------ murmur hash


@pytest.mark.parametrize(
    "code, expected",
    [
        (0, 593689054),
        (1, 68075478),
        (-1, 1982413648),
        (42, 1134849565),
        (99162322, 1715862179),
        (2147483647, 1653689534),
        (-2147483648, 1718298732),
        (1231, 1090530765),
        (1237, 1530821891),
        (123456789, 1088346449),
        (-987654321, 1314828554),
    ],
)
def test_murmur_hash_equals_flink_math_utils(code: int, expected: int) -> None:
    assert murmur_hash(code) == expected


def test_murmur_hash_is_non_negative() -> None:
    for code in range(-5000, 5000, 7):
        assert 0 <= murmur_hash(code) < 2**31


# ------------------------------------------------------------------------------ assignment


@pytest.mark.parametrize(
    "key, kg_128, subtask_128_4, kg_32768, subtask_32768_7",
    [
        ("hello", 35, 1, 31395, 6),
        ("world", 66, 2, 23874, 5),
        ("", 94, 2, 31198, 6),
        (0, 94, 2, 31198, 6),
        (1, 86, 2, 16342, 3),
        (42, 29, 0, 28189, 6),
        (-7, 33, 1, 15777, 3),
        (1 << 40, 54, 1, 32054, 6),
        (True, 77, 2, 11725, 2),
        (False, 3, 0, 32003, 6),
        (2.5, 16, 0, 15632, 3),
    ],
)
def test_key_placement_equals_flink(
    key: object, kg_128: int, subtask_128_4: int, kg_32768: int, subtask_32768_7: int
) -> None:
    assert assign_to_key_group(key, 128) == kg_128
    assert assign_key_to_parallel_operator(key, 128, 4) == subtask_128_4
    assert assign_to_key_group(key, 32768) == kg_32768
    assert assign_key_to_parallel_operator(key, 32768, 7) == subtask_32768_7
    assert compute_key_group_for_key_hash(java_hash_code(key), 128) == kg_128


def test_operator_index_for_key_group() -> None:
    assert compute_operator_index_for_key_group(128, 4, 0) == 0
    assert compute_operator_index_for_key_group(128, 4, 31) == 0
    assert compute_operator_index_for_key_group(128, 4, 32) == 1
    assert compute_operator_index_for_key_group(128, 4, 127) == 3
    assert compute_operator_index_for_key_group(10, 3, 9) == 2


@pytest.mark.parametrize(
    "parallelism, expected",
    [(1, 128), (2, 128), (85, 128), (86, 256), (100, 256), (1000, 2048), (22000, 32768),
     (32768, 32768)],
)
def test_default_max_parallelism(parallelism: int, expected: int) -> None:
    assert compute_default_max_parallelism(parallelism) == expected


def test_round_up_to_power_of_two() -> None:
    assert [round_up_to_power_of_two(v) for v in (1, 2, 3, 4, 5, 127, 128, 129)] == [
        1, 2, 4, 4, 8, 128, 128, 256,
    ]


@pytest.mark.parametrize("bad", [0, -1, 32769, 1.5, "4", True, None])
def test_bad_parallelism_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidProgramError, match="parallelism not within bounds"):
        check_parallelism_preconditions(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidProgramError):
        compute_default_max_parallelism(bad)  # type: ignore[arg-type]


def test_constants_are_flinks() -> None:
    assert DEFAULT_LOWER_BOUND_MAX_PARALLELISM == 128
    assert UPPER_BOUND_MAX_PARALLELISM == 32768


# ------------------------------------------------------------------------------ KeyGroupRange


def test_key_group_ranges_of_operators_partition_all_key_groups() -> None:
    for max_parallelism, parallelism in [(128, 1), (128, 3), (128, 128), (10, 3), (32768, 7)]:
        ranges = [KeyGroupRange.of_operator(max_parallelism, parallelism, i)
                  for i in range(parallelism)]
        covered = [kg for r in ranges for kg in r]
        assert covered == list(range(max_parallelism))
        for index, key_group_range in enumerate(ranges):
            for key_group in (key_group_range.start_key_group, key_group_range.end_key_group):
                assert compute_operator_index_for_key_group(
                    max_parallelism, parallelism, key_group) == index


def test_key_group_range_accessors() -> None:
    r = compute_key_group_range_for_operator_index(128, 3, 1)
    assert (r.get_start_key_group(), r.get_end_key_group()) == (43, 85)
    assert len(r) == r.get_number_of_key_groups() == 43
    assert r.contains(43) and r.contains(85) and not r.contains(86)
    assert 50 in r and 42 not in r and "50" not in r
    assert r.get_key_group_id(0) == 43
    assert r == KeyGroupRange(43, 85) and hash(r) == hash(KeyGroupRange(43, 85))
    assert repr(r) == "KeyGroupRange{startKeyGroup=43, endKeyGroup=85}"
    assert r.get_intersection(KeyGroupRange.of(80, 100)) == KeyGroupRange(80, 85)
    assert r.get_intersection(KeyGroupRange.of(90, 100)) == KeyGroupRange.EMPTY
    with pytest.raises(IndexError):
        r.get_key_group_id(43)


def test_empty_key_group_range() -> None:
    empty = KeyGroupRange.of(5, 4)
    assert empty == KeyGroupRange.EMPTY == KeyGroupRange(0, -1)
    assert len(empty) == 0 and list(empty) == [] and 0 not in empty


def test_key_group_range_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidProgramError, match="start must be >= 0"):
        KeyGroupRange(-1, 5)
    with pytest.raises(InvalidProgramError, match="Operator index 3 out of range"):
        KeyGroupRange.of_operator(128, 3, 3)
    with pytest.raises(InvalidProgramError, match="larger than the maximum parallelism"):
        KeyGroupRange.of_operator(4, 8, 0)
    with pytest.raises(InvalidProgramError, match="Maximum parallelism not within bounds"):
        KeyGroupRange.of_operator(0, 1, 0)


# ------------------------------------------------------------------------------ KeyGroupAssigner


def test_assigner_matches_the_functions_for_every_key_type() -> None:
    assigner = KeyGroupAssigner(128, 4)
    keys = ["hello", "", 0, 1, -7, 1 << 40, True, False, 2.5, None, ("a", 1), b"xy", [1, 2]]
    for key in keys:
        expected = assign_key_to_parallel_operator(key, 128, 4)
        assert assigner.subtask_of(key) == expected
        assert assigner.subtask_of(key) == expected  # memoised path
        assert assigner.key_group_of(key) == assign_to_key_group(key, 128)


def test_assigner_keeps_bool_int_and_float_keys_apart() -> None:
    # True == 1 == 1.0 in a Python dict, but their Java hashes differ.
    assigner = KeyGroupAssigner(32768, 7)
    assert assigner.subtask_of(1) == 3
    assert assigner.subtask_of(True) == 2
    assert assigner.subtask_of(1.0) == assign_key_to_parallel_operator(1.0, 32768, 7)
    assert assigner.subtask_of(0) == 6
    assert assigner.subtask_of(False) == 6


def test_assigner_cache_is_bounded() -> None:
    assigner = KeyGroupAssigner(128, 4, cache_size=10)
    for i in range(25):
        assert assigner.subtask_of(f"key-{i}") == assign_key_to_parallel_operator(f"key-{i}", 128, 4)
        assert len(assigner._str_cache) <= 10
    uncached = KeyGroupAssigner(128, 4, cache_size=0)
    assert uncached.subtask_of("hello") == 1 and not uncached._str_cache


def test_assigner_with_pyflink_hash_functions() -> None:
    typed = KeyGroupAssigner(128, 4, hash_function=pyflink_key_by_hash_code)
    untyped = KeyGroupAssigner(
        128, 4, hash_function=functools.partial(pyflink_key_by_hash_code, pickled=True)
    )
    for key in ["hello", 42, ("a", 1)]:
        assert typed.subtask_of(key) == compute_operator_index_for_key_group(
            128, 4, murmur_hash(pyflink_key_by_hash_code(key)) % 128)
        assert untyped.subtask_of(key) == compute_operator_index_for_key_group(
            128, 4, murmur_hash(pyflink_key_by_hash_code(key, pickled=True)) % 128)


def test_assigner_key_group_ranges() -> None:
    assigner = KeyGroupAssigner(128, 3)
    assert assigner.key_group_range_of(1) == KeyGroupRange(43, 85)
    for key in ["a", "b", "c", 1, 2, 3]:
        assert assigner.key_group_of(key) in assigner.key_group_range_of(assigner.subtask_of(key))


@pytest.mark.parametrize(
    "max_parallelism, parallelism, message",
    [
        (128, 0, "Operator parallelism not within bounds: 0"),
        (128, 129, "larger than the maximum parallelism 128"),
        (0, 1, "Maximum parallelism not within bounds: 0"),
        (40000, 1, "Maximum parallelism not within bounds: 40000"),
    ],
)
def test_assigner_rejects_bad_parallelism(max_parallelism: int, parallelism: int, message: str) -> None:
    with pytest.raises(InvalidProgramError, match=message):
        KeyGroupAssigner(max_parallelism, parallelism)
