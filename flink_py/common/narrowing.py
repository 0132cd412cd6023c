"""What a declared type does to values where PyFlink serializes them.

PyFlink moves a record between two operators as Python objects only while both run in the
same Python chain; everywhere else (Python to Java, Java to Python, the network between two
Python operators, a Java source) it writes the record with the serializer of its declared
type and reads it back. The round trip changes some values, and these functions apply the
same change without the bytes:

* ``Types.FLOAT()``: the value becomes the nearest 32-bit float (C's cast: too large gives
  ``inf``, too small ``0.0``), so ``110.1`` comes back as ``110.0999984741211``;
* ``Types.INT()``, ``SHORT()``, ``BYTE()``, ``LONG()``: a value out of range fails the job
  with PyFlink's ``OverflowError`` ("value too large to convert to int32_t");
* ``Types.ROW(...)``: the value comes back as a Row named by its type (``f0``, ``f1``, ...
  unless named);
* ``Types.SQL_TIME()``, ``SQL_TIMESTAMP()``: the value keeps milliseconds
  (``05.678901`` comes back ``05.678``), there and in a typed source;
* tuples, rows, lists, arrays and maps apply their fields' rules.

A Java source (``from_collection`` with a ``type_info``) converts differently: PyFlink hands
the Python values to Java, which narrows integers as Java casts do (``2**40`` as INT is
``0``) and rejects what does not fit a Java long (:func:`source_converter`).
``execute_and_collect`` hands a FLOAT to Python as the text of Java's ``Float.toString``
(:func:`collect_converter`), so ``110.1`` comes back as ``110.1``, a SQL_TIME in whole
seconds and a PRIMITIVE_ARRAY(BYTE) as a list of ints.

Each function decides once per type and returns None when the type takes any value (none
or PICKLED_BYTE_ARRAY), so that callers keep their plain paths for untyped streams. Every
other typed value is checked against its type where it is converted
(:mod:`flink_py.common.type_check`): a record of the wrong kind or shape fails there.

>>> from flink_py.common.typeinfo import Types
>>> narrow = boundary_converter(Types.TUPLE([Types.STRING(), Types.FLOAT()]))
>>> narrow(("Alice", 110.1))
('Alice', 110.0999984741211)
>>> boundary_converter(Types.TUPLE([Types.STRING(), Types.DOUBLE()]))(("Bob", 1))
('Bob', 1.0)
>>> boundary_converter(Types.TUPLE([Types.STRING(), Types.DOUBLE()]))(("Bob", 1, 2))
Traceback (most recent call last):
...
flink_py.errors.DeclaredTypeError: value ('Bob', 1, 2) does not match declared type \
Types.TUPLE([Types.STRING(), Types.DOUBLE()]): 3 fields, expected 2
>>> source_converter(Types.INT())(2 ** 40)
0
>>> collect_converter(Types.FLOAT())(110.0999984741211)
110.1
"""

from __future__ import annotations

import math
import struct
from array import array
from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.common import typeinfo as t
from flink_py.common.type_check import (
    _a, _kind_check, basic_check, in_context, mismatch, type_expression)
from flink_py.common.types import Row
from flink_py.errors import DeclaredTypeError, InvalidProgramError

__all__ = ["boundary_converter", "batch_converter", "source_converter", "collect_converter",
           "check_source_type", "convert_collection"]

Converter = Callable[[Any], Any]
BatchConverter = Callable[[list], list]

_FLOAT32 = struct.Struct(">f")
_INFINITY = float("inf")

#: basic type -> (bits, the C type PyFlink's coder names, PyFlink's overflow message)
_INTEGERS: Dict[t.BasicType, Tuple[int, str]] = {
    t.BasicType.BYTE: (8, "value too large to convert to int8_t"),
    t.BasicType.SHORT: (16, "value too large to convert to int16_t"),
    t.BasicType.INT: (32, "value too large to convert to int32_t"),
    t.BasicType.LONG: (64, "Python int too large to convert to C long"),
}

