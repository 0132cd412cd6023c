"""Flink's type system for Python values: :class:`TypeInformation` and the :class:`Types` factory.

Mirrors ``pyflink.common.typeinfo`` (names, equality, ``repr``) without a Java gateway. Three
groups of methods that PyFlink does not have serve the engine and are marked *internal*:

* ``field_type`` / ``field_index`` resolve a field reference (``key_by``, ``sum(1)``,
  ``max("f1")``) against the declared type, at job definition time;
* ``is_numeric`` says whether rolling aggregations may add values of the type;
* ``display_formatter`` / ``to_display_string`` give the text Flink's ``print()`` sink shows:
  what PyFlink shows, i.e. Java's ``toString()`` of the Java object a value becomes, except
  for pickled values and rows, which PyFlink turns into strings in Python first.
"""

from __future__ import annotations

import datetime
import math
import struct
from enum import Enum
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from flink_py.common.types import Row, RowKind
from flink_py.errors import InvalidFieldReferenceError, InvalidProgramError

__all__ = ["TypeInformation", "Types"]

Formatter = Callable[[Any], str]
FieldReference = Union[int, str]


class TypeInformation(object):
    """
    TypeInformation is the core class of Flink's type system. Flink requires a type information
    for all types that are used as input or return type of a user function; it is used to
    perform semantic checks such as whether the fields used as grouping keys actually exist.

    Basic types are indivisible and are considered as a single field; arrays and collections
    are one field; tuples and rows have as many fields as they have members. The arity of a
    type is the number of fields it contains directly.

    Type informations are immutable values: equal when they describe the same structure, and
    hashable.
    """

    def get_arity(self) -> int:
        """Returns the number of fields this type contains directly (1 for atomic types).

        :return: the arity.
        """
        return 1

    def is_numeric(self) -> bool:
        """Internal: whether values of this type are numbers that aggregations may add.

        :return: True for BYTE, SHORT, INT, LONG, FLOAT, DOUBLE, BIG_INT and BIG_DEC.
        """
        return False

    def field_index(self, field: FieldReference) -> int:
        """Internal: resolves a field reference to a position in a record of this type.

        An atomic type has a single field, 0, which means the whole value (as in Flink's field
        expressions).

        :param field: a position, or a field name for composite types.
        :return: the position of the field.
        :raises InvalidFieldReferenceError: if this type has no such field.
        """
        _check_field_reference(field)
        if field != 0:
            raise InvalidFieldReferenceError(
                "field %r does not exist in %r: an atomic type has only field 0, the whole "
                "value" % (field, self))
        return 0

    def field_type(self, field: FieldReference) -> "TypeInformation":
        """Internal: returns the type of a field of this type.

        ::

            >>> Types.TUPLE([Types.STRING(), Types.INT()]).field_type(1)
            Integer
            >>> Types.ROW_NAMED(['name', 'age'], [Types.STRING(), Types.INT()]).field_type('name')
            String

        :param field: a position, or a field name for composite types; ``0`` for an atomic
                      type (the whole value).
        :return: the field's type information.
        :raises InvalidFieldReferenceError: if this type has no such field.
        """
        self.field_index(field)
        return self

    def display_formatter(self) -> Formatter:
        """Internal: returns a function giving the text ``print()`` shows for a value.

        The function is specialised once for this type so that the print sink can call it per
        record cheaply.

        :return: a function from a value of this type to its display text.
        """
        return self._java_formatter()

    def to_display_string(self, value: Any) -> str:
        """Internal: returns the text Flink's ``print()`` sink shows for a value of this type.

        ::

            >>> Types.DOUBLE().to_display_string(1e7)
            '1.0E7'
            >>> Types.TUPLE([Types.STRING(), Types.INT()]).to_display_string(('a', 1))
            '(a,1)'
            >>> Types.ROW([Types.STRING(), Types.INT()]).to_display_string(Row('a', 1))
            '+I[a,1]'

        Builds a formatter on every call: use :meth:`display_formatter` on hot paths.

        :param value: a value of this type, or None.
        :return: the display text.
        """
        return self.display_formatter()(value)

    def _java_formatter(self) -> Formatter:
        """Java's ``toString()`` of the Java object a value of this type converts to."""
        return _format_object

    def create_serializer(self) -> Any:
        """The TypeSerializer of this type (flink_py.common.serializer)."""
        from flink_py.common.serializer import serializer_for
        return serializer_for(self)

    def _key(self) -> Tuple[Any, ...]:
        """The structure that equality and hashing compare."""
        return ()

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and \
            self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__.__name__,) + self._key())


class BasicType(Enum):
    """The basic types, valued by the name PyFlink shows for them."""

    STRING = "String"
    BYTE = "Byte"
    BOOLEAN = "Boolean"
    SHORT = "Short"
    INT = "Integer"
    LONG = "Long"
    FLOAT = "Float"
    DOUBLE = "Double"
    CHAR = "Char"
    BIG_INT = "BigInteger"
    BIG_DEC = "BigDecimal"
    INSTANT = "Instant"


