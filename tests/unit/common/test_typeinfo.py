"""Tests of TypeInformation and Types against PyFlink (pyflink/common/typeinfo.py, 2.x) and of
the display text against Java's toString() outputs."""

import datetime
import doctest
import pickle
from decimal import Decimal
from types import SimpleNamespace

import pytest

import flink_py.common.typeinfo as typeinfo_module
from flink_py.common.typeinfo import (
    BasicArrayTypeInfo, BasicType, BasicTypeInfo, DateTypeInfo, ExternalTypeInfo,
    InstantTypeInfo, ListTypeInfo, LocalTimeTypeInfo, MapTypeInfo, ObjectArrayTypeInfo,
    PickledBytesTypeInfo, PrimitiveArrayTypeInfo, RowTypeInfo, SqlTimeTypeInfo,
    TimestampTypeInfo, TimeTypeInfo, TupleTypeInfo, TypeInformation, Types)
from flink_py.common.types import Row, RowKind
from flink_py.errors import InvalidFieldReferenceError, InvalidProgramError

# PyFlink's public Types methods, kept as a to-do list: ours must cover them.
PYFLINK_TYPES_METHODS = [
    "STRING", "BYTE", "BOOLEAN", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "CHAR", "BIG_INT",
    "BIG_DEC", "INSTANT", "SQL_DATE", "SQL_TIME", "SQL_TIMESTAMP", "PICKLED_BYTE_ARRAY", "ROW",
    "ROW_NAMED", "TUPLE", "PRIMITIVE_ARRAY", "BASIC_ARRAY", "OBJECT_ARRAY", "MAP", "LIST",
]
PYFLINK_BASIC_TYPE_INFO_METHODS = [
    "STRING_TYPE_INFO", "BOOLEAN_TYPE_INFO", "BYTE_TYPE_INFO", "SHORT_TYPE_INFO",
    "INT_TYPE_INFO", "LONG_TYPE_INFO", "FLOAT_TYPE_INFO", "DOUBLE_TYPE_INFO", "CHAR_TYPE_INFO",
    "BIG_INT_TYPE_INFO", "BIG_DEC_TYPE_INFO", "INSTANT_TYPE_INFO",
]


def test_covers_pyflink_public_names():
    for name in PYFLINK_TYPES_METHODS:
        assert callable(getattr(Types, name)), name
    for name in PYFLINK_BASIC_TYPE_INFO_METHODS:
        assert callable(getattr(BasicTypeInfo, name)), name
    for name in ["DATE", "TIME", "TIMESTAMP"]:
        assert callable(getattr(SqlTimeTypeInfo, name)), name
    for name in ["get_field_names", "get_field_index", "get_field_types"]:
        assert hasattr(RowTypeInfo, name), name
    assert hasattr(TupleTypeInfo, "get_field_types")
    assert typeinfo_module.__all__ == ["TypeInformation", "Types"]


def test_docstring_examples():
    result = doctest.testmod(typeinfo_module)
    assert result.failed == 0 and result.attempted > 0


# ---------------------------------------------------------------------------------------------
# Types constructors and repr
# ---------------------------------------------------------------------------------------------

BASIC = [
    (Types.STRING, BasicType.STRING, "String"),
    (Types.BYTE, BasicType.BYTE, "Byte"),
    (Types.BOOLEAN, BasicType.BOOLEAN, "Boolean"),
    (Types.SHORT, BasicType.SHORT, "Short"),
    (Types.INT, BasicType.INT, "Integer"),
    (Types.LONG, BasicType.LONG, "Long"),
    (Types.FLOAT, BasicType.FLOAT, "Float"),
    (Types.DOUBLE, BasicType.DOUBLE, "Double"),
    (Types.CHAR, BasicType.CHAR, "Char"),
    (Types.BIG_INT, BasicType.BIG_INT, "BigInteger"),
    (Types.BIG_DEC, BasicType.BIG_DEC, "BigDecimal"),
    (Types.INSTANT, BasicType.INSTANT, "Instant"),
]


