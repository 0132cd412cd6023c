"""The columnar encoding of a buffer (``buffer_codec``, ``_buffer_codec.c``) gives back exactly
what was sent, or declines and the buffer is pickled.

Each buffer goes through the compiled encoder and then both decoders (the compiled ``loads``
and the pure Python one a process without the extension uses), and what comes out must be
equal to what went in *with the same exact types* (``True`` stays a bool and not 1, ``-0.0``
keeps its sign, a NaN keeps its bits). Buffers the encoding cannot carry exactly must make
``encode`` return None; malformed payloads must raise ValueError from both decoders, never
crash or return something.
"""

from __future__ import annotations

import math
import pickle
import random
import struct
from collections import namedtuple
from typing import Any, List, Optional

import pytest

from flink_py.common.types import Row
from flink_py.runtime.network import buffer_codec
from flink_py.runtime.network.buffer_codec import MAGIC, python_loads

_CODEC = buffer_codec._CODEC
compiled = pytest.mark.skipif(_CODEC is None, reason="_buffer_codec was not built "
                              "(or FLINK_PY_PURE_PYTHON is set)")


def _exact(value: Any) -> Any:
    """``value`` with every leaf tagged by its exact type and floats by their bits, so that
    equality means "the same objects": 1 == True and 0.0 == -0.0 would hide a wrong type."""
    if isinstance(value, float):
        return (float, struct.pack("<d", value))
    if isinstance(value, (list, tuple)):
        return (type(value), [_exact(v) for v in value])
    return (type(value), value)


def _round_trip(values: list, timestamps: Optional[list], keys: Optional[list]) -> bytes:
    """The buffer encoded; asserts that both decoders give it back exactly."""
    payload = _CODEC.encode(values, timestamps, keys)
    assert payload is not None, f"expected {values[:3]}... to be encoded"
    assert payload[0] == MAGIC
    sent = (values, timestamps) if keys is None else (values, timestamps, keys)
    for decode in (_CODEC.loads, python_loads):
        assert _exact(decode(payload)) == _exact(sent), decode
    return payload


@compiled
@pytest.mark.parametrize("values", [
    [(1, 2), (3, 4), (-(2 ** 63), 2 ** 63 - 1)],
    [("a", 1.5), ("", -0.0), ("héllo wörld 🎉", float("inf")), ("x" * 1000, -float("inf"))],
    [(True, "s", False), (False, "🎉🎉", True)],
    [(1,), (2,)],
    [tuple(range(64))] * 3,
    [1, 2, 3, -(2 ** 63)],
    [0.1, -0.0, 1e308, 5e-324],
    ["a", "", "日本語"],
    [True, False, True],
])
def test_round_trips_with_exact_types(values: list) -> None:
    _round_trip(values, None, None)
    _round_trip(values, list(range(len(values))), None)


@compiled
def test_nan_keeps_its_bits() -> None:
    quiet, payload_nan = float("nan"), struct.unpack("<d", struct.pack("<Q", 0x7FF0_0000_0000_0ABC))[0]
    payload = _round_trip([(quiet, 1), (payload_nan, 2)], None, None)
    for decode in (_CODEC.loads, python_loads):
        values, _ = decode(payload)
        assert math.isnan(values[0][0])
        assert struct.pack("<d", values[1][0]) == struct.pack("<Q", 0x7FF0_0000_0000_0ABC)


@compiled
def test_timestamps_travel_as_int64() -> None:
    timestamps = [0, -1, 2 ** 63 - 1, -(2 ** 63)]
    _round_trip([(i, i) for i in range(4)], timestamps, None)
    assert _CODEC.encode([(1, 1)], [None], None) is None  # a record without a timestamp
    assert _CODEC.encode([(1, 1)], [1.5], None) is None
    assert _CODEC.encode([(1, 1), (2, 2)], [1], None) is None  # lengths differ


@compiled
def test_keys_that_are_a_field_are_not_sent_twice() -> None:
    values = [(f"k{i % 5}", i) for i in range(100)]
    keys = [v[0] for v in values]  # the same objects, as a selector t[0] returns them
    payload = _round_trip(values, None, keys)
    assert payload[2] & 8, "expected the keys-are-field flag"
    # equal strings but other objects (a selector that builds its key): a column of their own
    separate = _round_trip(values, None, [f"k{i % 5}" for i in range(100)])
    assert not separate[2] & 8
    assert len(separate) > len(payload)
    for decode in (_CODEC.loads, python_loads):
        decoded_values, _, decoded_keys = decode(payload)
        assert all(k is v[0] for k, v in zip(decoded_keys, decoded_values))


@compiled
def test_keys_of_their_own_column() -> None:
    values = [(i, i * 2) for i in range(10)]
    _round_trip(values, None, [f"k{i}" for i in range(10)])
    _round_trip(values, list(range(10)), [float(i) for i in range(10)])
    _round_trip([1, 2, 3], None, [True, False, True])  # scalar records, keys of another type
    assert _CODEC.encode(values, None, [None] * 10) is None
    assert _CODEC.encode(values, None, [(i,) for i in range(10)]) is None


Point = namedtuple("Point", "x y")