_NUMERIC_BASIC_TYPES = frozenset([
    BasicType.BYTE, BasicType.SHORT, BasicType.INT, BasicType.LONG, BasicType.FLOAT,
    BasicType.DOUBLE, BasicType.BIG_INT, BasicType.BIG_DEC])


class BasicTypeInfo(TypeInformation):
    """
    Type information for primitive types (int, long, double, byte, ...), String, BigInteger,
    and BigDecimal.
    """

    def __init__(self, basic_type: BasicType) -> None:
        if not isinstance(basic_type, BasicType):
            raise InvalidProgramError("Invalid BasicType %r." % (basic_type,))
        self._basic_type = basic_type

    def is_numeric(self) -> bool:
        return self._basic_type in _NUMERIC_BASIC_TYPES

    def _java_formatter(self) -> Formatter:
        return _BASIC_FORMATTERS[self._basic_type]

    def __eq__(self, o: object) -> bool:
        return isinstance(o, BasicTypeInfo) and self._basic_type == o._basic_type

    def __hash__(self) -> int:
        return hash(("BasicTypeInfo", self._basic_type))

    def __repr__(self) -> str:
        return self._basic_type.value

    @staticmethod
    def STRING_TYPE_INFO() -> "BasicTypeInfo":
        return _STRING

    @staticmethod
    def BOOLEAN_TYPE_INFO() -> "BasicTypeInfo":
        return _BOOLEAN

    @staticmethod
    def BYTE_TYPE_INFO() -> "BasicTypeInfo":
        return _BYTE

    @staticmethod
    def SHORT_TYPE_INFO() -> "BasicTypeInfo":
        return _SHORT

    @staticmethod
    def INT_TYPE_INFO() -> "BasicTypeInfo":
        return _INT

    @staticmethod
    def LONG_TYPE_INFO() -> "BasicTypeInfo":
        return _LONG

    @staticmethod
    def FLOAT_TYPE_INFO() -> "BasicTypeInfo":
        return _FLOAT

    @staticmethod
    def DOUBLE_TYPE_INFO() -> "BasicTypeInfo":
        return _DOUBLE

    @staticmethod
    def CHAR_TYPE_INFO() -> "BasicTypeInfo":
        return _CHAR

    @staticmethod
    def BIG_INT_TYPE_INFO() -> "BasicTypeInfo":
        return _BIG_INT

    @staticmethod
    def BIG_DEC_TYPE_INFO() -> "BasicTypeInfo":
        return _BIG_DEC

    @staticmethod
    def INSTANT_TYPE_INFO() -> "InstantTypeInfo":
        return _INSTANT


class InstantTypeInfo(BasicTypeInfo):
    """
    Type information for an instant on the time-line (Java's ``Instant``).
    """

    def __init__(self, basic_type: BasicType = BasicType.INSTANT) -> None:
        super().__init__(basic_type)


class SqlTimeTypeInfo(TypeInformation):
    """
    SqlTimeTypeInfo enables users to get Sql Time TypeInfo.
    """

    @staticmethod
    def DATE() -> "DateTypeInfo":
        return _SQL_DATE

    @staticmethod
    def TIME() -> "TimeTypeInfo":
        return _SQL_TIME

    @staticmethod
    def TIMESTAMP() -> "TimestampTypeInfo":
        return _SQL_TIMESTAMP


class DateTypeInfo(TypeInformation):
    """
    TypeInformation for Date (``datetime.date`` values, Java's ``java.sql.Date``).
    """

    def _java_formatter(self) -> Formatter:
        return _format_sql_date

    def __repr__(self) -> str:
        return "DateTypeInfo"


class TimeTypeInfo(TypeInformation):
    """
    TypeInformation for Time (``datetime.time`` values, Java's ``java.sql.Time``).
    """

    def _java_formatter(self) -> Formatter:
        return _format_sql_time

    def __repr__(self) -> str:
        return "TimeTypeInfo"


class TimestampTypeInfo(TypeInformation):
    """
    TypeInformation for Timestamp (``datetime.datetime`` values, Java's ``java.sql.Timestamp``).
    """

    def _java_formatter(self) -> Formatter:
        return _format_sql_timestamp

    def __repr__(self) -> str:
        return "TimestampTypeInfo"


