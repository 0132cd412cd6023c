"""Between DataStreams and Tables: the types of one as the other's (``from_data_stream``,
``to_data_stream``, ``to_changelog_stream``), as PyFlink maps them.

A stream's RowTypeInfo gives named, nullable columns; a TupleTypeInfo columns ``f0``, ``f1``,
... of which the primitive ones (numbers, booleans) are NOT NULL, as PyFlink 2.3 prints them.
A table's rows go back to a stream as ``Row`` objects of a ``Types.ROW_NAMED`` stream, so
that ``print()`` shows them as Flink does (``+I[2,x]``).
"""

from __future__ import annotations

from typing import Any, List, Tuple

from flink_py.common.typeinfo import (BasicTypeInfo, RowTypeInfo, TupleTypeInfo,
                                      TypeInformation, Types)
from flink_py.table import types as t
from flink_py.table.errors import ValidationException

_BASIC = {
    "Integer": (t.IntType, True), "Long": (t.BigIntType, True), "Short": (t.SmallIntType, True),
    "Byte": (t.TinyIntType, True), "Float": (t.FloatType, True),
    "Double": (t.DoubleType, True), "Boolean": (t.BooleanType, True),
    "String": (t.VarCharType, False),
}


def _data_type(info: TypeInformation, in_tuple: bool) -> t.DataType:
    if isinstance(info, BasicTypeInfo):
        entry = _BASIC.get(repr(info))
        if entry is not None:
            factory, primitive = entry
            return factory(nullable=not (in_tuple and primitive))  # type: ignore[call-arg]
        if repr(info) == "BigDecimal":
            return t.DecimalType(38, 18)
        if repr(info) == "Instant":
            return t.LocalZonedTimestampType(9)
    if isinstance(info, RowTypeInfo):
        return t.RowType([t.RowField(n, _data_type(f, False)) for n, f in
                          zip(info.get_field_names(), info.get_field_types())])
    raise ValidationException(
        f"a DataStream of {info!r} cannot become a table yet: give the stream a "
        f"Types.ROW_NAMED or Types.TUPLE of basic types (output_type=...)")


def schema_of_stream(info: TypeInformation) -> Tuple[List[str], List[t.DataType]]:
    """Column names and types of a table made from a stream of ``info``."""
    if isinstance(info, RowTypeInfo):
        return (list(info.get_field_names()),
                [_data_type(f, False) for f in info.get_field_types()])
    if isinstance(info, TupleTypeInfo):
        fields = info.get_field_types()
        return [f"f{i}" for i in range(len(fields))], [_data_type(f, True) for f in fields]
    if isinstance(info, BasicTypeInfo):
        return ["f0"], [_data_type(info, False)]
    raise ValidationException(
        f"a DataStream of {info!r} cannot become a table: give the stream a "
        f"Types.ROW_NAMED or Types.TUPLE type (output_type=... / type_info=...)")


def type_info_of(data_type: t.DataType) -> TypeInformation:
    """The TypeInformation of a column of ``data_type`` in a stream."""
    simple = {t.IntType: Types.INT, t.BigIntType: Types.LONG, t.SmallIntType: Types.SHORT,
              t.TinyIntType: Types.BYTE, t.FloatType: Types.FLOAT, t.DoubleType: Types.DOUBLE,
              t.BooleanType: Types.BOOLEAN, t.VarCharType: Types.STRING,
              t.CharType: Types.STRING, t.DecimalType: Types.BIG_DEC, t.DateType: Types.SQL_DATE,
              t.TimestampType: Types.SQL_TIMESTAMP}.get(type(data_type))
    if simple is not None:
        return simple()
    return Types.PICKLED_BYTE_ARRAY()


def row_type_info(names: List[str], data_types: List[t.DataType]) -> TypeInformation:
    return Types.ROW_NAMED(list(names), [type_info_of(dt) for dt in data_types])


def to_values(record: Any) -> tuple:
    """A stream record as the tuple of a table row."""
    if isinstance(record, tuple):
        return record
    values = getattr(record, "_values", None)
    if values is not None:
        return tuple(values)
    return (record,)
