"""Typed serializers: a round trip per Types.* gives the value back (FLOAT narrowed to 32
bits, as PyFlink), and typed state narrows FLOAT values on both backends."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

from flink_py.common.key_groups import KeyGroupRange
from flink_py.common.serializer import (
    FloatSerializer, PickleSerializer, needs_narrowing, serializer_for)
from flink_py.common.typeinfo import Types
from flink_py.common.types import Row, RowKind
from flink_py.datastream.state import (
    ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor)
from flink_py.runtime.state.state_backend import (
    EmbeddedRocksDBStateBackend, HashMapStateBackend)


@pytest.mark.parametrize("type_info,value", [
    (Types.STRING(), "héllo"), (Types.BOOLEAN(), True), (Types.BYTE(), -5),
    (Types.SHORT(), 30000), (Types.INT(), -2 ** 31), (Types.LONG(), 2 ** 62),
    (Types.DOUBLE(), 0.1), (Types.CHAR(), "x"), (Types.BIG_INT(), -(10 ** 40)),
    (Types.BIG_DEC(), decimal.Decimal("1.2345678901234567890")),
    (Types.PICKLED_BYTE_ARRAY(), {"any": [1, 2]}),
    (Types.PRIMITIVE_ARRAY(Types.BYTE()), b"\x00\x01"),
    (Types.PRIMITIVE_ARRAY(Types.INT()), [1, 2, 3]),
    (Types.BASIC_ARRAY(Types.STRING()), ["a", None]),
    (Types.LIST(Types.LONG()), [1, 2]),
    (Types.MAP(Types.STRING(), Types.INT()), {"a": 1, "b": None}),
    (Types.TUPLE([Types.STRING(), Types.INT()]), ("a", None)),
])
def test_a_round_trip_gives_the_value_back(type_info: Any, value: Any) -> None:
    serializer = type_info.create_serializer()
    assert serializer.from_bytes(serializer.to_bytes(value)) == value


def test_rows_keep_their_names_and_kind() -> None:
    serializer = serializer_for(Types.ROW_NAMED(["name", "score"],
                                                [Types.STRING(), Types.DOUBLE()]))
    row = Row(name="Alice", score=1.5)
    row.set_row_kind(RowKind.UPDATE_AFTER)
    back = serializer.from_bytes(serializer.to_bytes(row))
    assert back == row and back.name == "Alice" and back.get_row_kind() is RowKind.UPDATE_AFTER


def test_a_float_comes_back_narrowed_to_32_bits_as_in_pyflink() -> None:
    assert isinstance(serializer_for(Types.FLOAT()), FloatSerializer)
    assert serializer_for(Types.TUPLE([Types.STRING(), Types.FLOAT()])).normalize(
        ("Alice", 110.1)) == ("Alice", 110.0999984741211)
    assert needs_narrowing(Types.ROW([Types.INT(), Types.LIST(Types.FLOAT())]))
    assert not needs_narrowing(Types.TUPLE([Types.STRING(), Types.DOUBLE()]))
    assert isinstance(serializer_for(None), PickleSerializer)


@pytest.mark.parametrize("backend_kind", ["hashmap", "rocksdb"])
def test_typed_state_narrows_floats_where_it_is_serialized(backend_kind: str,
                                                           tmp_path: Any) -> None:
    # rocksdb serializes every write; the hashmap backend hands back the object written, as
    # PyFlink's cached Python state does (PyFlink's own state_access example sums on it)
    if backend_kind == "rocksdb":
        pytest.importorskip("rocksdict")
        factory: Any = EmbeddedRocksDBStateBackend(local_dir=str(tmp_path))
    else:
        factory = HashMapStateBackend()
    backend = factory.create_keyed_state_backend(128, KeyGroupRange(0, 127), "typed")
    value = backend.get_partitioned_state(ValueStateDescriptor(
        "v", Types.TUPLE([Types.STRING(), Types.FLOAT()])))
    elements = backend.get_partitioned_state(ListStateDescriptor("l", Types.FLOAT()))
    mapping = backend.get_partitioned_state(MapStateDescriptor(
        "m", Types.STRING(), Types.FLOAT()))
    untyped = backend.get_partitioned_state(ValueStateDescriptor("u"))
    backend.set_current_key("k")
    value.update(("Alice", 110.1))
    elements.add(110.1)
    mapping.put("a", 110.1)
    untyped.update(110.1)
    narrowed = 110.0999984741211 if backend_kind == "rocksdb" else 110.1
    assert value.value() == ("Alice", narrowed)
    assert elements.get() == [narrowed]
    assert mapping.get("a") == narrowed
    assert untyped.value() == 110.1
    backend.dispose()
