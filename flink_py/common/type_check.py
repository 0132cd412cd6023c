"""Whether a value matches its declared type, for the places that convert typed records.

PyFlink writes a typed record with its type's serializer wherever the record leaves a Python
chain; most values of the wrong kind fail there (``TypeError: an integer is required``,
``Expected tuple, got list``), but some pass silently changed: a 3-tuple declared as a
2-field TUPLE loses its third field, a float declared as INT is truncated, and a Java source
(``from_collection``) turns an int declared as STRING into its text. flink_py checks every typed record once, where it
already converts it (:mod:`flink_py.common.narrowing`), and fails for each of these, naming
the value, the declared type and what differs (:class:`~flink_py.errors.DeclaredTypeError`).

What passes is what PyFlink's serializers take without losing anything: a bool as an
integer (it comes back 1 or 0), 1 or 0 as a BOOLEAN, an int as a FLOAT or DOUBLE (it comes
back a float; not in a typed source, whose Java converter fails for it), None where the
type's serializer writes a null: a STRING, BIG_DEC, date, time or INSTANT anywhere, any
value in a ROW field, a LIST or BASIC_ARRAY element or a MAP value. A None INT, DOUBLE, ...
elsewhere fails in Java in PyFlink ("Cannot invoke "java.lang.Integer.intValue()" because
"record" is null"), and here where it is made.

>>> from flink_py.common.typeinfo import Types
>>> type_expression(Types.TUPLE([Types.INT(), Types.ROW_NAMED(["a"], [Types.STRING()])]))
"Types.TUPLE([Types.INT(), Types.ROW_NAMED(['a'], [Types.STRING()])])"
>>> basic_check(Types.INT())("a")
Traceback (most recent call last):
...
flink_py.errors.DeclaredTypeError: value 'a' does not match declared type Types.INT(): \
a str, expected an int
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Callable, Dict, Optional, Tuple

from flink_py.common import typeinfo as t
from flink_py.common.time import Instant
from flink_py.errors import DeclaredTypeError

__all__ = ["type_expression", "mismatch", "in_context", "basic_check", "DeclaredTypeError"]

Converter = Callable[[Any], Any]


def type_expression(type_info: Any) -> str:
    """The ``Types.…`` call that makes ``type_info``, as a program writes it."""
    if isinstance(type_info, t.ExternalTypeInfo):
        return type_expression(type_info._type_info)
    if isinstance(type_info, t.BasicTypeInfo):
        return f"Types.{type_info._basic_type.name}()"
    if isinstance(type_info, t.RowTypeInfo):
        fields = ", ".join(type_expression(f) for f in type_info.get_field_types())
        if type_info._field_names:
            return f"Types.ROW_NAMED({list(type_info.get_field_names())!r}, [{fields}])"
        return f"Types.ROW([{fields}])"
    if isinstance(type_info, t.TupleTypeInfo):
        fields = ", ".join(type_expression(f) for f in type_info.get_field_types())
        return f"Types.TUPLE([{fields}])"
    if isinstance(type_info, t.MapTypeInfo):
        return (f"Types.MAP({type_expression(type_info._key_type_info)}, "
                f"{type_expression(type_info._value_type_info)})")
    if isinstance(type_info, t.ListTypeInfo):
        return f"Types.LIST({type_expression(type_info.elem_type)})"
    for kind, name in ((t.PrimitiveArrayTypeInfo, "PRIMITIVE_ARRAY"),
                       (t.BasicArrayTypeInfo, "BASIC_ARRAY"),
                       (t.ObjectArrayTypeInfo, "OBJECT_ARRAY")):
        if isinstance(type_info, kind):
            return f"Types.{name}({type_expression(type_info._element_type)})"
    for kind, name in ((t.DateTypeInfo, "SQL_DATE"), (t.TimeTypeInfo, "SQL_TIME"),
                       (t.TimestampTypeInfo, "SQL_TIMESTAMP"),
                       (t.PickledBytesTypeInfo, "PICKLED_BYTE_ARRAY")):
        if isinstance(type_info, kind):
            return f"Types.{name}()"
    return repr(type_info)


def mismatch(value: Any, type_info: Any, reason: str) -> DeclaredTypeError:
    """The error for ``value`` that does not match ``type_info`` because of ``reason``."""
    error = DeclaredTypeError(
        f"value {value!r} does not match declared type {type_expression(type_info)}: "
        f"{reason}")
    error.value = value  # type: ignore[attr-defined]
    return error


def in_context(type_info: Any, convert: Converter) -> Converter:
    """``convert`` of a record holding fields or elements, whose error for one of them names
    the whole record and its type too."""
    def within(value: Any) -> Any:
        try:
            return convert(value)
        except DeclaredTypeError as exc:
            if getattr(exc, "value", None) is value:
                raise
            raise mismatch(value, type_info, f"in it, {exc}") from None
    if getattr(convert, "checks_only", False):
        within.checks_only = True  # type: ignore[attr-defined]
    return within


def _a(kind: type) -> str:
    if kind is type(None):
        return "None"
    name = kind.__name__
    return ("an " if name[0] in "aeiou" else "a ") + name


def _kind_check(type_info: Any, kinds: Tuple[type, ...], expected: str,
                exclude: Tuple[type, ...] = (), nullable: bool = True) -> Converter:
    def check(value: Any) -> Any:
        if (value is None and not nullable) or (value is not None and (
                not isinstance(value, kinds) or isinstance(value, exclude))):
            raise mismatch(value, type_info, f"{_a(type(value))}, expected {expected}")
        return value
    check.checks_only = True  # type: ignore[attr-defined]
    return check


def _to_float(type_info: Any, nullable: bool) -> Converter:
    """An int comes back from a DOUBLE's serializer as a float."""
    def check(value: Any) -> Any:
        if type(value) is float or (value is None and nullable):
            return value
        if isinstance(value, (int, float)):
            return float(value)
        raise mismatch(value, type_info, f"{_a(type(value))}, expected a float or an int")
    return check