_TYPE_NAMES = {t.BasicType.BYTE: "BYTE", t.BasicType.SHORT: "SHORT", t.BasicType.INT: "INT",
               t.BasicType.LONG: "LONG"}


def to_float32(value: Any) -> Any:
    """``value`` as the nearest 32-bit float, as C's ``(float)`` cast gives it.

    >>> to_float32(110.1), to_float32(1e300), to_float32(1e-50), to_float32(3)
    (110.0999984741211, inf, 0.0, 3.0)
    """
    if value is None:
        return None
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(value))[0]
    except OverflowError:
        return math.copysign(_INFINITY, value)


def _range_checker(basic_type: t.BasicType) -> Converter:
    bits, message = _INTEGERS[basic_type]
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    name = _TYPE_NAMES[basic_type]

    def check(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise OverflowError(f"{message}: {value!r} declared as Types.{name}() (expected "
                                f"{low} to {high})")
        return value

    return _checks_only(check)


def _fits_or(basic_type: t.BasicType, slow: Converter) -> Converter:
    """An int in the range of ``basic_type`` as it is (one call), anything else by ``slow``."""
    bits = _INTEGERS[basic_type][0]
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def fits(value: Any) -> Any:
        if type(value) is int and low <= value <= high:
            return value
        return slow(value)
    return fits


def _checks_only(converter: Converter) -> Converter:
    """Marks a converter that returns its value unchanged (it only raises): callers can keep
    the value instead of building a new one."""
    converter.checks_only = True  # type: ignore[attr-defined]
    return converter


def _is_check(converter: Optional[Converter]) -> bool:
    return converter is None or getattr(converter, "checks_only", False)


def _integer_wrapper(basic_type: t.BasicType) -> Converter:
    bits = _INTEGERS[basic_type][0]
    size, half = 1 << bits, 1 << (bits - 1)
    name = _TYPE_NAMES[basic_type]

    def wrap(value: Any) -> Any:
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            return value
        if not -(1 << 63) <= value < (1 << 63):
            # Java gets a BigInteger, which its converter turns into null: PyFlink fails
            # the from_collection call ("... RichParallelSourceFunction is not serializable")
            raise InvalidProgramError(
                f"from_collection: {value!r} declared as Types.{name}() does not fit a Java "
                f"long (expected {-(1 << 63)} to {(1 << 63) - 1})")
        return (value + half) % size - half

    return wrap


def _then(first: Optional[Converter], second: Optional[Converter]) -> Optional[Converter]:
    """``second`` applied to what ``first`` returns (either may be None: nothing to do)."""
    if first is None or second is None:
        return first or second
    if _is_check(first) and _is_check(second):
        def check_both(value: Any) -> Any:
            second(first(value))
            return value
        return _checks_only(check_both)
    return lambda value: second(first(value))


def _composite(type_info: Any, basic: Callable[[t.BasicType], Optional[Converter]],
               rows: bool, strict: bool = False, nullable: bool = False
               ) -> Optional[Converter]:
    """The converter of ``type_info`` built from ``basic`` for its basic types; ``rows``:
    Rows come back named by their type (PyFlink's row coder), so ROW always converts;
    ``strict``: every value is checked against its type (:mod:`flink_py.common.type_check`),
    raising :class:`~flink_py.errors.DeclaredTypeError` for one that does not match;
    ``nullable``: where a None is a null (a ROW field, a LIST element, a MAP value), which
    Java's serializers of the primitive types (INT, DOUBLE, ...) reject elsewhere."""
    def of(field_type: Any, nullable: bool = False) -> Optional[Converter]:
        return _composite(field_type, basic, rows, strict, nullable)

    if type_info is None:
        return None
    if isinstance(type_info, t.ExternalTypeInfo):
        return of(type_info._type_info, nullable)
    if isinstance(type_info, t.BasicTypeInfo):
        narrow = basic(type_info._basic_type)
        if not strict:
            return narrow
        check = basic_check(type_info, nullable)
        # a check of the value as given goes first (before the type's own check converts it)
        both = _then(narrow, check) if getattr(narrow, "first", False) else _then(check, narrow)
        if basic is _boundary_basic and type_info._basic_type in _INTEGERS and both:
            return _fits_or(type_info._basic_type, both)
        return both
    if isinstance(type_info, t.TupleTypeInfo):
        fields = [of(f) for f in type_info.get_field_types()]
        if not any(fields) and not strict:
            return None
        arity = len(fields)
        plan = [(i, f) for i, f in enumerate(fields) if f is not None]

        def check_shape(value: Any) -> None:
            if not isinstance(value, tuple):
                raise mismatch(value, type_info, f"{_a(type(value))}, expected a tuple")
            if len(value) != arity:
                raise mismatch(value, type_info, f"{len(value)} fields, expected {arity}")

        if all(_is_check(f) for f in fields):
            def check_fields(value: Any) -> Any:
                if value is not None:
                    if strict and (type(value) is not tuple or len(value) != arity):
                        check_shape(value)
                    for i, f in plan:
                        f(value[i])
                return value
            return in_context(type_info, _checks_only(check_fields))

        def tuple_fields(value: Any) -> Any:
            if value is None:
                return None
            if strict and (type(value) is not tuple or len(value) != arity):
                check_shape(value)
            out = None
            for i, f in plan:
                field = value[i]
                converted = f(field)
                if converted is not field:
                    if out is None:
                        out = list(value)
                    out[i] = converted
            return value if out is None else tuple(out)

        return in_context(type_info, tuple_fields)
    if isinstance(type_info, t.RowTypeInfo):
        fields = [of(f, nullable=True) for f in type_info.get_field_types()]
        if not any(fields) and not rows and not strict:
            return None
        names = type_info.get_field_names()
        plan = [(i, f) for i, f in enumerate(fields) if f is not None]

        def row_fields(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, Row):
                kind = value.get_row_kind()
                out = list(value._values)
                if strict and len(out) != len(names):
                    raise mismatch(value, type_info,
                                   f"{len(out)} fields, expected {len(names)}")
            else:
                if strict:  # PyFlink's row coder reads the fields of a Row by their names
                    raise mismatch(value, type_info, f"{_a(type(value))}, expected a Row")
                if not isinstance(value, (tuple, list)) or len(value) != len(names):
                    raise InvalidProgramError(
                        f"{value!r} does not match the row type with fields {names}")
                kind, out = None, list(value)
            try:
                for i, f in plan:
                    if out[i] is not None:  # a row's fields are nullable
                        out[i] = f(out[i])
            except DeclaredTypeError as exc:  # name the row too
                raise mismatch(value, type_info, f"in it, {exc}") from None
            row = Row(*out)
            row.set_field_names(list(names))
            if kind is not None:
                row.set_row_kind(kind)
            return row

        return row_fields
    if isinstance(type_info, t.PrimitiveArrayTypeInfo) and \
            type_info._element_type == t.Types.BYTE():
        if basic is _collect_basic:
            return _java_bytes
        if not strict:
            return None  # bytes
        return _kind_check(type_info, (bytes, bytearray), "bytes")
    element_type = getattr(type_info, "_element_type", getattr(type_info, "elem_type", None))
    if isinstance(type_info, (t.PrimitiveArrayTypeInfo, t.BasicArrayTypeInfo,
                              t.ObjectArrayTypeInfo, t.ListTypeInfo)):
        element = of(element_type, nullable=not isinstance(type_info, t.PrimitiveArrayTypeInfo))
        if element is None and not strict:
            return None
        element = element or _accept_any

        def check_list(value: Any) -> None:
            if not isinstance(value, list):
                raise mismatch(value, type_info, f"{_a(type(value))}, expected a list")

        if _is_check(element):
            def check_elements(value: Any) -> Any:
                if value is not None:
                    if strict and type(value) is not list:
                        check_list(value)
                    for e in value:
                        element(e)
                return value
            return in_context(type_info, _checks_only(check_elements))

        def elements(value: Any) -> Any:
            if value is None:
                return None
            if strict and type(value) is not list:
                check_list(value)
            return [element(e) for e in value]
        return in_context(type_info, elements)
    if isinstance(type_info, t.MapTypeInfo):
        key = of(type_info._key_type_info)
        val = of(type_info._value_type_info, nullable=True)
        if key is None and val is None and not strict:
            return None
        key = key or _identity
        val = val or _identity

        def entries(value: Any) -> Any:
            if value is None:
                return None
            if strict and not isinstance(value, dict):
                raise mismatch(value, type_info, f"{_a(type(value))}, expected a dict")
            converted, changed = {}, type(value) is not dict
            for k, v in value.items():
                k2, v2 = key(k), val(v)
                changed = changed or k2 is not k or v2 is not v
                converted[k2] = v2
            return converted if changed else value
        return in_context(type_info, entries)
    if strict and isinstance(type_info, (t.TimeTypeInfo, t.TimestampTypeInfo)):
        return _then(basic_check(type_info), _to_millis)
    if basic is _collect_basic and isinstance(type_info, t.TimeTypeInfo):
        return _whole_seconds
    return basic_check(type_info) if strict else None


def _java_bytes(value: Any) -> Any:
    """PyFlink's collect gives a PRIMITIVE_ARRAY(BYTE) as a list of Java's (signed) bytes."""
    return None if value is None else [b - 256 if b > 127 else b for b in value]


def _whole_seconds(value: Any) -> Any:
    """PyFlink's collect makes a SQL_TIME from Java's time of day in whole seconds."""
    return value if value is None or not value.microsecond else value.replace(microsecond=0)


def _to_millis(value: Any) -> Any:
    """SQL_TIME and SQL_TIMESTAMP keep milliseconds (PyFlink's coders, Java's source)."""
    if value is None or not value.microsecond % 1000:
        return value
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _identity(value: Any) -> Any:
    return value


def _accept_any(value: Any) -> Any:
    return value


_checks_only(_accept_any)


def _boundary_basic(basic_type: t.BasicType) -> Optional[Converter]:
    if basic_type is t.BasicType.FLOAT:
        return to_float32
    if basic_type in _INTEGERS:
        return _range_checker(basic_type)
    return None


def _source_basic(basic_type: t.BasicType) -> Optional[Converter]:
    if basic_type is t.BasicType.FLOAT:
        return to_float32
    if basic_type in _INTEGERS:
        return _integer_wrapper(basic_type)
    if basic_type is t.BasicType.DOUBLE:
        return _java_double
    return None


def _java_double(value: Any) -> Any:
    # Java's DOUBLE converter takes only a Double: PyFlink's source gets null for an int
    # and fails in Java ("Cannot invoke "java.lang.Double.doubleValue()" because "record"
    # is null")
    if isinstance(value, int):
        raise mismatch(value, t.Types.DOUBLE(), f"{_a(type(value))}, expected a float (a "
                                                f"typed source does not convert an int)")
    return value


_java_double.first = True  # type: ignore[attr-defined]
_checks_only(_java_double)


def _collect_basic(basic_type: t.BasicType) -> Optional[Converter]:
    if basic_type is t.BasicType.FLOAT:
        return _float_from_java_text
    return None


def _float_from_java_text(value: Any) -> Any:
    # PyFlink's collect reads a FLOAT from the text Java's Float.toString gives for it.
    return None if value is None else float(t._java_float_to_string(value))


def boundary_converter(type_info: Any) -> Optional[Converter]:
    """What a record of ``type_info`` becomes in a serializer round trip in PyFlink.

    :param type_info: the declared type (None or PICKLED_BYTE_ARRAY: nothing changes).
    :return: a function from a value to the value read back, or None if no value changes.
    :raises OverflowError: (from the function) for an integer out of its type's range.
    """
    return _composite(type_info, _boundary_basic, rows=True, strict=True)


def batch_converter(type_info: Any) -> Optional[BatchConverter]:
    """:func:`boundary_converter` for a whole buffer, with fast paths for the basic types.

    >>> from flink_py.common.typeinfo import Types
    >>> batch_converter(Types.FLOAT())([110.1, 0.5])
    [110.0999984741211, 0.5]
    >>> batch_converter(Types.INT())([1, 2 ** 40])
    Traceback (most recent call last):
    ...
    OverflowError: value too large to convert to int32_t: 1099511627776 declared as \
Types.INT() (expected -2147483648 to 2147483647)
    """
    convert = boundary_converter(type_info)
    if convert is None:
        return None
    basic = type_info._basic_type if isinstance(type_info, t.BasicTypeInfo) else None
    # the exact Python types a buffer of one basic type may hold unchanged and unchecked
    exact = _EXACT_TYPES.get(basic, frozenset()) if basic is not None else frozenset()
    if basic is t.BasicType.FLOAT:
        def floats(values: list) -> list:
            if not exact.issuperset(map(type, values)):
                return [convert(v) for v in values]  # None or a value of the wrong type
            return array("f", values).tolist()  # C's cast per value, in one call
        return floats
    if basic in _INTEGERS:
        bits = _INTEGERS[basic][0]
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

        def integers(values: list) -> list:
            if not values or (exact.issuperset(map(type, values))
                              and low <= min(values) and max(values) <= high):
                return values
            return [convert(v) for v in values]  # a bool comes back an int
        return integers
    if exact:
        if _is_check(convert):
            def check_kinds(values: list) -> list:
                if not exact.issuperset(map(type, values)):
                    for v in values:
                        convert(v)
                return values
            return check_kinds

        def convert_kinds(values: list) -> list:
            if exact.issuperset(map(type, values)):
                return values
            return [convert(v) for v in values]
        return convert_kinds
    if _is_check(convert):
        def check_all(values: list) -> list:
            for v in values:
                convert(v)
            return values
        slow: BatchConverter = check_all
    else:
        slow = lambda values: [convert(v) for v in values]  # noqa: E731
    if isinstance(type_info, t.TupleTypeInfo):
        return _tuple_batches(type_info, slow) or slow
    return slow


def _tuple_batches(type_info: Any, slow: BatchConverter) -> Optional[BatchConverter]:
    """For a TUPLE of basic fields that no value of the right kind changes (not FLOAT): a
    buffer check that runs in C (the types, lengths and integer ranges of each column), and
    ``slow``, the per-record path, for a buffer that does not pass it."""
    columns = []
    for i, field in enumerate(type_info.get_field_types()):
        basic = field._basic_type if isinstance(field, t.BasicTypeInfo) else None
        if basic is None or basic is t.BasicType.FLOAT or basic not in _EXACT_TYPES:
            return None
        bits = _INTEGERS[basic][0] if basic in _INTEGERS else None
        bounds = None if bits is None else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        columns.append((itemgetter(i), _EXACT_TYPES[basic], bounds))
    shape = {len(columns)}

    def tuples(values: list) -> list:
        if not values or not _TUPLE_ONLY.issuperset(map(type, values)) or \
                not shape.issuperset(map(len, values)):
            return slow(values)
        for column, exact, bounds in columns:
            if not exact.issuperset(map(type, map(column, values))):
                return slow(values)
            if bounds is not None and not (bounds[0] <= min(map(column, values))
                                           and max(map(column, values)) <= bounds[1]):
                return slow(values)
        return values
    return tuples


_TUPLE_ONLY = frozenset([tuple])


#: basic type -> the Python types its values may have that pass through its check unchanged
_EXACT_TYPES: Dict[t.BasicType, frozenset] = {
    t.BasicType.BYTE: frozenset([int]), t.BasicType.SHORT: frozenset([int]),
    t.BasicType.INT: frozenset([int]), t.BasicType.LONG: frozenset([int]),
    t.BasicType.BIG_INT: frozenset([int]), t.BasicType.FLOAT: frozenset([float, int]),
    t.BasicType.DOUBLE: frozenset([float]), t.BasicType.STRING: frozenset([str]),
    t.BasicType.CHAR: frozenset([str]), t.BasicType.BOOLEAN: frozenset([bool]),
    t.BasicType.BIG_DEC: frozenset([Decimal]),
}


def source_converter(type_info: Any) -> Optional[Converter]:
    """What a value of ``type_info`` becomes when ``from_collection`` hands it to Java.

    :return: a function from a value to the value the source emits, or None if no value
        changes (rows are made by ``from_collection`` itself).
    :raises InvalidProgramError: (from the function) for an integer beyond a Java long.
    """
    return _composite(type_info, _source_basic, rows=False, strict=True)


def collect_converter(type_info: Any) -> Optional[Converter]:
    """What a value of ``type_info`` becomes on its way to ``execute_and_collect``.

    :return: a function from a value to what the client gets, or None if no value changes
        (rows come named by their type, ``f0``, ``f1``, ... unless named).
    """
    return _composite(type_info, _collect_basic, rows=True)


def _holds_char(type_info: Any) -> bool:
    if isinstance(type_info, t.BasicTypeInfo):
        return type_info._basic_type is t.BasicType.CHAR
    fields = getattr(type_info, "get_field_types", None)
    if isinstance(type_info, (t.TupleTypeInfo, t.RowTypeInfo)) and fields is not None:
        return any(_holds_char(f) for f in fields())
    return False


def require_rows(type_info: Any) -> BatchConverter:
    """The check of a ROW stream that PyFlink's ``print()`` turns into text in Python
    (chained to the operator before it, where no serializer checks the records): each must
    be a Row, as PyFlink's ``assert isinstance(value, Row)`` there requires."""
    def rows_only(values: list) -> list:
        for value in values:
            if not isinstance(value, Row):
                raise mismatch(value, type_info, f"{_a(type(value))}, expected a Row")
        return values
    return rows_only


def check_source_type(type_info: Any) -> None:
    """Fails for the declared types PyFlink's ``from_collection`` cannot hand to Java (it
    fails when called, with a Py4JJavaError): LIST, PICKLED_BYTE_ARRAY,
    PRIMITIVE_ARRAY(BYTE), and CHAR in a record.

    >>> from flink_py.common.typeinfo import Types
    >>> check_source_type(Types.LIST(Types.STRING()))
    Traceback (most recent call last):
    ...
    flink_py.errors.InvalidProgramError: from_collection: PyFlink cannot make a collection \
source of Types.LIST(Types.STRING()) values; declare no type_info (the values are pickled) \
or another type
    """
    if type_info is None:
        return
    unsupported = isinstance(type_info, (t.ListTypeInfo, t.PickledBytesTypeInfo)) or (
        isinstance(type_info, t.PrimitiveArrayTypeInfo)
        and type_info._element_type == t.Types.BYTE()) or _holds_char(type_info)
    if unsupported:
        raise InvalidProgramError(
            f"from_collection: PyFlink cannot make a collection source of "
            f"{type_expression(type_info)} values; declare no type_info (the values are "
            f"pickled) or another type")


def convert_collection(items: Any, type_info: Any) -> Any:
    """The items of ``from_collection`` as the Java source emits them (a range of integers
    that fits the type stays a range).

    >>> from flink_py.common.typeinfo import Types
    >>> convert_collection([70000, 200], Types.SHORT())
    [4464, 200]
    >>> convert_collection(range(10), Types.INT())
    range(0, 10)
    """
    convert = source_converter(type_info)
    if convert is None:
        return items
    if isinstance(items, range) and isinstance(type_info, t.BasicTypeInfo) and \
            type_info._basic_type in _INTEGERS:
        bits = _INTEGERS[type_info._basic_type][0]
        if not items or (-(1 << (bits - 1)) <= min(items[0], items[-1])
                         and max(items[0], items[-1]) < (1 << (bits - 1))):
            return items
    converted: List[Any] = []
    for index, item in enumerate(items):
        if item is None:  # PyFlink's readPythonObjects: "obj" is null
            raise InvalidProgramError(
                f"from_collection: item {index}: None is no value of the declared type "
                f"{type_expression(type_info)} (a typed source cannot hold a null)")
        try:
            converted.append(convert(item))
        except DeclaredTypeError as exc:
            raise InvalidProgramError(f"from_collection: item {index}: {exc}") from None
    return converted