class LocalTimeTypeInfo(TypeInformation):
    """
    Type information for Java's ``LocalDate`` / ``LocalTime`` / ``LocalDateTime``
    (``datetime.date`` / ``datetime.time`` / ``datetime.datetime`` values).
    """

    class TimeType(Enum):
        LOCAL_DATE = 0
        LOCAL_TIME = 1
        LOCAL_DATE_TIME = 2

    def __init__(self, time_type: "LocalTimeTypeInfo.TimeType") -> None:
        if not isinstance(time_type, LocalTimeTypeInfo.TimeType):
            raise InvalidProgramError("Unsupported TimeType: %r" % (time_type,))
        self._time_type = time_type

    def _java_formatter(self) -> Formatter:
        if self._time_type is LocalTimeTypeInfo.TimeType.LOCAL_DATE:
            return _format_local_date
        if self._time_type is LocalTimeTypeInfo.TimeType.LOCAL_TIME:
            return _format_local_time
        return _format_local_date_time

    def _key(self) -> Tuple[Any, ...]:
        return (self._time_type,)

    def __repr__(self) -> str:
        return "LocalTimeTypeInfo<%s>" % self._time_type.name


class PrimitiveArrayTypeInfo(TypeInformation):
    """
    A TypeInformation for arrays of primitive types (int, long, double, ...).
    """

    def __init__(self, element_type: TypeInformation) -> None:
        if element_type not in _PRIMITIVE_ARRAY_ELEMENTS:
            raise InvalidProgramError(
                "Invalid element type for a primitive array: %r; expected one of %s"
                % (element_type, ", ".join(map(repr, _PRIMITIVE_ARRAY_ELEMENTS))))
        self._element_type = element_type

    def _java_formatter(self) -> Formatter:
        if self._element_type == _BYTE:
            return _format_byte_array
        return _array_formatter(self._element_type._java_formatter())

    def _key(self) -> Tuple[Any, ...]:
        return (self._element_type,)

    def __repr__(self) -> str:
        return "PrimitiveArrayTypeInfo<%s>" % self._element_type


class BasicArrayTypeInfo(TypeInformation):
    """
    A TypeInformation for arrays of boxed primitive types (Integer, Long, Double, ...) and of
    String.
    """

    def __init__(self, element_type: TypeInformation) -> None:
        if element_type not in _BASIC_ARRAY_ELEMENTS:
            raise InvalidProgramError(
                "Invalid element type for a basic array: %r; expected one of %s"
                % (element_type, ", ".join(map(repr, _BASIC_ARRAY_ELEMENTS))))
        self._element_type = element_type

    def _java_formatter(self) -> Formatter:
        return _array_formatter(self._element_type._java_formatter())

    def _key(self) -> Tuple[Any, ...]:
        return (self._element_type,)

    def __repr__(self) -> str:
        return "BasicArrayTypeInfo<%s>" % self._element_type


class ObjectArrayTypeInfo(TypeInformation):
    """
    A TypeInformation for arrays of non-primitive types.
    """

    def __init__(self, element_type: TypeInformation) -> None:
        _check_type_information(element_type, "element type of an object array")
        self._element_type = element_type

    def _java_formatter(self) -> Formatter:
        return _array_formatter(self._element_type._java_formatter())

    def _key(self) -> Tuple[Any, ...]:
        return (self._element_type,)

    def __repr__(self) -> str:
        return "ObjectArrayTypeInfo<%s>" % self._element_type


class PickledBytesTypeInfo(TypeInformation):
    """
    A PickledBytesTypeInfo indicates the data is a primitive byte array generated by pickle
    serializer: any Python object, whose structure is only known at run time.
    """

    def field_index(self, field: FieldReference) -> int:
        """Internal: a pickled value's fields are unknown until run time; accepts any position
        or name.

        :param field: a position or a name.
        :return: the position, or -1 for a name.
        """
        _check_field_reference(field)
        return field if isinstance(field, int) else -1

    def field_type(self, field: FieldReference) -> TypeInformation:
        """Internal: the type of any field of a pickled value is PICKLED_BYTE_ARRAY, checked at
        run time.

        :param field: a position or a name.
        :return: ``Types.PICKLED_BYTE_ARRAY()``.
        """
        _check_field_reference(field)
        return _PICKLED_BYTE_ARRAY

    def display_formatter(self) -> Formatter:
        # PyFlink's print() maps pickled values with ``str`` first (DataStream._align_output_type);
        # ``str`` of a str returns it unchanged, so this costs nearly nothing per record.
        return str

    def _java_formatter(self) -> Formatter:
        # Nested in a Java tuple, Java would print the pickled byte array; show the Python text.
        return str

    def __repr__(self) -> str:
        return "PickledByteArrayTypeInfo"