def _to_int(type_info: Any, nullable: bool) -> Converter:
    """A bool comes back from an integer type's serializer as an int (``True`` as 1)."""
    def check(value: Any) -> Any:
        if type(value) is int or (value is None and nullable):
            return value
        if isinstance(value, int):
            return int(value)
        raise mismatch(value, type_info, f"{_a(type(value))}, expected an int")
    return check


def _to_bool(type_info: Any, nullable: bool) -> Converter:
    """PyFlink writes a BOOLEAN as a byte: an int 1 or 0 comes back True or False."""
    def check(value: Any) -> Any:
        if type(value) is bool or (value is None and nullable):
            return value
        if type(value) is int and value in (0, 1):
            return bool(value)
        raise mismatch(value, type_info, f"{_a(type(value))}, expected a bool")
    return check


def _to_decimal(type_info: Any) -> Converter:
    """PyFlink writes a BIG_DEC as ``str(value)``: an int or a float comes back a Decimal."""
    def check(value: Any) -> Any:
        if value is None or type(value) is Decimal:
            return value
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return Decimal(str(value))
        raise mismatch(value, type_info, f"{_a(type(value))}, expected a Decimal")
    return check


_INTEGER_TYPES = (t.BasicType.BYTE, t.BasicType.SHORT, t.BasicType.INT, t.BasicType.LONG,
                  t.BasicType.BIG_INT)


def basic_check(type_info: Any, nullable: bool = True) -> Optional[Converter]:
    """The check of a basic, date or time type (None for a type that takes any value); it
    returns the value as the type's serializer gives it back, or raises
    :class:`~flink_py.errors.DeclaredTypeError`. Integer ranges and FLOAT's 32 bits are
    :mod:`flink_py.common.narrowing`'s.

    :param nullable: whether None passes for a primitive type (BYTE, SHORT, INT, LONG,
        FLOAT, DOUBLE, BOOLEAN, CHAR): where the value is a ROW field, a LIST element or a
        MAP value; elsewhere Java's serializers of these types fail for a null."""
    if isinstance(type_info, t.BasicTypeInfo):
        basic = type_info._basic_type
        if basic is t.BasicType.BIG_INT:
            return _to_int(type_info, True)
        if basic in _INTEGER_TYPES:
            return _to_int(type_info, nullable)
        if basic is t.BasicType.DOUBLE:
            return _to_float(type_info, nullable)
        if basic is t.BasicType.FLOAT:
            return _kind_check(type_info, (int, float), "a float or an int",
                               nullable=nullable)
        if basic is t.BasicType.STRING:
            return _kind_check(type_info, (str,), "a str")
        if basic is t.BasicType.CHAR:
            return _kind_check(type_info, (str,), "a str", nullable=nullable)
        if basic is t.BasicType.BOOLEAN:
            return _to_bool(type_info, nullable)
        if basic is t.BasicType.BIG_DEC:
            return _to_decimal(type_info)
        if basic is t.BasicType.INSTANT:
            return _kind_check(type_info, (Instant,), "an Instant")
        return None
    kinds: Dict[type, Tuple[Tuple[type, ...], str, Tuple[type, ...]]] = {
        t.DateTypeInfo: ((datetime.date,), "a datetime.date", ()),
        t.TimeTypeInfo: ((datetime.time,), "a datetime.time", ()),
        t.TimestampTypeInfo: ((datetime.datetime,), "a datetime.datetime", ()),
    }
    for kind, (accepted, expected, exclude) in kinds.items():
        if isinstance(type_info, kind):
            return _kind_check(type_info, accepted, expected, exclude)
    return None
