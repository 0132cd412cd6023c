"""Key hashing and key-group assignment that place keys on the same subtasks as Flink.

Flink routes a keyed record in two steps (``KeyGroupRangeAssignment``)::

    key_group = MathUtils.murmurHash(key.hashCode()) % max_parallelism
    subtask   = key_group * parallelism // max_parallelism

so that placement equals Flink's, :func:`java_hash_code` reproduces Java's ``hashCode()`` of
the Java value a Python key becomes, and :func:`murmur_hash` reproduces Flink's
``MathUtils.murmurHash``. Python's built-in ``hash()`` is never used: it is salted per process
for ``str`` and ``bytes``, so two processes would disagree on a key's subtask.

PyFlink itself does not hand the user's key to Flink directly: its ``key_by`` wraps the key in
a one-field ``Row`` (``KeyByKeySelector``), holding the key's Java value when ``key_type`` is
given and ``cloudpickle.dumps(key)`` bytes when it is not (``Types.PICKLED_BYTE_ARRAY()``).
:func:`pyflink_key_by_hash_code` computes the hash of that wrapper; pass it as the
``hash_function`` of :class:`KeyGroupAssigner` to place keys exactly as a PyFlink job does.
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any, Callable, Iterator

from flink_py.errors import InvalidProgramError

__all__ = [
    "DEFAULT_LOWER_BOUND_MAX_PARALLELISM",
    "UPPER_BOUND_MAX_PARALLELISM",
    "KeyGroupAssigner",
    "KeyGroupRange",
    "assign_key_to_parallel_operator",
    "assign_to_key_group",
    "check_parallelism_preconditions",
    "compute_default_max_parallelism",
    "compute_key_group_for_key_hash",
    "compute_key_group_range_for_operator_index",
    "compute_operator_index_for_key_group",
    "java_boolean_hash_code",
    "java_bytes_hash_code",
    "java_double_hash_code",
    "java_float_hash_code",
    "java_hash_code",
    "java_int_hash_code",
    "java_long_hash_code",
    "java_string_hash_code",
    "murmur_hash",
    "pyflink_key_by_hash_code",
    "round_up_to_power_of_two",
]

#: Default lower bound of the max parallelism when none is configured (Flink: ``1 << 7``).
DEFAULT_LOWER_BOUND_MAX_PARALLELISM = 1 << 7
#: Inclusive upper bound of any (max) parallelism (Flink: ``1 << 15``).
UPPER_BOUND_MAX_PARALLELISM = 1 << 15

#: Protocol of the pickled bytes PyFlink hashes for untyped keys (``cloudpickle.dumps``).
PICKLE_PROTOCOL = 5

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_SIGN32 = 0x80000000
_INT_MIN = -(1 << 31)
_INT_MAX = (1 << 31) - 1
_LONG_MIN = -(1 << 63)
_LONG_MAX = (1 << 63) - 1
_CANONICAL_NAN_BITS = 0x7FF8000000000000
_CANONICAL_FLOAT_NAN_BITS = 0x7FC00000
_UTF16_NATIVE = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"

_pack_double = struct.Struct(">d").pack
_unpack_long = struct.Struct(">q").unpack
_pack_float = struct.Struct(">f").pack
_unpack_int = struct.Struct(">i").unpack

# Row kind byte values (Flink's RowKind.toByteValue(); PyFlink's RowKind values are the same).
_ROW_KIND_INSERT = 0


def _to_int32(value: int) -> int:
    value &= _MASK32
    return value - (1 << 32) if value & _SIGN32 else value


# --------------------------------------------------------------------------------------------
#  Java hashCode() of single values
# --------------------------------------------------------------------------------------------


def java_string_hash_code(value: str) -> int:
    """``String.hashCode()``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 code units.

    Characters outside the Basic Multilingual Plane count as two code units (a surrogate
    pair), as in Java.

    >>> java_string_hash_code("hello")
    99162322
    """
    if value.isascii():
        units: Any = value.encode("ascii")
    else:
        units = array("H", value.encode(_UTF16_NATIVE))
    h = 0
    for unit in units:
        h = (31 * h + unit) & _MASK32
    return h - (1 << 32) if h & _SIGN32 else h


def java_int_hash_code(value: int) -> int:
    """``Integer.hashCode()`` (also ``Short``/``Byte``): the value itself.

    :raises InvalidProgramError: If ``value`` does not fit a Java int.
    """
    if not _INT_MIN <= value <= _INT_MAX:
        raise InvalidProgramError(f"{value} does not fit a Java int (-2^31..2^31-1)")
    return value


def java_long_hash_code(value: int) -> int:
    """``Long.hashCode()``: ``(int) (value ^ (value >>> 32))``.

    >>> java_long_hash_code(-1)
    0
    """
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise InvalidProgramError(f"{value} does not fit a Java long (-2^63..2^63-1)")
    bits = value & _MASK64
    return _to_int32(bits ^ (bits >> 32))


def _big_integer_hash_code(value: int) -> int:
    # java.math.BigInteger.hashCode(): fold the 32-bit words of the magnitude (most
    # significant first) with 31, then multiply by the signum. PyFlink maps ints beyond a
    # long to BigInteger (Types.BIG_INT()).
    magnitude = -value if value < 0 else value
    h = 0
    for shift in range((magnitude.bit_length() + 31) // 32 * 32 - 32, -32, -32):
        h = (31 * h + ((magnitude >> shift) & _MASK32)) & _MASK32
    if value < 0:
        h = -h
    return _to_int32(h)


def _python_int_hash_code(value: int) -> int:
    if _INT_MIN <= value <= _INT_MAX:
        return value
    if _LONG_MIN <= value <= _LONG_MAX:
        bits = value & _MASK64
        return _to_int32(bits ^ (bits >> 32))
    return _big_integer_hash_code(value)


def java_boolean_hash_code(value: bool) -> int:
    """``Boolean.hashCode()``: 1231 for true, 1237 for false."""
    return 1231 if value else 1237


def java_double_hash_code(value: float) -> int:
    """``Double.hashCode()``: the two halves of ``doubleToLongBits`` xor-ed.

    NaN is canonicalised as ``doubleToLongBits`` does; ``0.0`` and ``-0.0`` differ.

    >>> java_double_hash_code(1.0)
    1072693248
    """
    if value != value:
        bits = _CANONICAL_NAN_BITS
    else:
        bits = _unpack_long(_pack_double(value))[0] & _MASK64
    return _to_int32(bits ^ (bits >> 32))


def java_float_hash_code(value: float) -> int:
    """``Float.hashCode()``: ``floatToIntBits`` of the value rounded to single precision."""
    if value != value:
        return _CANONICAL_FLOAT_NAN_BITS
    return _unpack_int(_pack_float(value))[0]


def java_bytes_hash_code(value: bytes | bytearray | memoryview) -> int:
    """``java.util.Arrays.hashCode(byte[])``, with bytes read as signed (-128..127).

    >>> java_bytes_hash_code(b"")
    1
    """
    h = 1
    for b in bytes(value):
        h = (31 * h + (b - 256 if b > 127 else b)) & _MASK32
    return h - (1 << 32) if h & _SIGN32 else h


def _tuple_hash_code(value: tuple) -> int:
    # Flink's TupleN.hashCode(): start from field 0's hash, then 31 * result + hash(field).
    # Tuple0.hashCode() is 0.
    if not value:
        return 0
    h = java_hash_code(value[0]) & _MASK32
    for field in value[1:]:
        h = (31 * h + java_hash_code(field)) & _MASK32
    return _to_int32(h)


def _list_hash_code(value: list) -> int:
    # java.util.List.hashCode(): start from 1 (Types.LIST keys arrive as a Java List).
    h = 1
    for element in value:
        h = (31 * h + java_hash_code(element)) & _MASK32
    return _to_int32(h)


def _map_hash_code(value: dict) -> int:
    # java.util.Map.hashCode(): sum over entries of hash(key) ^ hash(value).
    h = 0
    for k, v in value.items():
        h = (h + (java_hash_code(k) ^ java_hash_code(v))) & _MASK32
    return _to_int32(h)


def _row_kind_byte(row: Any) -> int:
    kind = row.get_row_kind()
    byte = getattr(kind, "value", kind)
    if isinstance(byte, int):
        return byte
    raise InvalidProgramError(
        f"Row kind {kind!r} of {row!r} has no byte value; expected a RowKind "
        "(INSERT=0, UPDATE_BEFORE=1, UPDATE_AFTER=2, DELETE=3)"
    )


def _row_field_hash_code(value: Any) -> int:
    # RowUtils.deepHashCodeInternal: null -> 0; lists/arrays and maps are hashed element-wise
    # with the same rule; anything else is Arrays.deepHashCode(new Object[] {value}),
    # i.e. 31 + hash(value) (Arrays.hashCode for a byte[]).
    if value is None:
        return 0
    if type(value) is list:
        h = 1
        for element in value:
            h = (31 * h + _row_field_hash_code(element)) & _MASK32
        return _to_int32(h)
    if type(value) is dict:
        h = 1
        for k, v in value.items():
            h = (h + (_row_field_hash_code(k) ^ _row_field_hash_code(v))) & _MASK32
        return _to_int32(h)
    return _to_int32(31 + java_hash_code(value))


def _row_hash_code_of(kind_byte: int, fields: Any) -> int:
    # Flink >= 1.13 RowUtils.deepHashCodeRow for a positional row:
    #   result = kind.toByteValue(); result = 31 * result + deepHashCodeArray(fields)
    # where deepHashCodeArray starts from 1 and folds 31 * h + deepHashCodeInternal(field).
    h = 1
    for field in fields:
        h = (31 * h + _row_field_hash_code(field)) & _MASK32
    return _to_int32(31 * kind_byte + h)


def _row_hash_code(row: Any) -> int:
    return _row_hash_code_of(_row_kind_byte(row), tuple(row))


def _pickled_hash_code(value: Any) -> int:
    return java_bytes_hash_code(_pickled_key_bytes(value))


def _pickled_key_bytes(value: Any) -> bytes:
    # key_hash builds on this module, so it is imported on first use, then called directly
    global _pickled_key_bytes
    from flink_py.common.key_hash import pickled_key_bytes
    _pickled_key_bytes = pickled_key_bytes
    return pickled_key_bytes(value)


_EXACT_TYPE_HASHERS: dict[type, Callable[[Any], int]] = {
    str: java_string_hash_code,
    int: _python_int_hash_code,
    bool: java_boolean_hash_code,
    float: java_double_hash_code,
    bytes: java_bytes_hash_code,
    bytearray: java_bytes_hash_code,
    type(None): lambda _value: 0,
    tuple: _tuple_hash_code,
    list: _list_hash_code,
    dict: _map_hash_code,
}


def java_hash_code(key: Any) -> int:
    """Java's ``hashCode()`` of the Java value PyFlink hands to Flink for ``key``.

    ======================  ===============================================================
    Python value            Java value and hash
    ======================  ===============================================================
    ``str``                 ``String.hashCode()`` over UTF-16 code units
    ``bool``                ``Boolean.hashCode()`` (1231 / 1237)
    ``int``                 ``Integer`` within int32, else ``Long`` within int64, else
                            ``BigInteger``
    ``float``               ``Double.hashCode()``
    ``None``                0
    ``bytes``/``bytearray`` ``Arrays.hashCode(byte[])`` with signed bytes
    ``tuple``               Flink ``TupleN.hashCode()`` (fold ``31 * h + hash(field)``
                            starting from field 0's hash)
    ``Row``                 Flink ``Row.hashCode()``: row kind byte and fields
    ``list`` / ``dict``     ``java.util.List`` / ``java.util.Map`` ``hashCode()``
    anything else           ``Arrays.hashCode`` of ``cloudpickle.dumps(key)`` (protocol 5)
    ======================  ===============================================================

    A Python ``int`` is mapped by its range: a key typed ``Types.LONG()`` that happens to
    fit an int has a different Java hash for negative values (use :func:`java_long_hash_code`
    when the type is known). The result is a signed 32-bit int.

    Example::

        >>> java_hash_code("hello"), java_hash_code(True), java_hash_code((1, "a"))
        (99162322, 1231, 128)
    """
    hasher = _EXACT_TYPE_HASHERS.get(type(key))
    if hasher is not None:
        return hasher(key)
    # Subclasses and duck-typed rows: decided by isinstance, off the common path.
    if hasattr(key, "get_row_kind"):
        return _row_hash_code(key)
    if isinstance(key, bool):
        return java_boolean_hash_code(key)
    if isinstance(key, int):
        return _python_int_hash_code(int(key))
    if isinstance(key, str):
        return java_string_hash_code(str(key))
    if isinstance(key, float):
        return java_double_hash_code(float(key))
    if isinstance(key, (bytes, bytearray, memoryview)):
        return java_bytes_hash_code(key)
    if isinstance(key, tuple):
        return _tuple_hash_code(tuple(key))
    if isinstance(key, list):
        return _list_hash_code(list(key))
    if isinstance(key, dict):
        return _map_hash_code(dict(key))
    return _pickled_hash_code(key)


def pyflink_key_by_hash_code(key: Any, *, pickled: bool = False) -> int:
    """The ``hashCode()`` of the key object PyFlink's ``key_by`` hands to Flink.

    PyFlink's ``KeyByKeySelector`` wraps the user's key in a one-field Java ``Row`` of kind
    INSERT. With ``key_type`` given, the field is the key's Java value
    (``pickled=False``); without it, the key type is ``Types.PICKLED_BYTE_ARRAY()`` and the
    field is the ``cloudpickle.dumps(key)`` bytes (``pickled=True``). The hash of a key
    declared with a ``key_type`` depends on that type (``Types.LONG()`` and ``Types.INT()``
    differ): :class:`flink_py.common.key_hash.KeyByKeyHash` computes it from the type; here
    the type is guessed from the Python value.

    :param key: The key returned by the key selector.
    :param pickled: Whether the job called ``key_by`` without a ``key_type``.
    :return: The signed 32-bit hash Flink's ``KeyGroupStreamPartitioner`` sees.

    Example::

        >>> pyflink_key_by_hash_code("hello") == 62 + java_hash_code("hello")
        True
    """
    field = _pickled_key_bytes(key) if pickled else key
    return _to_int32(31 * _ROW_KIND_INSERT + 31 + _row_field_hash_code(field))


# --------------------------------------------------------------------------------------------
#  Flink's MathUtils / KeyGroupRangeAssignment
# --------------------------------------------------------------------------------------------


def murmur_hash(code: int) -> int:
    """Flink's ``MathUtils.murmurHash(int)``: a non-negative, fully avalanched int hash.

    :param code: A (signed or unsigned) 32-bit hash code.
    :return: The hash, in ``0..2^31-1``.
    """
    code = (code & _MASK32) * 0xCC9E2D51 & _MASK32
    code = ((code << 15) | (code >> 17)) & _MASK32
    code = code * 0x1B873593 & _MASK32
    code = ((code << 13) | (code >> 19)) & _MASK32
    code = (code * 5 + 0xE6546B64) & _MASK32
    code ^= 4
    code ^= code >> 16
    code = code * 0x85EBCA6B & _MASK32
    code ^= code >> 13
    code = code * 0xC2B2AE35 & _MASK32
    code ^= code >> 16
    if code & _SIGN32:
        # Negative as a Java int: Flink returns -code, and 0 for Integer.MIN_VALUE.
        return 0 if code == _SIGN32 else (1 << 32) - code
    return code


def round_up_to_power_of_two(value: int) -> int:
    """Flink's ``MathUtils.roundUpToPowerOfTwo`` for positive values."""
    if value <= 1:
        return 1
    return 1 << (value - 1).bit_length()


def check_parallelism_preconditions(parallelism: int) -> None:
    """Checks ``0 < parallelism <= 32768`` (Flink's ``checkParallelismPreconditions``).

    :raises InvalidProgramError: If the parallelism is out of bounds or not an int.
    """
    if (
        isinstance(parallelism, bool)
        or not isinstance(parallelism, int)
        or not 0 < parallelism <= UPPER_BOUND_MAX_PARALLELISM
    ):
        raise InvalidProgramError(
            f"Operator parallelism not within bounds: {parallelism!r}; "
            f"expected an int in 1..{UPPER_BOUND_MAX_PARALLELISM}"
        )


def _check_max_parallelism(max_parallelism: int, parallelism: int | None = None) -> None:
    if (
        isinstance(max_parallelism, bool)
        or not isinstance(max_parallelism, int)
        or not 0 < max_parallelism <= UPPER_BOUND_MAX_PARALLELISM
    ):
        raise InvalidProgramError(
            f"Maximum parallelism not within bounds: {max_parallelism!r}; "
            f"expected an int in 1..{UPPER_BOUND_MAX_PARALLELISM}"
        )
    if parallelism is not None:
        check_parallelism_preconditions(parallelism)
        if parallelism > max_parallelism:
            raise InvalidProgramError(
                f"Parallelism {parallelism} is larger than the maximum parallelism "
                f"{max_parallelism}; the maximum parallelism must not be smaller than "
                "the parallelism"
            )


def compute_default_max_parallelism(parallelism: int) -> int:
    """The max parallelism Flink picks when none is configured.

    ``min(max(round_up_to_power_of_two(p + p // 2), 128), 32768)``.

    >>> compute_default_max_parallelism(1), compute_default_max_parallelism(100)
    (128, 256)
    """
    check_parallelism_preconditions(parallelism)
    return min(
        max(round_up_to_power_of_two(parallelism + parallelism // 2),
            DEFAULT_LOWER_BOUND_MAX_PARALLELISM),
        UPPER_BOUND_MAX_PARALLELISM,
    )


def compute_key_group_for_key_hash(key_hash: int, max_parallelism: int) -> int:
    """``murmur_hash(key_hash) % max_parallelism``."""
    return murmur_hash(key_hash) % max_parallelism


def assign_to_key_group(key: Any, max_parallelism: int) -> int:
    """The key group of ``key``: ``murmur_hash(java_hash_code(key)) % max_parallelism``.

    :param key: The key.
    :param max_parallelism: The number of key groups.
    :return: The key group, in ``0..max_parallelism-1``.
    """
    return murmur_hash(java_hash_code(key)) % max_parallelism


def compute_operator_index_for_key_group(
    max_parallelism: int, parallelism: int, key_group: int
) -> int:
    """The subtask that owns ``key_group``: ``key_group * parallelism // max_parallelism``."""
    return key_group * parallelism // max_parallelism


def assign_key_to_parallel_operator(key: Any, max_parallelism: int, parallelism: int) -> int:
    """The subtask index a key is routed to (Flink's ``assignKeyToParallelOperator``).

    Flink's Java API rejects a ``null`` key; PyFlink never passes one (keys are wrapped in a
    Row), and here ``None`` hashes to 0 like any other value.

    >>> assign_key_to_parallel_operator("hello", 128, 4) in range(4)
    True
    """
    return compute_operator_index_for_key_group(
        max_parallelism, parallelism, assign_to_key_group(key, max_parallelism)
    )


def compute_key_group_range_for_operator_index(
    max_parallelism: int, parallelism: int, operator_index: int
) -> "KeyGroupRange":
    """The key groups subtask ``operator_index`` owns (``computeKeyGroupRangeForOperatorIndex``).

    :raises InvalidProgramError: On a parallelism out of bounds, ``parallelism >
                                 max_parallelism``, or an index outside ``0..parallelism-1``.
    """
    _check_max_parallelism(max_parallelism, parallelism)
    if (
        isinstance(operator_index, bool)
        or not isinstance(operator_index, int)
        or not 0 <= operator_index < parallelism
    ):
        raise InvalidProgramError(
            f"Operator index {operator_index!r} out of range; expected 0..{parallelism - 1}"
        )
    start = (operator_index * max_parallelism + parallelism - 1) // parallelism
    end = ((operator_index + 1) * max_parallelism - 1) // parallelism
    return KeyGroupRange.of(start, end)


class KeyGroupRange:
    """A range of key groups with inclusive start and end, as Flink's ``KeyGroupRange``.

    An empty range is ``KeyGroupRange(0, -1)`` (:attr:`EMPTY`); any range whose end is
    below its start is normalised to it.

    Example::

        >>> r = KeyGroupRange.of_operator(128, 3, 1)
        >>> r, len(r), 43 in r
        (KeyGroupRange{startKeyGroup=43, endKeyGroup=85}, 43, True)
    """

    __slots__ = ("start_key_group", "end_key_group")

    EMPTY: "KeyGroupRange"

    def __init__(self, start: int, end: int) -> None:
        """:param start: First key group (inclusive, >= 0). :param end: Last key group
        (inclusive)."""
        for name, value in (("start", start), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidProgramError(f"Key group range {name} must be an int, got {value!r}")
        if end < start:
            start, end = 0, -1
        elif start < 0:
            raise InvalidProgramError(f"Key group range start must be >= 0, got {start}")
        self.start_key_group = start
        self.end_key_group = end

    @staticmethod
    def of(start: int, end: int) -> "KeyGroupRange":
        """The range ``start..end`` (inclusive), or :attr:`EMPTY` when ``start > end``."""
        return KeyGroupRange(start, end)

    @staticmethod
    def of_operator(max_parallelism: int, parallelism: int, operator_index: int) -> "KeyGroupRange":
        """The key groups owned by subtask ``operator_index`` of ``parallelism`` subtasks."""
        return compute_key_group_range_for_operator_index(
            max_parallelism, parallelism, operator_index
        )

    def get_start_key_group(self) -> int:
        """The first key group in the range."""
        return self.start_key_group

    def get_end_key_group(self) -> int:
        """The last key group in the range (inclusive)."""
        return self.end_key_group

    def get_number_of_key_groups(self) -> int:
        """How many key groups the range holds."""
        return 1 + self.end_key_group - self.start_key_group

    def contains(self, key_group: int) -> bool:
        """Whether ``key_group`` lies in this range."""
        return self.start_key_group <= key_group <= self.end_key_group

    def get_intersection(self, other: "KeyGroupRange") -> "KeyGroupRange":
        """The key groups in both ranges (possibly :attr:`EMPTY`)."""
        return KeyGroupRange.of(
            max(self.start_key_group, other.start_key_group),
            min(self.end_key_group, other.end_key_group),
        )

    def get_key_group_id(self, index: int) -> int:
        """The ``index``-th key group of the range."""
        if not 0 <= index < len(self):
            raise IndexError(f"Key group index {index} out of range 0..{len(self) - 1}")
        return self.start_key_group + index

    def __contains__(self, key_group: object) -> bool:
        return isinstance(key_group, int) and self.contains(key_group)

    def __len__(self) -> int:
        return 1 + self.end_key_group - self.start_key_group

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start_key_group, self.end_key_group + 1))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, KeyGroupRange)
            and self.start_key_group == other.start_key_group
            and self.end_key_group == other.end_key_group
        )

    def __hash__(self) -> int:
        return hash((self.start_key_group, self.end_key_group))

    def __repr__(self) -> str:
        return (
            f"KeyGroupRange{{startKeyGroup={self.start_key_group}, "
            f"endKeyGroup={self.end_key_group}}}"
        )