class RowTypeInfo(TypeInformation):
    """
    TypeInformation for Row. Field names default to ``f0``, ``f1``, ...
    """

    def __init__(self, field_types: List[TypeInformation],
                 field_names: Optional[List[str]] = None) -> None:
        _check_field_types(field_types, "RowTypeInfo")
        self._field_types = tuple(field_types)
        if field_names is None:
            self._field_names: Optional[Tuple[str, ...]] = None
            self._effective_names = tuple("f%d" % i for i in range(len(field_types)))
        else:
            _check_field_names(field_names, len(field_types))
            self._field_names = tuple(field_names)
            self._effective_names = self._field_names

    def get_field_names(self) -> List[str]:
        """Returns the field names (``f0``, ``f1``, ... unless given).

        :return: the field names, in field order.
        """
        return list(self._effective_names)

    def get_field_index(self, field_name: str) -> int:
        """Returns the position of the named field.

        :param field_name: the field name.
        :return: the position, or -1 if there is no such field.
        """
        try:
            return self._effective_names.index(field_name)
        except ValueError:
            return -1

    def get_field_types(self) -> List[TypeInformation]:
        """Returns the field types.

        :return: the field types, in field order.
        """
        return list(self._field_types)

    def get_arity(self) -> int:
        return len(self._field_types)

    def field_index(self, field: FieldReference) -> int:
        return _resolve_field(self, field, self._effective_names)

    def field_type(self, field: FieldReference) -> TypeInformation:
        return self._field_types[self.field_index(field)]

    def display_formatter(self) -> Formatter:
        # PyFlink's print() maps rows to text in Python first (DataStream._align_output_type):
        # the kind, then ``str`` of each field joined by "," (no space).
        def format_row(value: Any) -> str:
            if value is None:
                return "null"
            if isinstance(value, Row):
                return "%s[%s]" % (value.get_row_kind(),
                                   ",".join([str(item) for item in value]))
            return "+I[%s]" % ",".join([str(item) for item in value])

        return format_row

    def _java_formatter(self) -> Formatter:
        # Java's Row.toString(): "+I[a, 1]".
        formatters = [t._java_formatter() for t in self._field_types]

        def format_row(value: Any) -> str:
            if value is None:
                return "null"
            kind = value.get_row_kind() if isinstance(value, Row) else RowKind.INSERT
            return "%s[%s]" % (kind, ", ".join([f(v) for f, v in zip(formatters, value)]))

        return format_row

    def _key(self) -> Tuple[Any, ...]:
        return (self._field_types, self._effective_names)

    def __repr__(self) -> str:
        if self._field_names:
            return "RowTypeInfo(%s)" % ", ".join(
                [name + ": " + str(field_type)
                 for name, field_type in zip(self._field_names, self._field_types)])
        return "RowTypeInfo(%s)" % ", ".join([str(t) for t in self._field_types])


class TupleTypeInfo(TypeInformation):
    """
    TypeInformation for Tuple. Field ``i`` is also called ``"f<i>"``, as in Java.
    """

    def __init__(self, field_types: List[TypeInformation]) -> None:
        _check_field_types(field_types, "TupleTypeInfo")
        self._field_types = tuple(field_types)
        self._names = tuple("f%d" % i for i in range(len(field_types)))

    def get_field_types(self) -> List[TypeInformation]:
        """Returns the field types.

        :return: the field types, in field order.
        """
        return list(self._field_types)

    def get_arity(self) -> int:
        return len(self._field_types)

    def field_index(self, field: FieldReference) -> int:
        return _resolve_field(self, field, self._names)

    def field_type(self, field: FieldReference) -> TypeInformation:
        return self._field_types[self.field_index(field)]

    def _java_formatter(self) -> Formatter:
        # Java's Tuple.toString(): "(a,1)", no spaces.
        formatters = [t._java_formatter() for t in self._field_types]

        def format_tuple(value: Any) -> str:
            if value is None:
                return "null"
            return "(%s)" % ",".join([f(v) for f, v in zip(formatters, value)])

        return format_tuple

    def _key(self) -> Tuple[Any, ...]:
        return self._field_types

    def __repr__(self) -> str:
        return "TupleTypeInfo(%s)" % ", ".join([str(t) for t in self._field_types])


class ListTypeInfo(TypeInformation):
    """
    A TypeInformation for the list types.
    """

    def __init__(self, element_type: TypeInformation) -> None:
        _check_type_information(element_type, "element type of a list")
        self.elem_type = element_type

    def _java_formatter(self) -> Formatter:
        return _array_formatter(self.elem_type._java_formatter())

    def _key(self) -> Tuple[Any, ...]:
        return (self.elem_type,)

    def __repr__(self) -> str:
        return "ListTypeInfo<%s>" % self.elem_type


class MapTypeInfo(TypeInformation):
    """
    A TypeInformation for maps (dicts).
    """

    def __init__(self, key_type_info: TypeInformation,
                 value_type_info: TypeInformation) -> None:
        _check_type_information(key_type_info, "key type of a map")
        _check_type_information(value_type_info, "value type of a map")
        self._key_type_info = key_type_info
        self._value_type_info = value_type_info

    def _java_formatter(self) -> Formatter:
        # Java's AbstractMap.toString(): "{k=v, k2=v2}", here in the dict's order.
        format_key = self._key_type_info._java_formatter()
        format_value = self._value_type_info._java_formatter()

        def format_map(value: Any) -> str:
            if value is None:
                return "null"
            return "{%s}" % ", ".join([format_key(k) + "=" + format_value(v)
                                       for k, v in value.items()])

        return format_map

    def _key(self) -> Tuple[Any, ...]:
        return (self._key_type_info, self._value_type_info)

    def __repr__(self) -> str:
        return "MapTypeInfo<{}, {}>".format(self._key_type_info, self._value_type_info)