@pytest.mark.parametrize("factory, basic_type, text", BASIC)
def test_basic_types(factory, basic_type, text):
    type_info = factory()
    assert isinstance(type_info, BasicTypeInfo)
    assert isinstance(type_info, TypeInformation)
    assert type_info == BasicTypeInfo(basic_type)
    assert hash(type_info) == hash(BasicTypeInfo(basic_type))
    assert repr(type_info) == text and str(type_info) == text
    assert type_info.get_arity() == 1


def test_basic_type_info_static_constructors_match_types():
    assert BasicTypeInfo.STRING_TYPE_INFO() == Types.STRING()
    assert BasicTypeInfo.INT_TYPE_INFO() == Types.INT()
    assert BasicTypeInfo.BIG_DEC_TYPE_INFO() == Types.BIG_DEC()
    assert isinstance(BasicTypeInfo.INSTANT_TYPE_INFO(), InstantTypeInfo)
    assert Types.INSTANT() == InstantTypeInfo()


def test_basic_types_differ_from_each_other():
    infos = [factory() for factory, _, _ in BASIC]
    assert len(set(infos)) == len(infos)
    for i, a in enumerate(infos):
        for b in infos[i + 1:]:
            assert a != b


@pytest.mark.parametrize("factory, cls, text", [
    (Types.SQL_DATE, DateTypeInfo, "DateTypeInfo"),
    (Types.SQL_TIME, TimeTypeInfo, "TimeTypeInfo"),
    (Types.SQL_TIMESTAMP, TimestampTypeInfo, "TimestampTypeInfo"),
    (Types.PICKLED_BYTE_ARRAY, PickledBytesTypeInfo, "PickledByteArrayTypeInfo"),
])
def test_singleton_like_types(factory, cls, text):
    assert isinstance(factory(), cls)
    assert factory() == cls()
    assert hash(factory()) == hash(cls())
    assert repr(factory()) == text


def test_sql_time_type_info_static_constructors():
    assert SqlTimeTypeInfo.DATE() == Types.SQL_DATE()
    assert SqlTimeTypeInfo.TIME() == Types.SQL_TIME()
    assert SqlTimeTypeInfo.TIMESTAMP() == Types.SQL_TIMESTAMP()
    assert Types.SQL_DATE() != Types.SQL_TIME()


def test_local_time_type_info():
    local_date = LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE)
    assert local_date == LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE)
    assert local_date != LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME)
    assert local_date != Types.SQL_DATE()
    assert repr(local_date) == "LocalTimeTypeInfo<LOCAL_DATE>"
    assert repr(LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE_TIME)) == \
        "LocalTimeTypeInfo<LOCAL_DATE_TIME>"
    with pytest.raises(InvalidProgramError):
        LocalTimeTypeInfo("LOCAL_DATE")


def test_row_types():
    row = Types.ROW([Types.STRING(), Types.INT()])
    assert isinstance(row, RowTypeInfo)
    assert repr(row) == "RowTypeInfo(String, Integer)"
    assert row.get_field_names() == ["f0", "f1"]
    assert row.get_field_types() == [Types.STRING(), Types.INT()]
    assert row.get_arity() == 2
    assert row.get_field_index("f1") == 1
    assert row.get_field_index("missing") == -1

    named = Types.ROW_NAMED(["name", "age"], [Types.STRING(), Types.INT()])
    assert repr(named) == "RowTypeInfo(name: String, age: Integer)"
    assert named.get_field_names() == ["name", "age"]
    assert named.get_field_index("age") == 1
    assert named.get_field_index("f0") == -1
    assert named == RowTypeInfo([Types.STRING(), Types.INT()], ["name", "age"])
    assert hash(named) == hash(RowTypeInfo([Types.STRING(), Types.INT()], ["name", "age"]))


def test_row_type_equality_includes_names_as_java_does():
    types = [Types.STRING(), Types.INT()]
    assert Types.ROW(types) == Types.ROW_NAMED(["f0", "f1"], types)
    assert Types.ROW_NAMED(["a", "b"], types) != Types.ROW_NAMED(["b", "a"], types)
    assert Types.ROW(types) != Types.ROW([Types.INT(), Types.STRING()])
    assert Types.ROW(types) != Types.TUPLE(types)


