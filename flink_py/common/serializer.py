"""Typed serializers (PyFlink's ``pyflink.common.serializer``): a ``TypeSerializer`` per
``TypeInformation``, for state and snapshots when a type is declared; pickle otherwise.

The binary formats follow Flink's for the basic types (big-endian, as Java's DataOutput):
INT 4 bytes, LONG 8, SHORT 2, BYTE 1, FLOAT 4 (IEEE single: a value comes back narrowed to
32 bits, as a PyFlink ``Types.FLOAT()`` field does), DOUBLE 8, BOOLEAN 1, STRING a length
and UTF-8. Composite serializers (tuple, row, list, array, map) write their fields with the
field serializers; every serializer accepts ``None`` through a one-byte null marker where
the type can be null (composites and objects), as Flink's nullable wrappers do.

>>> from flink_py.common.typeinfo import Types
>>> serializer = serializer_for(Types.TUPLE([Types.STRING(), Types.FLOAT()]))
>>> serializer.from_bytes(serializer.to_bytes(("Alice", 110.1)))
('Alice', 110.0999984741211)
"""

from __future__ import annotations

import abc
import decimal
import io
import pickle
import struct
from typing import Any, BinaryIO, Callable, Dict, List, Optional

__all__ = [
    "TypeSerializer", "PickleSerializer", "StringSerializer", "BooleanSerializer",
    "ByteSerializer", "ShortSerializer", "IntSerializer", "LongSerializer", "FloatSerializer",
    "DoubleSerializer", "CharSerializer", "BigIntSerializer", "BigDecSerializer",
    "BytesSerializer", "TupleSerializer", "RowSerializer", "ListSerializer",
    "MapSerializer", "NullableSerializer", "VoidNamespaceSerializer", "serializer_for",
    "needs_narrowing",
]