class ExternalTypeInfo(TypeInformation):
    """
    Type information the Table API gives a DataStream it converts a table into; it wraps the
    type of the values.
    """

    def __init__(self, type_info: TypeInformation) -> None:
        _check_type_information(type_info, "type of an ExternalTypeInfo")
        self._type_info = type_info

    def get_arity(self) -> int:
        return self._type_info.get_arity()

    def is_numeric(self) -> bool:
        return self._type_info.is_numeric()

    def field_index(self, field: FieldReference) -> int:
        return self._type_info.field_index(field)

    def field_type(self, field: FieldReference) -> TypeInformation:
        return self._type_info.field_type(field)

    def display_formatter(self) -> Formatter:
        return self._type_info.display_formatter()

    def _java_formatter(self) -> Formatter:
        return self._type_info._java_formatter()

    def _key(self) -> Tuple[Any, ...]:
        return (self._type_info,)

    def __repr__(self) -> str:
        return "ExternalTypeInfo<{}>".format(self._type_info)


class Types(object):
    """
    This class gives access to the type information of the most common types for which Flink has
    built-in serializers and comparators.

    ::

        >>> Types.ROW_NAMED(['name', 'age'], [Types.STRING(), Types.INT()])
        RowTypeInfo(name: String, age: Integer)
        >>> Types.TUPLE([Types.STRING(), Types.LIST(Types.LONG())])
        TupleTypeInfo(String, ListTypeInfo<Long>)
    """

    @staticmethod
    def STRING() -> TypeInformation:
        """
        Returns type information for string. Supports a None value.
        """
        return _STRING

    @staticmethod
    def BYTE() -> TypeInformation:
        """
        Returns type information for byte. Does not support a None value.
        """
        return _BYTE

    @staticmethod
    def BOOLEAN() -> TypeInformation:
        """
        Returns type information for bool. Does not support a None value.
        """
        return _BOOLEAN

    @staticmethod
    def SHORT() -> TypeInformation:
        """
        Returns type information for short. Does not support a None value.
        """
        return _SHORT

    @staticmethod
    def INT() -> TypeInformation:
        """
        Returns type information for int. Does not support a None value.
        """
        return _INT

    @staticmethod
    def LONG() -> TypeInformation:
        """
        Returns type information for long. Does not support a None value.
        """
        return _LONG

    @staticmethod
    def FLOAT() -> TypeInformation:
        """
        Returns type information for float. Does not support a None value.
        """
        return _FLOAT

    @staticmethod
    def DOUBLE() -> TypeInformation:
        """
        Returns type information for double. Does not support a None value.
        """
        return _DOUBLE

    @staticmethod
    def CHAR() -> TypeInformation:
        """
        Returns type information for char. Does not support a None value.
        """
        return _CHAR

    @staticmethod
    def BIG_INT() -> TypeInformation:
        """
        Returns type information for BigInteger. Supports a None value.
        """
        return _BIG_INT

    @staticmethod
    def BIG_DEC() -> TypeInformation:
        """
        Returns type information for BigDecimal. Supports a None value.
        """
        return _BIG_DEC

    @staticmethod
    def INSTANT() -> TypeInformation:
        """
        Returns type information for Instant. Supports a None value.
        """
        return _INSTANT

    @staticmethod
    def SQL_DATE() -> TypeInformation:
        """
        Returns type information for Date. Supports a None value.
        """
        return _SQL_DATE

    @staticmethod
    def SQL_TIME() -> TypeInformation:
        """
        Returns type information for Time. Supports a None value.
        """
        return _SQL_TIME

    @staticmethod
    def SQL_TIMESTAMP() -> TypeInformation:
        """
        Returns type information for Timestamp. Supports a None value.
        """
        return _SQL_TIMESTAMP

    @staticmethod
    def PICKLED_BYTE_ARRAY() -> TypeInformation:
        """
        Returns type information which uses pickle for serialization/deserialization.
        """
        return _PICKLED_BYTE_ARRAY

    @staticmethod
    def ROW(field_types: List[TypeInformation]) -> RowTypeInfo:
        """
        Returns type information for Row with fields of the given types, named ``f0``, ``f1``,
        ... A row itself must not be null.

        :param field_types: the types of the row fields, e.g., Types.STRING(), Types.INT()
        :return: the row type information.
        """
        return RowTypeInfo(field_types)

    @staticmethod
    def ROW_NAMED(field_names: List[str], field_types: List[TypeInformation]) -> RowTypeInfo:
        """
        Returns type information for Row with fields of the given types and with given names. A
        row must not be null.

        :param field_names: array of field names.
        :param field_types: array of field types.
        :return: the row type information.
        """
        return RowTypeInfo(field_types, field_names)

    @staticmethod
    def TUPLE(field_types: List[TypeInformation]) -> TupleTypeInfo:
        """
        Returns type information for Tuple with fields of the given types. A Tuple itself must not
        be null.

        :param field_types: array of field types.
        :return: the tuple type information.
        """
        return TupleTypeInfo(field_types)

    @staticmethod
    def PRIMITIVE_ARRAY(element_type: TypeInformation) -> PrimitiveArrayTypeInfo:
        """
        Returns type information for arrays of primitive type (such as byte[]). The array must not
        be null.

        :param element_type: element type of the array (e.g. Types.BOOLEAN(), Types.INT(),
                             Types.DOUBLE())
        :return: the array type information.
        """
        return PrimitiveArrayTypeInfo(element_type)

    @staticmethod
    def BASIC_ARRAY(element_type: TypeInformation) -> BasicArrayTypeInfo:
        """
        Returns type information for arrays of boxed primitive type (such as Integer[]).

        :param element_type: element type of the array (e.g. Types.BOOLEAN(), Types.INT(),
                             Types.DOUBLE())
        :return: the array type information.
        """
        return BasicArrayTypeInfo(element_type)

    @staticmethod
    def OBJECT_ARRAY(element_type: TypeInformation) -> ObjectArrayTypeInfo:
        """
        Returns type information for arrays of non-primitive types. The array itself must not be
        None. None values for elements are supported.

        :param element_type: element type of the array
        :return: the array type information.
        """
        return ObjectArrayTypeInfo(element_type)

    @staticmethod
    def MAP(key_type_info: TypeInformation, value_type_info: TypeInformation) -> MapTypeInfo:
        """
        Returns type information for a map (dict), as MapStateDescriptor uses.

        :param key_type_info: Element type of key (e.g. Types.BOOLEAN(), Types.INT(),
                              Types.DOUBLE())
        :param value_type_info: Element type of value (e.g. Types.BOOLEAN(), Types.INT(),
                                Types.DOUBLE())
        :return: the map type information.
        """
        return MapTypeInfo(key_type_info, value_type_info)

    @staticmethod
    def LIST(element_type_info: TypeInformation) -> ListTypeInfo:
        """
        A TypeInformation for the list type.

        :param element_type_info: The type of the elements in the list
        :return: the list type information.
        """
        return ListTypeInfo(element_type_info)