def test_row_type_getters_return_copies():
    row = Types.ROW_NAMED(["a"], [Types.INT()])
    row.get_field_names().append("b")
    row.get_field_types().append(Types.INT())
    assert row.get_arity() == 1 and row.get_field_names() == ["a"]


@pytest.mark.parametrize("names, types, message", [
    (["a"], [Types.INT(), Types.INT()], "1 field names"),
    (["a", "a"], [Types.INT(), Types.INT()], "unique"),
    (["a", 1], [Types.INT(), Types.INT()], "must be str"),
    ("ab", [Types.INT(), Types.INT()], "list of field names"),
])
def test_row_named_validation(names, types, message):
    with pytest.raises(InvalidProgramError, match=message):
        Types.ROW_NAMED(names, types)


def test_row_and_tuple_reject_non_type_fields():
    with pytest.raises(InvalidProgramError, match="field 1 of RowTypeInfo"):
        Types.ROW([Types.INT(), int])
    with pytest.raises(InvalidProgramError, match="field 0 of TupleTypeInfo"):
        Types.TUPLE(["STRING"])
    with pytest.raises(InvalidProgramError, match="list of field types"):
        Types.TUPLE(Types.INT())


def test_tuple_types():
    t = Types.TUPLE([Types.STRING(), Types.INT()])
    assert isinstance(t, TupleTypeInfo)
    assert repr(t) == "TupleTypeInfo(String, Integer)"
    assert t.get_field_types() == [Types.STRING(), Types.INT()]
    assert t.get_arity() == 2
    assert t == Types.TUPLE([Types.STRING(), Types.INT()])
    assert hash(t) == hash(Types.TUPLE([Types.STRING(), Types.INT()]))
    assert t != Types.TUPLE([Types.INT(), Types.STRING()])
    assert repr(Types.TUPLE([])) == "TupleTypeInfo()"


def test_array_types():
    primitive = Types.PRIMITIVE_ARRAY(Types.INT())
    assert isinstance(primitive, PrimitiveArrayTypeInfo)
    assert repr(primitive) == "PrimitiveArrayTypeInfo<Integer>"
    basic = Types.BASIC_ARRAY(Types.STRING())
    assert isinstance(basic, BasicArrayTypeInfo)
    assert repr(basic) == "BasicArrayTypeInfo<String>"
    obj = Types.OBJECT_ARRAY(Types.ROW([Types.INT()]))
    assert isinstance(obj, ObjectArrayTypeInfo)
    assert repr(obj) == "ObjectArrayTypeInfo<RowTypeInfo(Integer)>"

    assert primitive == Types.PRIMITIVE_ARRAY(Types.INT())
    assert primitive != Types.PRIMITIVE_ARRAY(Types.LONG())
    assert primitive != Types.BASIC_ARRAY(Types.INT())
    assert Types.BASIC_ARRAY(Types.INT()) != Types.OBJECT_ARRAY(Types.INT())
    assert hash(obj) == hash(Types.OBJECT_ARRAY(Types.ROW([Types.INT()])))


def test_array_element_types_are_checked():
    with pytest.raises(InvalidProgramError, match="primitive array"):
        Types.PRIMITIVE_ARRAY(Types.STRING())
    with pytest.raises(InvalidProgramError, match="basic array"):
        Types.BASIC_ARRAY(Types.BIG_DEC())
    with pytest.raises(InvalidProgramError, match="object array"):
        Types.OBJECT_ARRAY(str)


def test_list_and_map_types():
    list_type = Types.LIST(Types.LONG())
    assert isinstance(list_type, ListTypeInfo)
    assert list_type.elem_type == Types.LONG()
    assert repr(list_type) == "ListTypeInfo<Long>"
    assert list_type == Types.LIST(Types.LONG())
    assert list_type != Types.LIST(Types.INT())

    map_type = Types.MAP(Types.STRING(), Types.LIST(Types.INT()))
    assert isinstance(map_type, MapTypeInfo)
    assert repr(map_type) == "MapTypeInfo<String, ListTypeInfo<Integer>>"
    assert map_type == Types.MAP(Types.STRING(), Types.LIST(Types.INT()))
    assert map_type != Types.MAP(Types.INT(), Types.LIST(Types.INT()))
    assert (map_type == list_type) is False
    assert hash(map_type) == hash(Types.MAP(Types.STRING(), Types.LIST(Types.INT())))
    with pytest.raises(InvalidProgramError):
        Types.MAP(Types.STRING(), None)
    with pytest.raises(InvalidProgramError):
        Types.LIST("INT")


