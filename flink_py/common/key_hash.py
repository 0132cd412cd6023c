"""The hash a PyFlink ``key_by`` routes a key with, decided by the ``key_type`` it declares.

PyFlink's ``key_by`` does not hand the user's key to Flink as it is. It emits
``Row(key, value)`` with the type ``Types.ROW([key_type, value_type])`` and keys the Java
stream by ``KeyByKeySelector``, which returns the one-field ``Row`` holding the key as Java
deserialized it. Flink's ``KeyGroupStreamPartitioner`` then takes that wrapper's
``hashCode()`` (``RowUtils.deepHashCodeRow``), ``murmur_hash``-es it and picks the key group.
So the Java hash of a key depends on its declared type:

* no ``key_type`` (``Types.PICKLED_BYTE_ARRAY()``): the field is a ``byte[]`` holding
  ``cloudpickle.dumps(key)`` (protocol 5), hashed with ``Arrays.hashCode(byte[])``;
* ``Types.INT()``/``SHORT()``/``BYTE()``: ``Integer``/``Short``/``Byte``, hash = value;
  ``Types.LONG()``: ``Long.hashCode`` (so ``-6`` hashes as 5, not as -6);
* ``Types.FLOAT()``: ``Float.hashCode`` of the value rounded to 32 bits;
  ``Types.DOUBLE()``: ``Double.hashCode``;
* ``Types.STRING()``, ``BOOLEAN()``, ``CHAR()``, ``BIG_INT()``: their Java ``hashCode()``;
* ``Types.TUPLE([...])``: Flink's ``TupleN.hashCode()`` over the typed fields;
* ``Types.ROW([...])``/``ROW_NAMED``: ``Row.hashCode()`` over the typed fields (a
  deserialized row is positional, so named rows hash as positional ones);
* ``Types.LIST``/``MAP`` and arrays: ``java.util.List``/``Map``/array hashes of the typed
  elements.

Other declared types (dates, times, decimals) hash by the Python value's nearest Java value
(:func:`flink_py.common.key_groups.java_hash_code`).

All hashes were checked against Flink 2.3's own classes on a JVM (``tests/unit/common/
test_key_hash.py``) and the routing against real PyFlink 2.3 (``tests/fixtures/pyflink/
key_routing.py``).

Example::

    >>> KeyByKeyHash(None)("hello") == KeyByKeyHash(None)("hello")
    True
    >>> from flink_py.common.typeinfo import Types
    >>> KeyByKeyHash(Types.INT())(-6), KeyByKeyHash(Types.LONG())(-6)
    (56, 67)
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from typing import Any, Callable, Optional

from flink_py.common.key_groups import (
    _big_integer_hash_code, java_boolean_hash_code, java_bytes_hash_code,
    java_double_hash_code, java_float_hash_code, java_hash_code, java_long_hash_code,
    java_string_hash_code)
from flink_py.common.typeinfo import (
    BasicArrayTypeInfo, BasicType, BasicTypeInfo, ListTypeInfo, MapTypeInfo,
    ObjectArrayTypeInfo, PickledBytesTypeInfo, PrimitiveArrayTypeInfo, RowTypeInfo,
    TupleTypeInfo, TypeInformation)

__all__ = ["KeyByKeyHash", "PICKLE_PROTOCOL", "pickled_key_bytes", "typed_java_hash_code"]

#: The protocol of ``cloudpickle.dumps`` (``pickle.HIGHEST_PROTOCOL``), with which PyFlink's
#: ``PICKLED_BYTE_ARRAY`` coder pickles an untyped key before Java hashes the bytes.
PICKLE_PROTOCOL = 5

_MASK32 = 0xFFFFFFFF
_OUR_PACKAGE = "flink_py"
_OUR_PACKAGE_BYTES = _OUR_PACKAGE.encode()
_PYFLINK_PACKAGE = "pyflink"

Hasher = Callable[[Any], int]

_RENAMED_MODULES: dict = {}


def _to_int32(value: int) -> int:
    value &= _MASK32
    return value - (1 << 32) if value & 0x80000000 else value


class _PyFlinkNamesPickler(pickle._Pickler):  # type: ignore[name-defined]
    """Python's pickler, writing ``flink_py.X`` globals (``Row``'s ``_create_row``, ``RowKind``)
    as PyFlink's ``pyflink.X``, so the bytes are the bytes PyFlink pickles."""

    def save_global(self, obj: Any, name: Optional[str] = None) -> None:
        module = getattr(obj, "__module__", None) or ""
        if self.proto >= 4 and (module == _OUR_PACKAGE or module.startswith(_OUR_PACKAGE + ".")):
            # one string object per module, so a second global of it is a memo reference
            # (``BINGET``) as in the C pickler
            renamed = _RENAMED_MODULES.setdefault(
                module, sys.intern(_PYFLINK_PACKAGE + module[len(_OUR_PACKAGE):]))
            self.save(renamed)
            self.save(name or obj.__qualname__)
            self.write(pickle.STACK_GLOBAL)
            self.memoize(obj)
            return
        super().save_global(obj, name)

    # the base class's table names its own save_global for functions (Row's _create_row)
    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]
    dispatch[types.FunctionType] = save_global