# ---------------------------------------------------------------------------------------------
# Validation and field resolution
# ---------------------------------------------------------------------------------------------

def _check_type_information(type_info: Any, what: str) -> None:
    if not isinstance(type_info, TypeInformation):
        raise InvalidProgramError(
            "the %s must be a TypeInformation (e.g. Types.INT()), got %r" % (what, type_info))


def _check_field_types(field_types: Any, owner: str) -> None:
    if isinstance(field_types, (str, bytes)) or not isinstance(field_types, Sequence):
        raise InvalidProgramError(
            "%s needs a list of field types, got %r" % (owner, field_types))
    for i, field_type in enumerate(field_types):
        if not isinstance(field_type, TypeInformation):
            raise InvalidProgramError(
                "field %d of %s must be a TypeInformation (e.g. Types.INT()), got %r"
                % (i, owner, field_type))


def _check_field_names(field_names: Any, arity: int) -> None:
    if isinstance(field_names, (str, bytes)) or not isinstance(field_names, Sequence):
        raise InvalidProgramError("RowTypeInfo needs a list of field names, got %r"
                                  % (field_names,))
    if len(field_names) != arity:
        raise InvalidProgramError(
            "RowTypeInfo has %d field names %s for %d field types"
            % (len(field_names), list(field_names), arity))
    for name in field_names:
        if not isinstance(name, str):
            raise InvalidProgramError("RowTypeInfo field names must be str, got %r" % (name,))
    if len(set(field_names)) != len(field_names):
        duplicates = sorted({n for n in field_names if list(field_names).count(n) > 1})
        raise InvalidProgramError("RowTypeInfo field names must be unique; %s repeat in %s"
                                  % (duplicates, list(field_names)))


def _check_field_reference(field: Any) -> None:
    if isinstance(field, bool) or not isinstance(field, (int, str)):
        raise InvalidFieldReferenceError(
            "a field is referenced by an int position or a str name, got %r" % (field,))


