"""Declared types checked where typed records are converted (common/type_check.py, with
narrowing.py): what passes, what comes back changed, what fails and how it is named.

The end-to-end cases, next to what real PyFlink 2.3 does with each, are in
tests/integration/test_type_enforcement.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from flink_py.common import Row, Types
from flink_py.common.narrowing import (
    batch_converter, boundary_converter, check_source_type, collect_converter)
from flink_py.common.time import Instant
from flink_py.common.type_check import type_expression
from flink_py.errors import DeclaredTypeError, InvalidProgramError

T2 = Types.TUPLE([Types.INT(), Types.STRING()])


@pytest.mark.parametrize("type_info,value,back", [
    (Types.INT(), True, 1), (Types.LONG(), False, 0), (Types.DOUBLE(), 3, 3.0),
    (Types.FLOAT(), 3, 3.0), (Types.BOOLEAN(), 1, True), (Types.BIG_DEC(), 1.5, Decimal("1.5")),
    (Types.STRING(), None, None), (Types.SQL_DATE(), datetime.date(2020, 1, 2),
                                   datetime.date(2020, 1, 2)),
    (Types.SQL_TIMESTAMP(), datetime.datetime(2020, 1, 2, 3, 4, 5, 678901),
     datetime.datetime(2020, 1, 2, 3, 4, 5, 678000)),
    (Types.INSTANT(), Instant(1, 2), Instant(1, 2)),
    (Types.ROW([Types.INT(), Types.DOUBLE()]), Row(None, 2), Row(f0=None, f1=2.0)),
    (Types.LIST(Types.INT()), [1, None], [1, None]),
    (Types.MAP(Types.STRING(), Types.DOUBLE()), {"a": None, "b": 1}, {"a": None, "b": 1.0}),
    (Types.PRIMITIVE_ARRAY(Types.BYTE()), b"\x01", b"\x01"),
], ids=repr)
def test_values_pyflinks_serializers_take_come_back_as_they_give_them(type_info, value, back):
    assert boundary_converter(type_info)(value) == back
    assert batch_converter(type_info)([value]) == [back]
    assert type(batch_converter(type_info)([value])[0]) is type(back)
    # repr too: 2 == 2.0, so equality alone misses a field that was not converted
    assert repr(boundary_converter(type_info)(value)) == repr(back)
    assert repr(batch_converter(type_info)([value])[0]) == repr(back)


@pytest.mark.parametrize("type_info,value,reason", [
    (T2, (1, "a", "b"), "3 fields, expected 2"),
    (T2, (1,), "1 fields, expected 2"),
    (T2, [1, "a"], "a list, expected a tuple"),
    (T2, ("a", "a"), "value 'a' does not match declared type Types.INT(): a str, expected an int"),
    (Types.INT(), 1.5, "a float, expected an int"),
    (Types.INT(), None, "None, expected an int"),
    (Types.DOUBLE(), "a", "a str, expected a float or an int"),
    (Types.STRING(), b"x", "a bytes, expected a str"),
    (Types.BOOLEAN(), 2, "an int, expected a bool"),
    (Types.ROW([Types.INT()]), Row(1, 2), "2 fields, expected 1"),
    (Types.ROW([Types.INT()]), 5, "an int, expected a Row"),
    (Types.LIST(Types.INT()), (1, 2), "a tuple, expected a list"),
    (Types.PRIMITIVE_ARRAY(Types.INT()), [1, None], "None, expected an int"),
    (Types.MAP(Types.STRING(), Types.INT()), {1: 1}, "an int, expected a str"),
    (Types.MAP(Types.STRING(), Types.INT()), [1], "a list, expected a dict"),
    (Types.SQL_DATE(), "2020-01-01", "a str, expected a datetime.date"),
    (Types.PRIMITIVE_ARRAY(Types.BYTE()), "ab", "a str, expected bytes"),
], ids=repr)
def test_a_value_of_the_wrong_kind_or_shape_fails_naming_value_and_type(type_info, value,
                                                                        reason):
    with pytest.raises(DeclaredTypeError) as failure:
        batch_converter(type_info)([value])
    assert reason in str(failure.value)
    with pytest.raises(DeclaredTypeError):
        boundary_converter(type_info)(value)


def test_a_buffer_that_passes_its_columns_check_is_the_same_buffer():
    values = [(i, "a") for i in range(100)]
    assert batch_converter(T2)(values) is values
    mixed = values + [(True, "b")]  # the per-record path: the bool comes back an int
    assert batch_converter(T2)(mixed)[-1] == (1, "b")
    assert type(batch_converter(T2)(mixed)[-1][0]) is int


def test_types_are_named_as_a_program_declares_them():
    assert type_expression(Types.MAP(Types.STRING(), Types.LIST(Types.SQL_DATE()))) == \
        "Types.MAP(Types.STRING(), Types.LIST(Types.SQL_DATE()))"
    assert type_expression(Types.PRIMITIVE_ARRAY(Types.BYTE())) == \
        "Types.PRIMITIVE_ARRAY(Types.BYTE())"
    assert type_expression(Types.ROW_NAMED(["a"], [Types.BASIC_ARRAY(Types.INT())])) == \
        "Types.ROW_NAMED(['a'], [Types.BASIC_ARRAY(Types.INT())])"


@pytest.mark.parametrize("type_info", [
    Types.LIST(Types.STRING()), Types.PICKLED_BYTE_ARRAY(), Types.PRIMITIVE_ARRAY(Types.BYTE()),
    Types.CHAR(), Types.ROW([Types.CHAR()])], ids=repr)
def test_from_collection_rejects_the_types_pyflink_cannot_hand_to_java(type_info):
    with pytest.raises(InvalidProgramError, match="PyFlink cannot make a collection source"):
        check_source_type(type_info)


def test_from_collection_accepts_the_others():
    for type_info in (None, Types.STRING(), Types.TUPLE([Types.LIST(Types.STRING())]),
                      Types.BASIC_ARRAY(Types.INT()), Types.MAP(Types.STRING(), Types.INT())):
        check_source_type(type_info)


def test_collect_gives_times_in_whole_seconds_and_bytes_as_a_list_of_ints():
    # what PyFlink's execute_and_collect makes of the Java objects (tests/fixtures/pyflink/
    # typed_values.txt shows both)
    assert collect_converter(Types.SQL_TIME())(datetime.time(3, 4, 5, 678000)) == \
        datetime.time(3, 4, 5)
    assert collect_converter(Types.PRIMITIVE_ARRAY(Types.BYTE()))(b"\x01\x02\xff") == \
        [1, 2, -1]