def pickled_key_bytes(key: Any) -> bytes:
    """The bytes PyFlink's ``key_by`` without ``key_type`` hands to Java for ``key``.

    PyFlink pickles the key with ``cloudpickle.dumps`` (protocol 5), which writes plain data
    (numbers, strings, tuples, lists, dicts) as ``pickle.dumps`` does. A ``Row`` is written by
    reference to ``pyflink.common.types``; ours is written with the same names.

    :param key: The key the key selector returned.
    :return: The pickled key.
    """
    data = pickle.dumps(key, protocol=PICKLE_PROTOCOL)
    if _OUR_PACKAGE_BYTES not in data:
        return data
    buffer = io.BytesIO()
    _PyFlinkNamesPickler(buffer, PICKLE_PROTOCOL).dump(key)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
#  Java hashCode() of a value of a declared type
# --------------------------------------------------------------------------------------------


def _int_hash(value: Any) -> int:
    return _to_int32(int(value))


def _char_hash(value: Any) -> int:
    # Character.hashCode(): the UTF-16 code unit.
    return java_string_hash_code(str(value)[:1])


_BASIC_HASHERS: dict = {
    BasicType.STRING: lambda v: java_string_hash_code(str(v)),
    BasicType.BOOLEAN: lambda v: java_boolean_hash_code(bool(v)),
    BasicType.BYTE: _int_hash,
    BasicType.SHORT: _int_hash,
    BasicType.INT: _int_hash,
    BasicType.LONG: lambda v: java_long_hash_code(int(v)),
    BasicType.FLOAT: lambda v: java_float_hash_code(float(v)),
    BasicType.DOUBLE: lambda v: java_double_hash_code(float(v)),
    BasicType.CHAR: _char_hash,
    BasicType.BIG_INT: lambda v: _big_integer_hash_code(int(v)),
}


def _nullable(hasher: Hasher) -> Hasher:
    return lambda value: 0 if value is None else hasher(value)


def _fold(start: int, element_hash: Hasher) -> Hasher:
    def fold(values: Any) -> int:
        h = start
        for element in values:
            h = (31 * h + element_hash(element)) & _MASK32
        return _to_int32(h)
    return fold


def _map_sum(start: int, key_hash: Hasher, value_hash: Hasher) -> Hasher:
    def hash_map(mapping: Any) -> int:
        h = start
        for k, v in mapping.items():
            h = (h + (key_hash(k) ^ value_hash(v))) & _MASK32
        return _to_int32(h)
    return hash_map


def _row_kind_byte(row: Any) -> int:
    get_kind = getattr(row, "get_row_kind", None)
    if get_kind is None:
        return 0
    kind = get_kind()
    return int(getattr(kind, "value", kind))


def _value_hasher(type_info: TypeInformation) -> Hasher:
    """``hashCode()`` of the Java object ``type_info``'s serializer makes of a Python value
    (never called with None: see :func:`_nullable`)."""
    if isinstance(type_info, BasicTypeInfo):
        basic = _BASIC_HASHERS.get(type_info._basic_type)
        if basic is not None:
            return basic
    elif isinstance(type_info, TupleTypeInfo):
        # TupleN.hashCode(): field 0's hash, then 31 * h + hash(field i); Tuple0 is 0.
        fields = [_nullable(_value_hasher(t)) for t in type_info.get_field_types()]

        def hash_tuple(value: Any) -> int:
            h = 0
            for i, (hasher, field) in enumerate(zip(fields, value)):
                h = hasher(field) if i == 0 else (31 * h + hasher(field)) & _MASK32
            return _to_int32(h)
        return hash_tuple
    elif isinstance(type_info, RowTypeInfo):
        fold_fields = _row_fields_hasher(type_info)
        return lambda row: _to_int32(31 * _row_kind_byte(row) + fold_fields(row))
    elif isinstance(type_info, ListTypeInfo):
        # java.util.List.hashCode()
        return _fold(1, _nullable(_value_hasher(type_info.elem_type)))
    elif isinstance(type_info, MapTypeInfo):
        # java.util.Map.hashCode(): the sum of hash(key) ^ hash(value)
        return _map_sum(0, _nullable(_value_hasher(type_info._key_type_info)),
                        _nullable(_value_hasher(type_info._value_type_info)))
    elif isinstance(type_info, PickledBytesTypeInfo):
        return lambda value: java_bytes_hash_code(pickled_key_bytes(value))
    return java_hash_code