def _resolve_field(type_info: TypeInformation, field: FieldReference,
                   names: Tuple[str, ...]) -> int:
    _check_field_reference(field)
    if isinstance(field, int):
        if 0 <= field < len(names):
            return field
        raise InvalidFieldReferenceError("field %d out of range for %r of arity %d"
                                         % (field, type_info, len(names)))
    try:
        return names.index(field)
    except ValueError:
        raise InvalidFieldReferenceError("field %r not found in %r; its fields are %s"
                                         % (field, type_info, list(names))) from None


# ---------------------------------------------------------------------------------------------
# Java toString() of values, as Flink's print() sink shows them
# ---------------------------------------------------------------------------------------------

_INFINITY = float("inf")
_FLOAT32 = struct.Struct("<f")


def _format_object(value: Any) -> str:
    return "null" if value is None else str(value)


def _format_string(value: Any) -> str:
    if value.__class__ is str:
        return value
    return "null" if value is None else str(value)


def _format_boolean(value: Any) -> str:
    if value is None:
        return "null"
    return "true" if value else "false"


def _format_integer(value: Any) -> str:
    # '%d' also prints a bool as Java sees it once converted (1/0).
    return "null" if value is None else "%d" % value


def _java_digits(text: str) -> Tuple[str, int]:
    """Splits the text of a positive number (``repr`` or ``%e`` style) into its significant
    digits without trailing zeros and the decimal exponent of the first digit:
    '1.50e+03' -> ('15', 3), '0.0001' -> ('1', -4), '12345678.9' -> ('123456789', 7)."""
    mantissa, _, exponent_text = text.partition("e")
    integer_part, _, fraction = mantissa.partition(".")
    if exponent_text:
        # One digit before the point in %e and repr's exponent form.
        return (integer_part + fraction).rstrip("0"), int(exponent_text)
    if integer_part != "0":
        return (integer_part + fraction).rstrip("0"), len(integer_part) - 1
    significant = fraction.lstrip("0")
    return significant.rstrip("0"), len(significant) - len(fraction) - 1


def _java_floating_text(digits: str, exponent: int, magnitude: float, negative: bool) -> str:
    """Lays out digits as Java's Double/Float.toString: plain in [1e-3, 1e7), else
    computerized scientific notation."""
    if 1e-3 <= magnitude < 1e7:
        if exponent >= 0:
            integer_part = digits[:exponent + 1].ljust(exponent + 1, "0")
            text = integer_part + "." + (digits[exponent + 1:] or "0")
        else:
            text = "0." + "0" * (-exponent - 1) + digits
    else:
        text = digits[0] + "." + (digits[1:] or "0") + "E" + str(exponent)
    return "-" + text if negative else text


def _java_special(x: float) -> Optional[str]:
    if x != x:
        return "NaN"
    if x == _INFINITY:
        return "Infinity"
    if x == -_INFINITY:
        return "-Infinity"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    return None


def _java_double_to_string(value: Any) -> str:
    """Java's ``Double.toString`` (JDK 19+ digits: the shortest that round-trip)."""
    if value is None:
        return "null"
    x = float(value)
    if 1e-3 <= x < 1e7 or -1e7 < x <= -1e-3:
        # Python's repr has the same digits and the same plain layout in this range.
        return repr(x)
    special = _java_special(x)
    if special is not None:
        return special
    magnitude = abs(x)
    digits, exponent = _java_digits(repr(magnitude))
    if len(digits) == 1:
        # Java picks the closest 2-digit decimal when one digit would do (4.9E-324, not 5E-324).
        digits, exponent = _java_digits("%.1e" % magnitude)
    return _java_floating_text(digits, exponent, magnitude, x < 0)


def _to_float32(x: float) -> float:
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(x))[0]
    except OverflowError:
        return math.copysign(_INFINITY, x)


def _java_float_to_string(value: Any) -> str:
    """Java's ``Float.toString`` of the value rounded to float32 (shortest round-trip digits)."""
    if value is None:
        return "null"
    x = _to_float32(float(value))
    special = _java_special(x)
    if special is not None:
        return special
    magnitude = abs(x)
    for precision in range(9):
        text = "%.*e" % (precision, magnitude)
        if _to_float32(float(text)) == magnitude:
            break
    if precision == 0:
        text = "%.1e" % magnitude
    digits, exponent = _java_digits(text)
    return _java_floating_text(digits, exponent, magnitude, x < 0)


def _format_big_decimal(value: Any) -> str:
    # Python's Decimal.__str__ and Java's BigDecimal.toString follow the same
    # to-scientific-string rules.
    return "null" if value is None else str(value)


