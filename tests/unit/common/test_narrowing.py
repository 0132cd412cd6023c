"""What declared types do to values in PyFlink's serializer round trips (common/narrowing.py).

The expected values are PyFlink 2.3's (tests/fixtures/pyflink/ has the programs that show
them end to end)."""

from __future__ import annotations

import math

import pytest

from flink_py.common import Row, RowKind, Types
from flink_py.common.narrowing import (
    batch_converter, boundary_converter, collect_converter, convert_collection,
    source_converter)
from flink_py.common.serializer import serializer_for
from flink_py.errors import DeclaredTypeError, InvalidProgramError


@pytest.mark.parametrize("type_info", [None, Types.PICKLED_BYTE_ARRAY()], ids=repr)
def test_types_that_take_any_value_have_no_converter(type_info):
    assert boundary_converter(type_info) is None
    assert batch_converter(type_info) is None
    assert source_converter(type_info) is None


@pytest.mark.parametrize("type_info,value", [
    (Types.STRING(), "a"), (Types.DOUBLE(), 0.1), (Types.BOOLEAN(), True),
    (Types.TUPLE([Types.STRING(), Types.DOUBLE()]), ("a", 0.1)),
    (Types.LIST(Types.STRING()), ["a", None]), (Types.PRIMITIVE_ARRAY(Types.BYTE()), b"\x01"),
    (Types.MAP(Types.STRING(), Types.DOUBLE()), {"a": 0.1})], ids=repr)
def test_values_that_do_not_change_pass_their_types_check_as_they_are(type_info, value):
    # typed values are checked where they would be serialized (type_check.py): a value of
    # the right kind comes through as the same object
    assert boundary_converter(type_info)(value) is value
    assert batch_converter(type_info)([value])[0] is value


@pytest.mark.parametrize("type_info,value", [
    (Types.FLOAT(), 110.1),
    (Types.TUPLE([Types.STRING(), Types.FLOAT()]), ("Alice", 110.1)),
    (Types.LIST(Types.FLOAT()), [110.1, 0.1, None]),
    (Types.MAP(Types.STRING(), Types.FLOAT()), {"a": 0.1}),
    (Types.TUPLE([Types.INT(), Types.TUPLE([Types.FLOAT(), Types.LONG()])]), (1, (0.1, 2))),
    (Types.BASIC_ARRAY(Types.FLOAT()), [1.1, 2.2]),
], ids=repr)
def test_a_boundary_gives_what_the_types_serializer_reads_back(type_info, value):
    serializer = serializer_for(type_info)
    assert boundary_converter(type_info)(value) == serializer.from_bytes(
        serializer.to_bytes(value))
    assert batch_converter(type_info)([value, value]) == [
        boundary_converter(type_info)(value)] * 2


def test_float_follows_cs_cast_at_the_edges_of_its_range():
    narrow = batch_converter(Types.FLOAT())
    assert narrow([1e300, -1e300, 1e-50, 3]) == [math.inf, -math.inf, 0.0, 3.0]
    # None is a null in a list; a FLOAT record of None fails (in Java, in PyFlink)
    assert batch_converter(Types.LIST(Types.FLOAT()))([[110.1, None]]) == [
        [110.0999984741211, None]]
    with pytest.raises(DeclaredTypeError, match="value None does not match declared type "
                                                r"Types.FLOAT\(\): None, expected a float"):
        narrow([110.1, None])
    assert math.isnan(narrow([math.nan])[0])


@pytest.mark.parametrize("type_info,low,high,ctype", [
    (Types.BYTE(), -128, 127, "int8_t"),
    (Types.SHORT(), -2 ** 15, 2 ** 15 - 1, "int16_t"),
    (Types.INT(), -2 ** 31, 2 ** 31 - 1, "int32_t"),
], ids=["BYTE", "SHORT", "INT"])
def test_integers_out_of_range_fail_with_pyflinks_overflow_error(type_info, low, high, ctype):
    check = batch_converter(type_info)
    assert check([low, 0, high]) == [low, 0, high]
    for bad in (low - 1, high + 1):
        with pytest.raises(OverflowError, match=f"value too large to convert to {ctype}: "
                                                f"{bad} declared as"):
            check([0, bad])


def test_long_out_of_range_fails_with_pyflinks_message():
    check = boundary_converter(Types.TUPLE([Types.STRING(), Types.LONG()]))
    assert check(("a", 2 ** 63 - 1)) == ("a", 2 ** 63 - 1)
    with pytest.raises(OverflowError, match="Python int too large to convert to C long"):
        check(("a", 2 ** 63))


def test_rows_come_back_named_by_their_type_with_their_kind():
    convert = boundary_converter(Types.ROW([Types.STRING(), Types.INT()]))
    deleted = Row.of_kind(RowKind.DELETE, "a", 1)
    out = convert(deleted)
    assert repr(out) == "Row(f0='a', f1=1)"
    assert out.get_row_kind() is RowKind.DELETE
    named = boundary_converter(Types.ROW_NAMED(["name", "score"], [Types.STRING(),
                                                                   Types.FLOAT()]))
    assert named(Row("Alice", 110.1)) == Row(name="Alice", score=110.0999984741211)
    with pytest.raises(DeclaredTypeError, match="1 fields, expected 2"):
        named(Row("Alice"))
    with pytest.raises(DeclaredTypeError, match="a tuple, expected a Row"):
        named(("Alice", 110.1))  # PyFlink's row coder reads a Row's fields by name


def test_a_typed_source_narrows_integers_as_java_casts_a_long():
    assert convert_collection([2 ** 40, -(2 ** 31) - 1], Types.INT()) == [0, 2 ** 31 - 1]
    assert convert_collection([70000], Types.SHORT()) == [4464]
    assert convert_collection([200], Types.BYTE()) == [-56]
    assert convert_collection([("a", 2 ** 40, 110.1)], Types.TUPLE(
        [Types.STRING(), Types.INT(), Types.FLOAT()])) == [("a", 0, 110.0999984741211)]
    with pytest.raises(InvalidProgramError, match="does not fit a Java long"):
        convert_collection([2 ** 63], Types.LONG())


def test_a_range_that_fits_its_type_stays_a_range():
    items = range(10 ** 6)
    assert convert_collection(items, Types.LONG()) is items
    assert convert_collection(range(2 ** 31 - 2, 2 ** 31 + 1), Types.INT()) == [
        2 ** 31 - 2, 2 ** 31 - 1, -2 ** 31]


def test_collect_reads_a_float_back_from_javas_text():
    convert = collect_converter(Types.TUPLE([Types.STRING(), Types.FLOAT()]))
    assert convert(("Alice", 110.0999984741211)) == ("Alice", 110.1)
    assert collect_converter(Types.FLOAT())(1e10) == 1e10
    assert collect_converter(Types.DOUBLE()) is None