def _read(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError(f"expected {n} more bytes, found {len(data)}")
    return data


class TypeSerializer(abc.ABC):
    """Writes and reads values of one type (PyFlink's TypeSerializer)."""

    @abc.abstractmethod
    def serialize(self, element: Any, stream: BinaryIO) -> None:
        """Writes ``element`` to ``stream``."""

    @abc.abstractmethod
    def deserialize(self, stream: BinaryIO) -> Any:
        """Reads one value from ``stream``."""

    def to_bytes(self, element: Any) -> bytes:
        stream = io.BytesIO()
        self.serialize(element, stream)
        return stream.getvalue()

    def from_bytes(self, data: bytes) -> Any:
        return self.deserialize(io.BytesIO(data))

    def normalize(self, element: Any) -> Any:
        """``element`` as it comes back from a round trip (a FLOAT narrowed to 32 bits)."""
        return self.from_bytes(self.to_bytes(element))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _StructSerializer(TypeSerializer):
    """A fixed-width number."""

    _struct: struct.Struct

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        stream.write(self._struct.pack(element))

    def deserialize(self, stream: BinaryIO) -> Any:
        return self._struct.unpack(_read(stream, self._struct.size))[0]


class BooleanSerializer(_StructSerializer):
    _struct = struct.Struct(">?")


class ByteSerializer(_StructSerializer):
    _struct = struct.Struct(">b")


class ShortSerializer(_StructSerializer):
    _struct = struct.Struct(">h")


class IntSerializer(_StructSerializer):
    _struct = struct.Struct(">i")


class LongSerializer(_StructSerializer):
    _struct = struct.Struct(">q")


class FloatSerializer(_StructSerializer):
    """IEEE single precision: what comes back is the nearest 32-bit float."""

    _struct = struct.Struct(">f")


class DoubleSerializer(_StructSerializer):
    _struct = struct.Struct(">d")


_LENGTH = struct.Struct(">I")


class BytesSerializer(TypeSerializer):
    """A length, then the bytes (``Types.PRIMITIVE_ARRAY(Types.BYTE())``)."""

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        data = bytes(element)
        stream.write(_LENGTH.pack(len(data)))
        stream.write(data)

    def deserialize(self, stream: BinaryIO) -> Any:
        return _read(stream, _LENGTH.unpack(_read(stream, 4))[0])


class StringSerializer(TypeSerializer):
    """A length, then UTF-8."""

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        data = element.encode("utf-8")
        stream.write(_LENGTH.pack(len(data)))
        stream.write(data)

    def deserialize(self, stream: BinaryIO) -> Any:
        return _read(stream, _LENGTH.unpack(_read(stream, 4))[0]).decode("utf-8")


class CharSerializer(StringSerializer):
    """One character (as a string)."""


class BigIntSerializer(TypeSerializer):
    """An arbitrary-precision int: length, then two's-complement big-endian bytes."""

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        value = int(element)
        data = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big", signed=True)
        stream.write(_LENGTH.pack(len(data)))
        stream.write(data)

    def deserialize(self, stream: BinaryIO) -> Any:
        data = _read(stream, _LENGTH.unpack(_read(stream, 4))[0])
        return int.from_bytes(data, "big", signed=True)


class BigDecSerializer(TypeSerializer):
    """A ``decimal.Decimal`` as its exact text."""

    _text = StringSerializer()

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        self._text.serialize(str(element), stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        return decimal.Decimal(self._text.deserialize(stream))


class PickleSerializer(TypeSerializer):
    """Any Python object (untyped values, ``Types.PICKLED_BYTE_ARRAY()``, time types)."""

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        BytesSerializer().serialize(pickle.dumps(element, protocol=5), stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        return pickle.loads(BytesSerializer().deserialize(stream))

    def normalize(self, element: Any) -> Any:
        return element


class NullableSerializer(TypeSerializer):
    """A null marker byte, then the value (absent for None)."""

    def __init__(self, inner: TypeSerializer) -> None:
        self.inner = inner

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        if element is None:
            stream.write(b"\x00")
        else:
            stream.write(b"\x01")
            self.inner.serialize(element, stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        return None if _read(stream, 1) == b"\x00" else self.inner.deserialize(stream)

    def __repr__(self) -> str:
        return f"NullableSerializer({self.inner!r})"


class TupleSerializer(TypeSerializer):
    """A Python tuple, field by field."""

    def __init__(self, field_serializers: List[TypeSerializer]) -> None:
        self.field_serializers = [NullableSerializer(s) for s in field_serializers]

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        if len(element) != len(self.field_serializers):
            raise ValueError(f"expected a tuple of {len(self.field_serializers)} fields, "
                             f"got {element!r}")
        for serializer, field in zip(self.field_serializers, element):
            serializer.serialize(field, stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        return tuple(s.deserialize(stream) for s in self.field_serializers)


class RowSerializer(TypeSerializer):
    """A Row: its kind (1 byte), then its fields; names come from the type."""

    def __init__(self, field_serializers: List[TypeSerializer],
                 field_names: Optional[List[str]] = None) -> None:
        self.field_serializers = [NullableSerializer(s) for s in field_serializers]
        self.field_names = field_names

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        from flink_py.common.types import Row
        kind = element.get_row_kind().value if isinstance(element, Row) else 0
        stream.write(bytes((kind,)))
        for serializer, field in zip(self.field_serializers, element):
            serializer.serialize(field, stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        from flink_py.common.types import Row, RowKind
        kind = RowKind(_read(stream, 1)[0])
        values = [s.deserialize(stream) for s in self.field_serializers]
        row = Row(*values)
        if self.field_names is not None:
            row.set_field_names(list(self.field_names))
        row.set_row_kind(kind)
        return row


class ListSerializer(TypeSerializer):
    """A list (or array): a length, then the elements."""

    def __init__(self, element_serializer: TypeSerializer) -> None:
        self.element_serializer = NullableSerializer(element_serializer)

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        stream.write(_LENGTH.pack(len(element)))
        for item in element:
            self.element_serializer.serialize(item, stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        count = _LENGTH.unpack(_read(stream, 4))[0]
        return [self.element_serializer.deserialize(stream) for _ in range(count)]


class MapSerializer(TypeSerializer):
    """A dict: a length, then key and value pairs."""

    def __init__(self, key_serializer: TypeSerializer, value_serializer: TypeSerializer) -> None:
        self.key_serializer = key_serializer
        self.value_serializer = NullableSerializer(value_serializer)

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        stream.write(_LENGTH.pack(len(element)))
        for key, value in element.items():
            self.key_serializer.serialize(key, stream)
            self.value_serializer.serialize(value, stream)

    def deserialize(self, stream: BinaryIO) -> Any:
        count = _LENGTH.unpack(_read(stream, 4))[0]
        result: Dict[Any, Any] = {}
        for _ in range(count):
            key = self.key_serializer.deserialize(stream)
            result[key] = self.value_serializer.deserialize(stream)
        return result


class VoidNamespaceSerializer(TypeSerializer):
    """The namespace of state without one: no bytes."""

    def serialize(self, element: Any, stream: BinaryIO) -> None:
        pass

    def deserialize(self, stream: BinaryIO) -> Any:
        return None


_BASIC: Dict[str, Callable[[], TypeSerializer]] = {
    "String": StringSerializer, "Boolean": BooleanSerializer, "Byte": ByteSerializer,
    "Short": ShortSerializer, "Integer": IntSerializer, "Long": LongSerializer,
    "Float": FloatSerializer, "Double": DoubleSerializer, "Char": CharSerializer,
    "BigInteger": BigIntSerializer, "BigDecimal": BigDecSerializer,
}


def serializer_for(type_info: Any) -> TypeSerializer:
    """The serializer of a ``TypeInformation`` (pickle for None, pickled and time types).

    :raises TypeError: if ``type_info`` is not a TypeInformation.
    """
    from flink_py.common import typeinfo as t
    if type_info is None or isinstance(type_info, t.PickledBytesTypeInfo):
        return PickleSerializer()
    if isinstance(type_info, t.ExternalTypeInfo):
        return serializer_for(type_info._type_info)
    if isinstance(type_info, t.BasicTypeInfo) and not isinstance(type_info, t.InstantTypeInfo):
        factory = _BASIC.get(type_info._basic_type.value)
        return factory() if factory is not None else PickleSerializer()
    if isinstance(type_info, t.TupleTypeInfo):
        return TupleSerializer([serializer_for(f) for f in type_info.get_field_types()])
    if isinstance(type_info, t.RowTypeInfo):
        return RowSerializer([serializer_for(f) for f in type_info.get_field_types()],
                             type_info._field_names and list(type_info._field_names))
    if isinstance(type_info, t.PrimitiveArrayTypeInfo):
        if type_info._element_type == t.Types.BYTE():
            return BytesSerializer()
        return ListSerializer(serializer_for(type_info._element_type))
    if isinstance(type_info, (t.BasicArrayTypeInfo, t.ObjectArrayTypeInfo)):
        return ListSerializer(serializer_for(type_info._element_type))
    if isinstance(type_info, t.ListTypeInfo):
        return ListSerializer(serializer_for(type_info.elem_type))
    if isinstance(type_info, t.MapTypeInfo):
        return MapSerializer(serializer_for(type_info._key_type_info),
                             serializer_for(type_info._value_type_info))
    if isinstance(type_info, t.TypeInformation):
        return PickleSerializer()  # dates, times, instants: Python objects as they are
    raise TypeError(f"expected a TypeInformation (Types.*), got {type_info!r}")


def needs_narrowing(type_info: Any) -> bool:
    """Whether values of ``type_info`` change in a round trip (they hold a FLOAT)."""
    from flink_py.common import typeinfo as t
    if type_info is None:
        return False
    if isinstance(type_info, t.BasicTypeInfo):
        return type_info._basic_type is t.BasicType.FLOAT
    if isinstance(type_info, t.ExternalTypeInfo):
        return needs_narrowing(type_info._type_info)
    if isinstance(type_info, (t.TupleTypeInfo, t.RowTypeInfo)):
        return any(needs_narrowing(f) for f in type_info.get_field_types())
    if isinstance(type_info, t.MapTypeInfo):
        return needs_narrowing(type_info._key_type_info) or needs_narrowing(
            type_info._value_type_info)
    element = getattr(type_info, "_element_type", getattr(type_info, "elem_type", None))
    return element is not None and needs_narrowing(element)