def _nano_fraction(nanos: int) -> str:
    """Java time's fraction: groups of 3 digits, as many as needed ('' for none)."""
    if nanos == 0:
        return ""
    if nanos % 1_000_000 == 0:
        return ".%03d" % (nanos // 1_000_000)
    if nanos % 1000 == 0:
        return ".%06d" % (nanos // 1000)
    return ".%09d" % nanos


def _format_date_part(d: Any) -> str:
    return "%04d-%02d-%02d" % (d.year, d.month, d.day)


def _format_local_time_part(t: Any) -> str:
    text = "%02d:%02d" % (t.hour, t.minute)
    if t.second or t.microsecond:
        text += ":%02d" % t.second + _nano_fraction(t.microsecond * 1000)
    return text


def _format_sql_date(value: Any) -> str:
    return "null" if value is None else _format_date_part(value)


def _format_sql_time(value: Any) -> str:
    if value is None:
        return "null"
    return "%02d:%02d:%02d" % (value.hour, value.minute, value.second)


def _format_sql_timestamp(value: Any) -> str:
    if value is None:
        return "null"
    nanos = value.microsecond * 1000
    fraction = "0" if nanos == 0 else ("%09d" % nanos).rstrip("0")
    return "%s %02d:%02d:%02d.%s" % (_format_date_part(value), value.hour, value.minute,
                                     value.second, fraction)


def _format_local_date(value: Any) -> str:
    return "null" if value is None else _format_date_part(value)


def _format_local_time(value: Any) -> str:
    return "null" if value is None else _format_local_time_part(value)


def _format_local_date_time(value: Any) -> str:
    if value is None:
        return "null"
    return _format_date_part(value) + "T" + _format_local_time_part(value)


_EPOCH = datetime.datetime(1970, 1, 1)


def _format_instant(value: Any) -> str:
    """Java's ``Instant.toString`` (ISO-8601 in UTC) of an Instant-like value: an object with
    ``seconds`` and ``nanos`` (PyFlink's Instant), a ``datetime`` (naive means UTC) or epoch
    milliseconds."""
    if value is None:
        return "null"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        delta = value - _EPOCH
        seconds, nanos = delta.days * 86400 + delta.seconds, delta.microseconds * 1000
    elif isinstance(value, int):
        seconds, millis = divmod(value, 1000)
        nanos = millis * 1_000_000
    else:
        seconds, nanos = value.seconds, value.nanos
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    return "%sT%02d:%02d:%02d%sZ" % (_format_date_part(moment), moment.hour, moment.minute,
                                     moment.second, _nano_fraction(nanos))


def _array_formatter(format_element: Formatter) -> Formatter:
    # Java's Arrays.toString / AbstractCollection.toString: "[1, 2, 3]".
    def format_array(value: Any) -> str:
        if value is None:
            return "null"
        return "[%s]" % ", ".join([format_element(e) for e in value])

    return format_array


def _format_byte_array(value: Any) -> str:
    # Java bytes are signed: Python's bytes 255 is Java's -1.
    if value is None:
        return "null"
    return "[%s]" % ", ".join(["%d" % (((b + 128) & 0xFF) - 128) for b in value])


# ---------------------------------------------------------------------------------------------
# Shared instances (type informations are immutable)
# ---------------------------------------------------------------------------------------------

_STRING = BasicTypeInfo(BasicType.STRING)
_BYTE = BasicTypeInfo(BasicType.BYTE)
_BOOLEAN = BasicTypeInfo(BasicType.BOOLEAN)
_SHORT = BasicTypeInfo(BasicType.SHORT)
_INT = BasicTypeInfo(BasicType.INT)
_LONG = BasicTypeInfo(BasicType.LONG)
_FLOAT = BasicTypeInfo(BasicType.FLOAT)
_DOUBLE = BasicTypeInfo(BasicType.DOUBLE)
_CHAR = BasicTypeInfo(BasicType.CHAR)
_BIG_INT = BasicTypeInfo(BasicType.BIG_INT)
_BIG_DEC = BasicTypeInfo(BasicType.BIG_DEC)
_INSTANT = InstantTypeInfo(BasicType.INSTANT)
_SQL_DATE = DateTypeInfo()
_SQL_TIME = TimeTypeInfo()
_SQL_TIMESTAMP = TimestampTypeInfo()
_PICKLED_BYTE_ARRAY = PickledBytesTypeInfo()

_PRIMITIVE_ARRAY_ELEMENTS = (_BOOLEAN, _BYTE, _SHORT, _INT, _LONG, _FLOAT, _DOUBLE, _CHAR)
_BASIC_ARRAY_ELEMENTS = _PRIMITIVE_ARRAY_ELEMENTS + (_STRING,)

_BASIC_FORMATTERS = {
    BasicType.STRING: _format_string,
    BasicType.BYTE: _format_integer,
    BasicType.BOOLEAN: _format_boolean,
    BasicType.SHORT: _format_integer,
    BasicType.INT: _format_integer,
    BasicType.LONG: _format_integer,
    BasicType.FLOAT: _java_float_to_string,
    BasicType.DOUBLE: _java_double_to_string,
    BasicType.CHAR: _format_string,
    BasicType.BIG_INT: _format_integer,
    BasicType.BIG_DEC: _format_big_decimal,
    BasicType.INSTANT: _format_instant,
}