def test_external_type_info():
    external = ExternalTypeInfo(Types.ROW([Types.INT()]))
    assert repr(external) == "ExternalTypeInfo<RowTypeInfo(Integer)>"
    assert external == ExternalTypeInfo(Types.ROW([Types.INT()]))
    assert external != Types.ROW([Types.INT()])
    assert external.field_type(0) == Types.INT()


def test_nested_repr():
    nested = Types.ROW_NAMED(
        ["id", "tags", "point"],
        [Types.LONG(), Types.LIST(Types.STRING()), Types.TUPLE([Types.DOUBLE(), Types.DOUBLE()])])
    assert repr(nested) == ("RowTypeInfo(id: Long, tags: ListTypeInfo<String>, "
                            "point: TupleTypeInfo(Double, Double))")


def test_type_infos_are_usable_as_dict_keys_and_pickle():
    types = [
        Types.ROW_NAMED(["a", "b"], [Types.STRING(), Types.MAP(Types.INT(), Types.DOUBLE())]),
        Types.TUPLE([Types.PICKLED_BYTE_ARRAY(), Types.OBJECT_ARRAY(Types.SQL_DATE())]),
        LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME),
        Types.INSTANT(),
    ]
    table = {t: i for i, t in enumerate(types)}
    for i, t in enumerate(types):
        restored = pickle.loads(pickle.dumps(t))
        assert restored == t
        assert hash(restored) == hash(t)
        assert table[restored] == i


def test_equality_with_other_objects_is_false():
    assert Types.INT() != "Integer"
    assert Types.ROW([Types.INT()]) != [Types.INT()]
    assert Types.PICKLED_BYTE_ARRAY() != Types.STRING()


# ---------------------------------------------------------------------------------------------
# is_numeric, field_type, field_index
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("type_info, numeric", [
    (Types.BYTE(), True), (Types.SHORT(), True), (Types.INT(), True), (Types.LONG(), True),
    (Types.FLOAT(), True), (Types.DOUBLE(), True), (Types.BIG_INT(), True),
    (Types.BIG_DEC(), True), (Types.STRING(), False), (Types.BOOLEAN(), False),
    (Types.CHAR(), False), (Types.INSTANT(), False), (Types.SQL_DATE(), False),
    (Types.PICKLED_BYTE_ARRAY(), False), (Types.LIST(Types.INT()), False),
    (Types.ROW([Types.INT()]), False), (Types.TUPLE([Types.INT()]), False),
])
def test_is_numeric(type_info, numeric):
    assert type_info.is_numeric() is numeric


def test_field_type_of_tuple():
    t = Types.TUPLE([Types.STRING(), Types.INT()])
    assert t.field_type(0) == Types.STRING()
    assert t.field_type(1) == Types.INT()
    assert t.field_type("f1") == Types.INT()
    assert t.field_index("f0") == 0


def test_field_type_of_row():
    row = Types.ROW_NAMED(["name", "age"], [Types.STRING(), Types.INT()])
    assert row.field_type("name") == Types.STRING()
    assert row.field_type(1) == Types.INT()
    assert row.field_index("age") == 1
    assert Types.ROW([Types.STRING()]).field_type("f0") == Types.STRING()


def test_field_out_of_range_names_the_field_and_the_type():
    t = Types.TUPLE([Types.STRING(), Types.INT()])
    with pytest.raises(InvalidFieldReferenceError) as error:
        t.field_type(5)
    assert str(error.value) == \
        "field 5 out of range for TupleTypeInfo(String, Integer) of arity 2"
    with pytest.raises(InvalidFieldReferenceError, match="field -1 out of range"):
        t.field_type(-1)
    with pytest.raises(InvalidFieldReferenceError, match="field 'f2' not found"):
        t.field_type("f2")