KeyGroupRange.EMPTY = KeyGroupRange(0, -1)


class KeyGroupAssigner:
    """Routes keys to subtasks for one keyed exchange; ``subtask_of`` is the per-record path.

    Everything that does not depend on the record is decided in ``__init__``: the bounds are
    checked once and the subtask of every key group is tabulated. Results for ``str`` and
    ``int`` keys are memoised in dicts bounded to ``cache_size`` entries (cleared when full),
    and ``bool`` keys in a third (a hash function for typed keys may not take every type,
    so nothing is hashed before a key arrives); other keys are hashed on every call.

    :param max_parallelism: Number of key groups (1..32768).
    :param parallelism: Number of subtasks (1..max_parallelism).
    :param hash_function: The key's 32-bit hash; :func:`java_hash_code` (the Java
                          ``hashCode()`` of the key's Java value) by default. Pass
                          :func:`pyflink_key_by_hash_code` (or a ``functools.partial`` of it
                          with ``pickled=True``) to place keys exactly as a PyFlink job does.
    :param cache_size: The bound of each memo dict.

    Example::

        >>> assigner = KeyGroupAssigner(128, 4)
        >>> assigner.subtask_of("hello") == assign_key_to_parallel_operator("hello", 128, 4)
        True
    """

    __slots__ = (
        "max_parallelism",
        "parallelism",
        "_hash",
        "_subtask_of_key_group",
        "_str_cache",
        "_int_cache",
        "_bool_cache",
        "_cache_size",
    )

    def __init__(
        self,
        max_parallelism: int,
        parallelism: int,
        hash_function: Callable[[Any], int] = java_hash_code,
        cache_size: int = 100_000,
    ) -> None:
        _check_max_parallelism(max_parallelism, parallelism)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise InvalidProgramError(f"cache_size must be an int >= 0, got {cache_size!r}")
        self.max_parallelism = max_parallelism
        self.parallelism = parallelism
        self._hash = hash_function
        self._subtask_of_key_group = [
            key_group * parallelism // max_parallelism for key_group in range(max_parallelism)
        ]
        self._str_cache: dict[str, int] = {}
        self._int_cache: dict[int, int] = {}
        self._cache_size = cache_size
        self._bool_cache: dict[bool, int] = {}

    def _compute(self, key: Any) -> int:
        return self._subtask_of_key_group[murmur_hash(self._hash(key)) % self.max_parallelism]

    def key_group_of(self, key: Any) -> int:
        """The key group of ``key`` under this assigner's hash function."""
        return murmur_hash(self._hash(key)) % self.max_parallelism

    def subtask_of(self, key: Any) -> int:
        """The subtask index (``0..parallelism-1``) that ``key`` is routed to."""
        # Exact type checks: True == 1 and 1.0 == 1 in a dict, but their Java hashes differ,
        # so each type keeps its own memo and subclasses skip memoisation.
        key_type = type(key)
        if key_type is str:
            cache = self._str_cache
        elif key_type is int:
            cache = self._int_cache
        elif key_type is bool:
            cache = self._bool_cache
        else:
            return self._subtask_of_key_group[
                murmur_hash(self._hash(key)) % self.max_parallelism
            ]
        subtask = cache.get(key)
        if subtask is None:
            subtask = self._subtask_of_key_group[
                murmur_hash(self._hash(key)) % self.max_parallelism
            ]
            if len(cache) >= self._cache_size:
                cache.clear()
            if self._cache_size:
                cache[key] = subtask
        return subtask

    def memos(self) -> tuple[dict[int, int], dict[str, int]]:
        """The memo dicts of exact ``int`` and ``str`` keys (key -> subtask), which
        :meth:`subtask_of` fills: a compiled router reads them and calls :meth:`subtask_of`
        on a miss."""
        return self._int_cache, self._str_cache

    def key_group_range_of(self, subtask_index: int) -> KeyGroupRange:
        """The key groups owned by subtask ``subtask_index``."""
        return compute_key_group_range_for_operator_index(
            self.max_parallelism, self.parallelism, subtask_index
        )

    def __repr__(self) -> str:
        return (
            f"KeyGroupAssigner(max_parallelism={self.max_parallelism}, "
            f"parallelism={self.parallelism}, hash_function={self._hash!r})"
        )
