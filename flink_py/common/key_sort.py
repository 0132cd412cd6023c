"""The order Flink's BATCH execution gives a keyed input: by the key's serialized bytes.

A keyed operator of a BATCH job reads its input sorted (``SortingDataInput``): each record's
key is serialized with the key serializer, and records are ordered by those bytes compared
as signed Java bytes, shorter first on a common prefix (``VariableLengthByteKeyComparator``),
then by timestamp. The key of a PyFlink ``key_by`` is the one-field ``Row`` holding the key
(see :mod:`flink_py.common.key_hash`), so the bytes are ``RowSerializer``'s: one header byte
(row kind and null mask, 0 for an INSERT row with its field set), then the field:

* no ``key_type``: ``int32`` length + the ``cloudpickle.dumps(key)`` bytes;
* ``STRING``: ``StringValue.writeString`` (``len + 1`` and each UTF-16 unit as 7-bit groups,
  low first, the high bit marking "more");
* ``BOOLEAN``/``BYTE``/``SHORT``/``INT``/``LONG``/``CHAR``: 1/1/2/4/8/2 big-endian bytes;
  ``FLOAT``/``DOUBLE``: their IEEE bits, big-endian;
* ``TUPLE``: the fields back to back; ``ROW``: a mask header, then the non-null fields.

So ``"a"`` sorts before ``"Be"`` (shorter), and untyped int keys 128 and 200 before 0 (all
three pickle as a one-byte ``BININT1``, and 0x80 and 0xC8 are negative bytes). Keys of other
declared types (dates, decimals, collections) sort by their pickled bytes: a fixed order,
not Flink's.

:func:`sort_key_function` gives, for a key type, a function from a key to a Python ``bytes``
whose ordinary (unsigned) order is Flink's signed order: each byte has its sign bit flipped.

Example::

    >>> from flink_py.common.typeinfo import Types
    >>> words = ["No", "a", "Is", "Be"]
    >>> sorted(words, key=sort_key_function(Types.STRING()))
    ['a', 'Be', 'Is', 'No']
"""

from __future__ import annotations

import struct
from typing import Any, Callable, List, Optional

from flink_py.common.key_hash import pickled_key_bytes
from flink_py.common.typeinfo import (
    BasicType, BasicTypeInfo, PickledBytesTypeInfo, RowTypeInfo, TupleTypeInfo,
    TypeInformation)

__all__ = ["serialized_key", "sort_key_function"]

Serializer = Callable[[Any, bytearray], None]

# b ^ 0x80 for every byte: unsigned order of the result is the signed order of the input
_FLIP_SIGN = bytes(b ^ 0x80 for b in range(256))

_BE = {
    BasicType.BYTE: struct.Struct(">b"),
    BasicType.SHORT: struct.Struct(">h"),
    BasicType.INT: struct.Struct(">i"),
    BasicType.LONG: struct.Struct(">q"),
    BasicType.FLOAT: struct.Struct(">f"),
    BasicType.DOUBLE: struct.Struct(">d"),
    BasicType.CHAR: struct.Struct(">H"),
}
_INT32 = struct.Struct(">i")


def _write_varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _write_string(value: Any, out: bytearray) -> None:
    # org.apache.flink.types.StringValue.writeString over UTF-16 code units
    text = str(value)
    if text.isascii():
        _write_varint(len(text) + 1, out)
        out += text.encode("ascii")
        return
    units = text.encode("utf-16-be")
    _write_varint(len(units) // 2 + 1, out)
    for i in range(0, len(units), 2):
        _write_varint((units[i] << 8) | units[i + 1], out)


def _write_pickled(value: Any, out: bytearray) -> None:
    data = pickled_key_bytes(value)
    out += _INT32.pack(len(data))
    out += data


def _basic_serializer(basic: BasicType) -> Optional[Serializer]:
    if basic is BasicType.STRING:
        return _write_string
    if basic is BasicType.BOOLEAN:
        return lambda value, out: out.append(1 if value else 0)
    packer = _BE.get(basic)
    if packer is None:
        return None
    if basic is BasicType.CHAR:
        return lambda value, out: out.extend(packer.pack(ord(str(value)[:1])))
    if basic in (BasicType.FLOAT, BasicType.DOUBLE):
        return lambda value, out: out.extend(packer.pack(float(value)))
    return lambda value, out: out.extend(packer.pack(int(value)))


def _row_mask(values: List[Any], kind: int) -> bytes:
    # RowSerializer's header: 2 row kind bits then one null bit per field, most significant
    # bit first, in ceil((2 + arity) / 8) bytes
    bits = [bool(kind & 2), bool(kind & 1)] + [v is None for v in values]
    mask = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            mask[i // 8] |= 0x80 >> (i % 8)
    return bytes(mask)


def _serializer(type_info: Optional[TypeInformation]) -> Serializer:
    if type_info is None or isinstance(type_info, PickledBytesTypeInfo):
        return _write_pickled
    if isinstance(type_info, BasicTypeInfo):
        basic = _basic_serializer(type_info._basic_type)
        if basic is not None:
            return basic
    elif isinstance(type_info, TupleTypeInfo):
        fields = [_serializer(t) for t in type_info.get_field_types()]

        def write_tuple(value: Any, out: bytearray) -> None:
            for write, field in zip(fields, value):
                write(field, out)
        return write_tuple
    elif isinstance(type_info, RowTypeInfo):
        row_fields = [_serializer(t) for t in type_info.get_field_types()]

        def write_row(value: Any, out: bytearray) -> None:
            values = list(value)
            get_kind = getattr(value, "get_row_kind", None)
            kind = int(getattr(get_kind(), "value", 0)) if get_kind is not None else 0
            out += _row_mask(values, kind)
            for write, field in zip(row_fields, values):
                if field is not None:
                    write(field, out)
        return write_row
    # dates, decimals, collections: not Flink's bytes, but a fixed order all the same
    return _write_pickled


def serialized_key(key: Any, key_type: Optional[TypeInformation] = None) -> bytes:
    """The bytes Flink's key serializer writes for the ``key_by`` key ``key``: the one-field
    Row of kind INSERT holding it (``key_type`` None: the pickled key).

    >>> from flink_py.common.typeinfo import Types
    >>> serialized_key(-1, Types.INT())
    b'\\x00\\xff\\xff\\xff\\xff'
    """
    out = bytearray(_row_mask([key], 0))
    if key is not None or key_type is None or isinstance(key_type, PickledBytesTypeInfo):
        _serializer(key_type)(key, out)
    return bytes(out)


def sort_key_function(key_type: Optional[TypeInformation] = None) -> Callable[[Any], bytes]:
    """A function of a key whose results sort as Flink's BATCH execution sorts the keys.

    :param key_type: The ``key_type`` of the ``key_by`` (None: pickled keys).
    """
    write = _serializer(key_type)
    pickled = key_type is None or isinstance(key_type, PickledBytesTypeInfo)
    header_of_set_field = _row_mask([0], 0)
    header_of_null = _row_mask([None], 0)

    def sort_key(key: Any) -> bytes:
        if key is None and not pickled:
            return header_of_null.translate(_FLIP_SIGN)
        out = bytearray(header_of_set_field)
        write(key, out)
        return bytes(out).translate(_FLIP_SIGN)
    return sort_key