def _array_hasher(type_info: TypeInformation) -> Optional[Hasher]:
    """``Arrays.hashCode`` of a primitive array, as a Row field hashes it."""
    if isinstance(type_info, PrimitiveArrayTypeInfo):
        element = type_info._element_type
        if isinstance(element, BasicTypeInfo) and element._basic_type is BasicType.BYTE:
            return lambda value: java_bytes_hash_code(
                bytes(v & 0xFF for v in value) if isinstance(value, (list, tuple)) else value)
        return _fold(1, _value_hasher(element))
    return None


def _row_field_hasher(type_info: TypeInformation) -> Hasher:
    """``RowUtils.deepHashCodeInternal`` of a Row field of type ``type_info``."""
    if isinstance(type_info, (ListTypeInfo, BasicArrayTypeInfo, ObjectArrayTypeInfo)):
        # a java.util.List or an Object[]: folded from 1 with each element's deep hash
        element = (type_info.elem_type if isinstance(type_info, ListTypeInfo)
                   else type_info._element_type)
        hasher = _fold(1, _row_field_hasher(element))
    elif isinstance(type_info, MapTypeInfo):
        # a java.util.Map: 1 + the sum of deep hash(key) ^ deep hash(value)
        hasher = _map_sum(1, _row_field_hasher(type_info._key_type_info),
                          _row_field_hasher(type_info._value_type_info))
    else:
        # anything else is Arrays.deepHashCode(new Object[] {field}): 31 + its hash
        array = _array_hasher(type_info)
        element_hash = array if array is not None else _value_hasher(type_info)
        hasher = lambda value: _to_int32(31 + element_hash(value))  # noqa: E731
    return _nullable(hasher)


def _row_fields_hasher(type_info: RowTypeInfo) -> Hasher:
    fields = [_row_field_hasher(t) for t in type_info.get_field_types()]

    def fold_fields(row: Any) -> int:
        h = 1
        for hasher, field in zip(fields, row):
            h = (31 * h + hasher(field)) & _MASK32
        return h
    return fold_fields


def typed_java_hash_code(value: Any, type_info: TypeInformation) -> int:
    """Java's ``hashCode()`` of the object a value of the declared ``type_info`` is in Java.

    >>> from flink_py.common.typeinfo import Types
    >>> typed_java_hash_code(-6, Types.INT()), typed_java_hash_code(-6, Types.LONG())
    (-6, 5)
    """
    return 0 if value is None else _value_hasher(type_info)(value)


class KeyByKeyHash:
    """The ``hashCode()`` Flink routes a key of a PyFlink ``key_by(..., key_type)`` with.

    It is the hash of the one-field ``Row`` that holds the key (pickled when ``key_type`` is
    None or ``Types.PICKLED_BYTE_ARRAY()``): the hash function of the key_by's partitioner
    and of the keyed state backend after it, which must agree.

    :param key_type: The ``key_type`` given to ``key_by``, or None.
    """

    __slots__ = ("key_type", "_field_hash")

    def __init__(self, key_type: Optional[TypeInformation] = None) -> None:
        if key_type is not None and not isinstance(key_type, TypeInformation):
            raise TypeError(f"key_type must be a TypeInformation or None, got {key_type!r}")
        self.key_type = key_type
        if key_type is None or isinstance(key_type, PickledBytesTypeInfo):
            # a byte[] field (never null: None pickles too): 31 + Arrays.hashCode(bytes)
            self._field_hash: Hasher = lambda key: _to_int32(
                31 + java_bytes_hash_code(pickled_key_bytes(key)))
        else:
            self._field_hash = _row_field_hasher(key_type)

    @property
    def pickled(self) -> bool:
        """Whether keys are hashed as their pickled bytes (no ``key_type``)."""
        return self.key_type is None or isinstance(self.key_type, PickledBytesTypeInfo)

    def __call__(self, key: Any) -> int:
        # Row kind INSERT (0): 31 * 0 + (31 * 1 + deepHashCodeInternal(key))
        return _to_int32(31 + self._field_hash(key))

    def __reduce__(self) -> Any:
        return KeyByKeyHash, (self.key_type,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyByKeyHash) and (
            (self.pickled and other.pickled) or self.key_type == other.key_type)

    def __hash__(self) -> int:
        return hash(("KeyByKeyHash", None if self.pickled else self.key_type))

    def __repr__(self) -> str:
        return f"KeyByKeyHash({self.key_type!r})"