def test_unknown_row_field_names_the_field_and_the_fields():
    row = Types.ROW_NAMED(["name", "age"], [Types.STRING(), Types.INT()])
    with pytest.raises(InvalidFieldReferenceError) as error:
        row.field_type("height")
    assert str(error.value) == ("field 'height' not found in RowTypeInfo(name: String, "
                                "age: Integer); its fields are ['name', 'age']")
    with pytest.raises(InvalidFieldReferenceError, match="field 2 out of range"):
        row.field_type(2)
    with pytest.raises(InvalidFieldReferenceError, match="'f0' not found"):
        row.field_type("f0")


def test_field_reference_must_be_int_or_str():
    t = Types.TUPLE([Types.INT()])
    for bad in [1.0, None, True, ("f0",)]:
        with pytest.raises(InvalidFieldReferenceError, match="int position or a str name"):
            t.field_type(bad)
    with pytest.raises(InvalidFieldReferenceError):
        Types.PICKLED_BYTE_ARRAY().field_type(1.5)


def test_atomic_types_have_only_field_zero():
    assert Types.INT().field_type(0) == Types.INT()
    assert Types.LIST(Types.INT()).field_type(0) == Types.LIST(Types.INT())
    assert Types.STRING().field_index(0) == 0
    with pytest.raises(InvalidFieldReferenceError) as error:
        Types.STRING().field_type(1)
    assert "field 1" in str(error.value) and "String" in str(error.value)
    with pytest.raises(InvalidFieldReferenceError, match="'f0'"):
        Types.INT().field_type("f0")


def test_pickled_fields_are_unknown_until_run_time():
    pickled = Types.PICKLED_BYTE_ARRAY()
    assert pickled.field_type(7) == Types.PICKLED_BYTE_ARRAY()
    assert pickled.field_type("anything") == Types.PICKLED_BYTE_ARRAY()
    assert pickled.field_index(3) == 3


def test_invalid_field_reference_is_an_invalid_program_error():
    with pytest.raises(InvalidProgramError):
        Types.TUPLE([Types.INT()]).field_type(1)


# ---------------------------------------------------------------------------------------------
# Display text (print sink)
# ---------------------------------------------------------------------------------------------

