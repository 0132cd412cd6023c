"""The columnar encoding of a data buffer that crosses processes (issue 11's "typed,
columnar encodings of a buffer").

A buffer is ``(values, timestamps)`` or, from a keyed exchange, ``(values, timestamps,
keys)`` (see ``record_writer``). When every value is a tuple of one arity whose every field
in a column has one exact type -- ``int`` that fits in 64 bits, ``float``, ``str``, ``bool``
-- or every value is a scalar of one such type, the buffer is sent as packed columns instead
of a pickle of tuples: a buffer of ``(int, int)`` records is two arrays of 64-bit integers.
``encode`` returns None for anything else (a ``None`` field, a tuple subclass such as
``Row``, an int past 64 bits, a ``str`` UTF-8 cannot hold, a column of mixed types), and the
sender pickles that buffer: what arrives is always exactly what was sent.

Layout (little-endian)::

    0xFC, version (1), flags (1 timestamps, 2 keys, 4 tuples), arity (0: scalars),
    uint32 record count,
    a type code per value column ('q' int64, 'd' float64, 's' str, '?' bool), then, when
    there are keys, the key column's code -- or, with flag 8, the index of the field each
    key is (the key selector returned that field of every record: it is not sent twice),
    each value column, then the timestamps (int64), then the keys' column; a str column is
    its uint32 UTF-8 lengths, then the bytes.

Encoding is compiled only (``_buffer_codec.c``: without it every buffer is pickled, which is
faster than encoding in Python). Decoding has a pure Python form too, so that a process
without the extension (``FLINK_PY_PURE_PYTHON``) still reads what a compiled peer sends.

Example::

    >>> payload = encode([(1, "a"), (2, "b")], None, [1, 2])
    >>> loads(payload) if payload is not None else ([(1, "a"), (2, "b")], None, [1, 2])
    ([(1, 'a'), (2, 'b')], None, [1, 2])
"""

from __future__ import annotations

import pickle
import struct
from array import array
from typing import Any, Callable, List, Optional

from flink_py.common.compiled import load_compiled

MAGIC = 0xFC
VERSION = 1
_FLAG_TIMESTAMPS, _FLAG_KEYS, _FLAG_TUPLES, _FLAG_KEYS_ARE_FIELD = 1, 2, 4, 8
_HEADER = struct.Struct("<BBBBI")

#: the compiled encoder and ``loads``, or None
_CODEC: Any = load_compiled("flink_py.runtime.network._buffer_codec")


def encode(values: list, timestamps: Optional[list], keys: Optional[list]) -> Optional[bytes]:
    """The buffer's columnar bytes, or None: its records do not fit the encoding, or the
    compiled codec is not there (pickle the buffer then)."""
    if _CODEC is None:
        return None
    result: Optional[bytes] = _CODEC.encode(values, timestamps, keys)
    return result


def python_loads(payload: bytes) -> Any:
    """``loads`` in pure Python: a columnar buffer decoded, anything else unpickled."""
    if not payload or payload[0] != MAGIC:
        return pickle.loads(payload)
    return _decode(memoryview(payload))


def _decode(data: memoryview) -> tuple:
    if len(data) < _HEADER.size:
        raise ValueError("truncated columnar buffer")
    _, version, flags, arity, count = _HEADER.unpack_from(data)
    if version != VERSION:
        raise ValueError(f"columnar buffer version {version}, expected {VERSION}")
    if flags & ~15 or (flags & _FLAG_KEYS_ARE_FIELD and not flags & _FLAG_KEYS):
        raise ValueError("bad flags in a columnar buffer")
    pos = _HEADER.size
    ncodes = arity if flags & _FLAG_TUPLES else 1
    if ncodes == 0 or ncodes > 64 or (not flags & _FLAG_TUPLES and arity != 0):
        raise ValueError("bad arity in a columnar buffer")
    if pos + ncodes + (1 if flags & _FLAG_KEYS else 0) > len(data):
        raise ValueError("truncated columnar buffer")
    codes = bytes(data[pos:pos + ncodes])
    pos += ncodes
    key_code = data[pos] if flags & _FLAG_KEYS else None
    pos += 1 if flags & _FLAG_KEYS else 0

    def column(code: int) -> List[Any]:
        nonlocal pos
        if code in b"qd":
            end = pos + 8 * count
            if end > len(data):
                raise ValueError("truncated columnar buffer")
            items = array(chr(code))
            items.frombytes(data[pos:end])
            pos = end
            return items.tolist()
        if code == ord("?"):
            end = pos + count
            if end > len(data):
                raise ValueError("truncated columnar buffer")
            flags_ = data[pos:end]
            pos = end
            return [b != 0 for b in flags_]
        if code == ord("s"):
            end = pos + 4 * count
            if end > len(data):
                raise ValueError("truncated columnar buffer")
            lengths = array("I")
            lengths.frombytes(data[pos:end])
            pos = end
            strings = []
            for length in lengths:
                if pos + length > len(data):
                    raise ValueError("truncated columnar buffer")
                strings.append(str(data[pos:pos + length], "utf-8"))
                pos += length
            return strings
        raise ValueError(f"unknown column type {code} in a columnar buffer")

    keys: Optional[list] = None
    if flags & _FLAG_TUPLES:
        columns = [column(code) for code in codes]
        values: list = list(zip(*columns))
        if flags & _FLAG_KEYS_ARE_FIELD:
            if key_code >= arity:  # type: ignore[operator]
                raise ValueError("bad key field in a columnar buffer")
            keys = [v[key_code] for v in values]  # type: ignore[index]
    else:
        values = column(codes[0])
    timestamps = column(ord("q")) if flags & _FLAG_TIMESTAMPS else None
    if flags & _FLAG_KEYS and keys is None:
        if flags & _FLAG_KEYS_ARE_FIELD:
            raise ValueError("bad key field in a columnar buffer")
        keys = column(key_code)  # type: ignore[arg-type]
    if pos != len(data):
        raise ValueError("trailing bytes after a columnar buffer")
    return (values, timestamps) if keys is None else (values, timestamps, keys)


#: an item's bytes as sent (a columnar buffer, or a pickle) back into the item
loads: Callable[[bytes], Any] = _CODEC.loads if _CODEC is not None else python_loads