@compiled
@pytest.mark.parametrize("values", [
    [(1, None)],
    [Row(1, 2), Row(3, 4)],
    [Point(1, 2)],
    [(2 ** 63, 1)],
    [(-(2 ** 63) - 1, 1)],
    [("\ud800", 1)],  # a lone surrogate: UTF-8 cannot hold it
    [(1, 2), (1.0, 2)],  # int and float in one column
    [(1, 2), (True, 2)],  # int and bool in one column
    [(1, 2), (1, 2, 3)],  # arities differ
    [tuple(range(65))],
    [(1, 2), 3],  # tuples and scalars
    [3, (1, 2)],
    [()],
    [b"bytes"],
    [[1, 2]],
    [],
    [1, "a"],
])
def test_what_it_cannot_carry_exactly_is_declined(values: list) -> None:
    assert _CODEC.encode(values, None, None) is None
    assert buffer_codec.encode(values, None, None) is None


@compiled
def test_not_a_list_is_declined() -> None:
    assert _CODEC.encode(((1, 2),), None, None) is None
    with pytest.raises(TypeError):
        _CODEC.encode([(1, 2)], None)  # type: ignore[call-arg]


@pytest.mark.parametrize("item", [([(1, None)], None), ([Row(1, "a")], [5]), {"a": 1}, None])
def test_anything_else_is_a_pickle(item: Any) -> None:
    payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    assert python_loads(payload) == item
    if _CODEC is not None:
        assert _CODEC.loads(payload) == item
    assert buffer_codec.loads(payload) == item


def _decoders() -> List[Any]:
    return [python_loads] + ([_CODEC.loads] if _CODEC is not None else [])


@compiled
def test_every_truncated_prefix_is_refused() -> None:
    payload = _round_trip([("ab", 1, 2.0, True), ("", -3, 0.5, False)], [7, 8], ["x", "y"])
    for end in range(1, len(payload)):
        for decode in _decoders():
            with pytest.raises(ValueError):
                decode(payload[:end])
    for decode in _decoders():
        with pytest.raises(ValueError, match="trailing"):
            decode(payload + b"\0")


def _header(flags: int, arity: int, count: int, version: int = 1) -> bytes:
    return struct.pack("<BBBBI", MAGIC, version, flags, arity, count)


@pytest.mark.parametrize("payload, message", [
    (_header(0, 0, 1, version=2) + b"q" + b"\0" * 8, "version"),
    (_header(0, 0, 1) + b"x" + b"\0" * 8, "unknown column type"),
    (_header(4, 2, 1) + b"qz" + b"\0" * 16, "unknown column type"),
    (_header(16, 0, 1) + b"q" + b"\0" * 8, "flags"),
    (_header(8, 0, 1) + b"q" + b"\0" * 8, "flags"),  # keys-are-field without keys
    (_header(4, 0, 1) + b"q" + b"\0" * 8, "arity"),
    (_header(0, 2, 1) + b"q" + b"\0" * 8, "arity"),
    (_header(4, 65, 1) + b"q" * 65 + b"\0" * 8 * 65, "arity"),
    (_header(4 | 2 | 8, 2, 1) + b"qq\x05" + b"\0" * 16, "key field"),
    (_header(2 | 8, 0, 1) + b"q\x00" + b"\0" * 8, "key field"),
    (_header(0, 0, 2 ** 32 - 1) + b"q" + b"\0" * 16, "truncated"),  # a count the bytes cannot hold
    (_header(0, 0, 2 ** 32 - 1) + b"s" + b"\0" * 16, "truncated"),
    (_header(0, 0, 2) + b"s" + struct.pack("<II", 1, 2 ** 32 - 1) + b"a", "truncated"),
])
def test_malformed_payloads_are_refused(payload: bytes, message: str) -> None:
    for decode in _decoders():
        with pytest.raises(ValueError, match=message):
            decode(payload)


def test_invalid_utf8_is_refused() -> None:
    payload = _header(0, 0, 1) + b"s" + struct.pack("<I", 2) + b"\xff\xfe"
    for decode in _decoders():
        with pytest.raises(ValueError):  # UnicodeDecodeError is one
            decode(payload)


def _random_field(rng: random.Random, code: str) -> Any:
    if code == "q":
        return rng.choice([0, 1, -1, 2 ** 63 - 1, -(2 ** 63), rng.randrange(-(2 ** 63), 2 ** 63)])
    if code == "d":
        return rng.choice([0.0, -0.0, math.inf, -math.inf, rng.uniform(-1e300, 1e300), rng.random()])
    if code == "?":
        return rng.random() < 0.5
    alphabet = "ab \u00e9\u65e5\U0001f389\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))


@compiled
def test_random_buffers_decode_alike_in_both_decoders() -> None:
    rng = random.Random(11)
    for _ in range(300):
        count = rng.randrange(1, 60)
        arity = rng.randrange(0, 6)
        codes = [rng.choice("qd?s") for _ in range(max(arity, 1))]
        if arity == 0:
            values: list = [_random_field(rng, codes[0]) for _ in range(count)]
        else:
            values = [tuple(_random_field(rng, c) for c in codes) for _ in range(count)]
        timestamps = ([rng.randrange(-(2 ** 63), 2 ** 63) for _ in range(count)]
                      if rng.random() < 0.5 else None)
        keys: Optional[list] = None
        if rng.random() < 0.5:
            if arity and rng.random() < 0.5:
                field = rng.randrange(arity)
                keys = [v[field] for v in values]
            else:
                key_code = rng.choice("qd?s")
                keys = [_random_field(rng, key_code) for _ in range(count)]
        _round_trip(values, timestamps, keys)


def test_loads_is_the_compiled_decoder_where_built() -> None:
    expected = python_loads if _CODEC is None else _CODEC.loads
    assert buffer_codec.loads is expected
    if _CODEC is None:
        assert buffer_codec.encode([(1, 2)], None, None) is None  # pickled then