# Java's Double.toString outputs.
@pytest.mark.parametrize("value, text", [
    (1.0, "1.0"), (0.1, "0.1"), (100.0, "100.0"), (0.001, "0.001"), (1e7, "1.0E7"),
    (1e-4, "1.0E-4"), (123456789.0, "1.23456789E8"), (9999999.0, "9999999.0"),
    (12345678.9, "1.23456789E7"), (-1.5, "-1.5"), (-1e7, "-1.0E7"), (0.0, "0.0"),
    (-0.0, "-0.0"), (float("nan"), "NaN"), (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"), (1.7976931348623157e308, "1.7976931348623157E308"),
    (5e-324, "4.9E-324"), (2.2250738585072014e-308, "2.2250738585072014E-308"),
    (0.00012345, "1.2345E-4"), (1e21, "1.0E21"), (3.141592653589793, "3.141592653589793"),
    (1, "1.0"), (None, "null"),
])
def test_double_display_as_java(value, text):
    assert Types.DOUBLE().to_display_string(value) == text


# Java's Float.toString outputs.
@pytest.mark.parametrize("value, text", [
    (0.1, "0.1"), (1 / 3, "0.33333334"), (1.0, "1.0"), (100.0, "100.0"), (1e7, "1.0E7"),
    (1e-4, "1.0E-4"), (0.001, "0.001"), (1.1, "1.1"), (123456.789, "123456.79"),
    (16777217.0, "1.6777216E7"), (3.4028234663852886e38, "3.4028235E38"),
    (1.401298464324817e-45, "1.4E-45"), (1e39, "Infinity"), (-1e39, "-Infinity"),
    (float("nan"), "NaN"), (-0.0, "-0.0"), (2, "2.0"), (None, "null"),
])
def test_float_display_as_java(value, text):
    assert Types.FLOAT().to_display_string(value) == text


@pytest.mark.parametrize("type_info, value, text", [
    (Types.STRING(), "hello", "hello"),
    (Types.STRING(), "", ""),
    (Types.STRING(), None, "null"),
    (Types.CHAR(), "x", "x"),
    (Types.BOOLEAN(), True, "true"),
    (Types.BOOLEAN(), False, "false"),
    (Types.BOOLEAN(), None, "null"),
    (Types.BYTE(), -3, "-3"),
    (Types.SHORT(), 300, "300"),
    (Types.INT(), 42, "42"),
    (Types.INT(), None, "null"),
    (Types.LONG(), 2 ** 62, str(2 ** 62)),
    (Types.BIG_INT(), 10 ** 30, "1" + "0" * 30),
    (Types.BIG_DEC(), Decimal("1.50"), "1.50"),
    (Types.BIG_DEC(), Decimal("1E+3"), "1E+3"),
    (Types.BIG_DEC(), Decimal("0.0000001"), "1E-7"),
    (Types.BIG_DEC(), None, "null"),
])
def test_basic_display(type_info, value, text):
    assert type_info.to_display_string(value) == text


@pytest.mark.parametrize("type_info, value, text", [
    (Types.SQL_DATE(), datetime.date(2020, 1, 2), "2020-01-02"),
    (Types.SQL_TIME(), datetime.time(9, 5, 7, 123000), "09:05:07"),
    (Types.SQL_TIMESTAMP(), datetime.datetime(2020, 1, 1, 10, 0), "2020-01-01 10:00:00.0"),
    (Types.SQL_TIMESTAMP(), datetime.datetime(2020, 1, 1, 10, 0, 5, 123000),
     "2020-01-01 10:00:05.123"),
    (Types.SQL_TIMESTAMP(), datetime.datetime(2020, 1, 1, 10, 0, 5, 1),
     "2020-01-01 10:00:05.000001"),
    (Types.SQL_TIMESTAMP(), None, "null"),
    (LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE), datetime.date(2020, 1, 2),
     "2020-01-02"),
    (LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME), datetime.time(10, 0), "10:00"),
    (LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME), datetime.time(10, 0, 1),
     "10:00:01"),
    (LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME),
     datetime.time(10, 0, 0, 120000), "10:00:00.120"),
    (LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_TIME),
     datetime.time(10, 0, 0, 123456), "10:00:00.123456"),
    (LocalTimeTypeInfo(LocalTimeTypeInfo.TimeType.LOCAL_DATE_TIME),
     datetime.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02T03:04:05"),
    (Types.INSTANT(), SimpleNamespace(seconds=1577872800, nanos=0), "2020-01-01T10:00:00Z"),
    (Types.INSTANT(), SimpleNamespace(seconds=0, nanos=5_000_000), "1970-01-01T00:00:00.005Z"),
    (Types.INSTANT(), 1577872800123, "2020-01-01T10:00:00.123Z"),
    (Types.INSTANT(), datetime.datetime(2020, 1, 1, 12, 0, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2))), "2020-01-01T10:00:00Z"),
])
def test_time_display_as_java(type_info, value, text):
    assert type_info.to_display_string(value) == text


def test_pickled_display_is_python_str():
    pickled = Types.PICKLED_BYTE_ARRAY()
    assert pickled.to_display_string("text") == "text"
    assert pickled.to_display_string(1.0) == "1.0"
    assert pickled.to_display_string(10000000.0) == "10000000.0"
    assert pickled.to_display_string(("a", 1)) == "('a', 1)"
    assert pickled.to_display_string([1, "b"]) == "[1, 'b']"
    assert pickled.to_display_string(None) == "None"
    assert pickled.to_display_string(True) == "True"
    assert pickled.to_display_string(Row(name="Alice", age=3)) == "Row(name='Alice', age=3)"
    assert pickled.to_display_string(Row(1, "a")) == "<Row(1, 'a')>"


def test_string_and_pickled_formatters_return_the_value_itself():
    value = "a record"
    assert Types.PICKLED_BYTE_ARRAY().display_formatter()(value) is value
    assert Types.STRING().display_formatter()(value) is value


def test_tuple_display_as_java_tuple():
    t = Types.TUPLE([Types.STRING(), Types.INT()])
    assert t.to_display_string(("a", 1)) == "(a,1)"
    assert t.to_display_string(["a", 1]) == "(a,1)"
    assert t.to_display_string(("a", None)) == "(a,null)"
    assert t.to_display_string(None) == "null"
    nested = Types.TUPLE([Types.TUPLE([Types.STRING(), Types.DOUBLE()]), Types.BOOLEAN(),
                          Types.LIST(Types.FLOAT())])
    assert nested.to_display_string((("x", 1e7), True, [0.1, 1 / 3])) == \
        "((x,1.0E7),true,[0.1, 0.33333334])"


def test_row_display_as_pyflink_print():
    # PyFlink's print() turns a row into '<kind>[' + ','.join(str(field)) + ']' in Python.
    row_type = Types.ROW_NAMED(["name", "score"], [Types.STRING(), Types.DOUBLE()])
    assert row_type.to_display_string(Row(name="a", score=1.0)) == "+I[a,1.0]"
    assert row_type.to_display_string(Row("a", 1e7)) == "+I[a,10000000.0]"
    assert row_type.to_display_string(Row("a", None)) == "+I[a,None]"
    deleted = Row("a", 2.5)
    deleted.set_row_kind(RowKind.DELETE)
    assert row_type.to_display_string(deleted) == "-D[a,2.5]"
    assert row_type.to_display_string(("a", 1.5)) == "+I[a,1.5]"
    for kind, text in [(RowKind.UPDATE_BEFORE, "-U[x,1]"), (RowKind.UPDATE_AFTER, "+U[x,1]")]:
        assert Types.ROW([Types.STRING(), Types.INT()]).to_display_string(
            Row.of_kind(kind, "x", 1)) == text


def test_row_nested_in_a_tuple_displays_as_java_row():
    t = Types.TUPLE([Types.ROW([Types.STRING(), Types.INT()]), Types.INT()])
    assert t.to_display_string((Row("a", 1), 2)) == "(+I[a, 1],2)"
    assert t.to_display_string((Row.of_kind(RowKind.DELETE, "a", None), 2)) == \
        "(-D[a, null],2)"


@pytest.mark.parametrize("type_info, value, text", [
    (Types.LIST(Types.INT()), [1, 2, 3], "[1, 2, 3]"),
    (Types.LIST(Types.STRING()), [], "[]"),
    (Types.LIST(Types.STRING()), ["a", None], "[a, null]"),
    (Types.LIST(Types.DOUBLE()), [1.0, 1e-4], "[1.0, 1.0E-4]"),
    (Types.BASIC_ARRAY(Types.INT()), [1, None, 3], "[1, null, 3]"),
    (Types.PRIMITIVE_ARRAY(Types.INT()), [1, 2, 3], "[1, 2, 3]"),
    (Types.PRIMITIVE_ARRAY(Types.BOOLEAN()), [True, False], "[true, false]"),
    (Types.PRIMITIVE_ARRAY(Types.BYTE()), b"\x01\xff", "[1, -1]"),
    (Types.PRIMITIVE_ARRAY(Types.CHAR()), ["a", "b"], "[a, b]"),
    (Types.OBJECT_ARRAY(Types.TUPLE([Types.INT(), Types.INT()])), [(1, 2), (3, 4)],
     "[(1,2), (3,4)]"),
    (Types.MAP(Types.STRING(), Types.INT()), {"b": 2, "a": 1}, "{b=2, a=1}"),
    (Types.MAP(Types.STRING(), Types.LIST(Types.INT())), {"k": [1]}, "{k=[1]}"),
    (Types.MAP(Types.STRING(), Types.INT()), {}, "{}"),
    (Types.MAP(Types.STRING(), Types.INT()), None, "null"),
    (Types.LIST(Types.INT()), None, "null"),
])
def test_collection_display_as_java(type_info, value, text):
    assert type_info.to_display_string(value) == text


def test_display_formatter_is_reusable():
    format_tuple = Types.TUPLE([Types.STRING(), Types.LONG()]).display_formatter()
    assert [format_tuple((w, n)) for w, n in [("a", 1), ("b", 2)]] == ["(a,1)", "(b,2)"]
