"""Stream partitioners routing whole buffers: which channel gets which records (and timestamps)."""

from __future__ import annotations

import pickle
import struct
from collections import Counter
from typing import Dict, List, Optional, Tuple

import pytest

from flink_py.common.key_groups import (
    PICKLE_PROTOCOL, assign_to_key_group, compute_operator_index_for_key_group, java_hash_code,
    murmur_hash, pyflink_key_by_hash_code)
from flink_py.common.typeinfo import Types
from flink_py.errors import UserFunctionError
from flink_py.runtime.network.partitioners import (
    BroadcastPartitioner, CustomPartitionerWrapper, ForwardPartitioner, GlobalPartitioner,
    KeyGroupStreamPartitioner, RebalancePartitioner, RescalePartitioner, ShufflePartitioner,
    StreamPartitioner)


def _setup(partitioner: StreamPartitioner, channels: int,
           max_parallelism: int = 128) -> StreamPartitioner:
    partitioner = partitioner.copy()
    partitioner.setup(channels, max_parallelism)
    return partitioner


def _collect(partitioner: StreamPartitioner, buffers: List[list], channels: int,
             with_timestamps: bool = False) -> Tuple[Dict[int, list], Dict[int, list]]:
    """Routes ``buffers`` in order; returns the values and timestamps each channel got."""
    values: Dict[int, list] = {c: [] for c in range(channels)}
    stamps: Dict[int, list] = {c: [] for c in range(channels)}
    for buffer in buffers:
        timestamps = [_ts(v) for v in buffer] if with_timestamps else None
        routed = partitioner.route(buffer, timestamps)
        seen = [c for c, _, _ in routed]
        assert len(seen) == len(set(seen)), f"a channel appears twice in one route: {seen}"
        for channel, vals, tss in routed:
            assert 0 <= channel < channels
            assert vals, "a routed sub-buffer must not be empty"
            values[channel].extend(vals)
            if with_timestamps:
                assert tss is not None and len(tss) == len(vals)
                stamps[channel].extend(tss)
            else:
                assert tss is None
    return values, stamps


def _ts(value) -> int:
    return 1_000_000 + (value[1] if isinstance(value, tuple) else value) * 7


def _buffers(n: int, size: int) -> List[list]:
    records = list(range(n))
    return [records[i:i + size] for i in range(0, n, size)]


# -- forward / global / broadcast -------------------------------------------------------------


def test_forward_sends_everything_to_the_single_channel() -> None:
    partitioner = _setup(ForwardPartitioner(), 1)
    values, stamps = _collect(partitioner, _buffers(10, 4), 1, with_timestamps=True)
    assert values == {0: list(range(10))}
    assert stamps[0] == [_ts(v) for v in range(10)]
    assert ForwardPartitioner.is_pointwise and ForwardPartitioner.ship_strategy == "FORWARD"


def test_global_sends_everything_to_channel_zero() -> None:
    partitioner = _setup(GlobalPartitioner(), 4)
    values, stamps = _collect(partitioner, _buffers(25, 7), 4, with_timestamps=True)
    assert values == {0: list(range(25)), 1: [], 2: [], 3: []}
    assert stamps[0] == [_ts(v) for v in range(25)]
    assert not GlobalPartitioner.is_pointwise


def test_broadcast_gives_every_channel_every_record_in_order() -> None:
    partitioner = _setup(BroadcastPartitioner(), 3)
    values, stamps = _collect(partitioner, _buffers(11, 4), 3, with_timestamps=True)
    assert values == {c: list(range(11)) for c in range(3)}
    assert all(stamps[c] == [_ts(v) for v in range(11)] for c in range(3))
    assert BroadcastPartitioner.is_broadcast


# -- round robin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("buffer_size", [1, 3, 5, 64])
def test_rebalance_is_round_robin_continuing_across_buffers(channels: int,
                                                             buffer_size: int) -> None:
    n = 200
    partitioner = _setup(RebalancePartitioner(), channels)
    values, stamps = _collect(partitioner, _buffers(n, buffer_size), channels,
                              with_timestamps=True)

    channel_of = {v: c for c, vs in values.items() for v in vs}
    assert sorted(channel_of) == list(range(n))
    start = channel_of[0]
    assert all(channel_of[i] == (start + i) % channels for i in range(n))
    counts = [len(values[c]) for c in range(channels)]
    assert max(counts) - min(counts) <= 1
    assert all(abs(count - n / channels) <= 1 for count in counts)
    for c in range(channels):
        assert values[c] == sorted(values[c])  # order within a channel is preserved
        assert stamps[c] == [_ts(v) for v in values[c]]


def test_rebalance_starts_at_a_random_channel() -> None:
    starts = set()
    for _ in range(200):
        partitioner = _setup(RebalancePartitioner(), 4)
        ((channel, _, _),) = partitioner.route([0], None)
        starts.add(channel)
    # Flink starts at a random channel; 200 draws of 4 channels cover them all.
    assert starts == {0, 1, 2, 3}


@pytest.mark.parametrize("channels", [1, 2, 3, 5])
def test_rescale_is_round_robin_starting_at_channel_zero(channels: int) -> None:
    n = 53
    partitioner = _setup(RescalePartitioner(), channels)
    values, stamps = _collect(partitioner, _buffers(n, 4), channels, with_timestamps=True)

    for c in range(channels):
        assert values[c] == list(range(c, n, channels))
        assert stamps[c] == [_ts(v) for v in values[c]]
    assert RescalePartitioner.is_pointwise


def test_copies_keep_independent_round_robin_state() -> None:
    template = RescalePartitioner()
    first = _setup(template, 3)
    first.route([0, 1], None)  # next is channel 2
    second = _setup(template, 3)
    assert [c for c, _, _ in second.route([0], None)] == [0]
    assert [c for c, _, _ in first.route([0], None)] == [2]


# -- shuffle ---------------------------------------------------------------------------------------


def test_shuffle_delivers_every_record_exactly_once_spread_over_channels() -> None:
    n, channels = 4000, 4
    partitioner = _setup(ShufflePartitioner(), channels)
    values, stamps = _collect(partitioner, _buffers(n, 100), channels, with_timestamps=True)

    delivered = [v for c in range(channels) for v in values[c]]
    assert sorted(delivered) == list(range(n))
    counts = [len(values[c]) for c in range(channels)]
    # Uniform: expect 1000 each; 700 is > 10 standard deviations away.
    assert min(counts) > 700, counts
    for c in range(channels):
        assert values[c] == sorted(values[c])
        assert stamps[c] == [_ts(v) for v in values[c]]


def test_shuffle_to_one_channel() -> None:
    partitioner = _setup(ShufflePartitioner(), 1)
    assert partitioner.route([1, 2, 3], None) == [(0, [1, 2, 3], None)]


# -- key groups --------------------------------------------------------------------------------


def _java_string_hash(text: str) -> int:
    """Java's String.hashCode, written independently of flink_py: UTF-16 units, int32 wrap."""
    data = text.encode("utf-16-be")
    h = 0
    for (unit,) in struct.iter_unpack(">H", data):
        h = (h * 31 + unit) % (1 << 32)
    return struct.unpack(">i", struct.pack(">I", h))[0]


def _murmur3_32(data: bytes, seed: int = 0) -> int:
    """The reference MurmurHash3_x86_32 over bytes (unsigned result)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    h = seed
    blocks = len(data) // 4
    for (k,) in struct.iter_unpack("<I", data[:blocks * 4]):
        k = rotl((k * c1) & mask, 15) * c2 & mask
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & mask
    tail = data[blocks * 4:]
    k = 0
    for i, byte in enumerate(tail):
        k |= byte << (8 * i)
    if tail:
        k = rotl((k * c1) & mask, 15) * c2 & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def _flink_murmur(code: int) -> int:
    """Flink's MathUtils.murmurHash(int): murmur3 of the int's 4 bytes, made non-negative."""
    h = _murmur3_32(struct.pack("<i", code))
    signed = struct.unpack("<i", struct.pack("<I", h))[0]
    if signed >= 0:
        return signed
    return 0 if signed == -(1 << 31) else -signed


def test_reference_murmur3_matches_published_vectors() -> None:
    # Well-known MurmurHash3_x86_32 test vectors (seed 0).
    assert _murmur3_32(b"") == 0
    assert _murmur3_32(b"\x00\x00\x00\x00") == 0x2362F9DE
    assert _murmur3_32(b"\x21\x43\x65\x87") == 0xF55B516B
    assert _murmur3_32(b"test") == 0xBA6BD213
    assert _murmur3_32(b"Hello, world!") == 0xC0363E43


@pytest.mark.parametrize("text, java", [("hello", 99162322), ("", 0), ("a", 97),
                                         ("Aa", 2112), ("BB", 2112)])
def test_reference_string_hash_matches_java(text: str, java: int) -> None:
    assert _java_string_hash(text) == java


KEYS = ["hello", "a", "b", "flink", "key-0", "key-1", "key-17", "日本", "\U0001F600", "",
        "The quick brown fox"]


@pytest.mark.parametrize("max_parallelism", [128, 7, 256])
def test_key_groups_agree_with_an_independent_implementation(max_parallelism: int) -> None:
    for key in KEYS:
        expected = _flink_murmur(_java_string_hash(key)) % max_parallelism
        assert java_hash_code(key) == _java_string_hash(key)
        assert assign_to_key_group(key, max_parallelism) == expected, key
    for key in list(range(-50, 50)) + [2 ** 31 - 1, -(2 ** 31)]:
        assert murmur_hash(key) == _flink_murmur(key)
        assert assign_to_key_group(key, max_parallelism) == _flink_murmur(key) \
            % max_parallelism, key


def test_known_flink_key_groups() -> None:
    # murmurHash(0) is murmur3 of four zero bytes: 0x2362F9DE = 593689054 (positive).
    assert murmur_hash(0) == 593689054
    assert assign_to_key_group(0, 128) == 593689054 % 128 == 94
    assert assign_to_key_group("hello", 128) == _flink_murmur(99162322) % 128


def _java_bytes_hash(data: bytes) -> int:
    """java.util.Arrays.hashCode(byte[]): signed bytes, folded from 1, int32 wrap."""
    h = 1
    for (signed,) in struct.iter_unpack(">b", data):
        h = (h * 31 + signed) % (1 << 32)
    return struct.unpack(">i", struct.pack(">I", h))[0]


def _int32(value: int) -> int:
    return struct.unpack(">i", struct.pack(">I", value % (1 << 32)))[0]


def _pyflink_key_hash(key, pickled: bool) -> int:
    """The hashCode Flink sees for a PyFlink key_by key, derived independently.

    PyFlink's key_by hands Flink a one-field Row (kind INSERT = 0) holding the key's Java value,
    or ``cloudpickle.dumps(key)`` bytes (protocol 5) when no key_type was given. Flink >= 1.13
    ``RowUtils.deepHashCodeRow``: ``31 * kind + deepHashCodeArray(fields)``, where
    ``deepHashCodeArray`` folds ``31 * h + Arrays.deepHashCode(new Object[] {field})`` from 1;
    so a one-field row hashes to ``31 + (31 + hashCode(field))``.
    """
    if pickled:
        field_hash = _java_bytes_hash(pickle.dumps(key, protocol=PICKLE_PROTOCOL))
    elif isinstance(key, str):
        field_hash = _java_string_hash(key)
    else:
        assert isinstance(key, int) and -(2 ** 31) <= key < 2 ** 31
        field_hash = key  # Integer.hashCode
    return _int32(31 * 0 + 31 + (31 + field_hash))


def test_reference_bytes_hash_matches_java() -> None:
    assert _java_bytes_hash(b"") == 1
    assert _java_bytes_hash(b"\x01\x02") == 31 * (31 + 1) + 2
    assert _java_bytes_hash(b"\xff") == 31 - 1


@pytest.mark.parametrize("pickled", [True, False])
def test_pyflink_key_by_hash_agrees_with_an_independent_derivation(pickled: bool) -> None:
    for key in KEYS + list(range(-20, 20)) + [2 ** 31 - 1, -(2 ** 31)]:
        assert pyflink_key_by_hash_code(key, pickled=pickled) == _pyflink_key_hash(key, pickled)


def _expected_channel(key, channels: int, max_parallelism: int, pickled: bool) -> int:
    key_group = _flink_murmur(_pyflink_key_hash(key, pickled)) % max_parallelism
    return compute_operator_index_for_key_group(max_parallelism, channels, key_group)


@pytest.mark.parametrize("pickled", [True, False], ids=["untyped-key", "typed-key"])
@pytest.mark.parametrize("channels, max_parallelism", [(1, 128), (2, 128), (3, 128), (4, 10),
                                                        (5, 5)])
def test_key_group_partitioner_routes_each_key_to_its_key_groups_subtask(
        channels: int, max_parallelism: int, pickled: bool) -> None:
    """Keys are placed as a PyFlink job places them (see flink_py.common.key_groups)."""
    # a typed key_by declares one key type: Types.STRING() for string keys
    keys = KEYS + (list(range(20)) if pickled else [str(i) for i in range(20)])
    records = [(key, i) for i in range(6) for key in keys]
    key_type = None if pickled else Types.STRING()
    partitioner = _setup(KeyGroupStreamPartitioner(lambda r: r[0], "key_by", key_type),
                         channels, max_parallelism)
    buffers = [records[i:i + 13] for i in range(0, len(records), 13)]
    values, stamps = _collect(partitioner, buffers, channels, with_timestamps=True)

    assert Counter(v for vs in values.values() for v in vs) == Counter(records)
    for channel, vs in values.items():
        for key, _ in vs:
            expected = _expected_channel(key, channels, max_parallelism, pickled)
            assert channel == expected, (key, channel, expected)
        # Per channel, records keep their order.
        assert vs == [r for r in records if r in set(vs)]
        assert stamps[channel] == [_ts(v) for v in vs]


def test_key_group_partitioner_places_untyped_keys_by_their_pickled_bytes_by_default() -> None:
    partitioner = _setup(KeyGroupStreamPartitioner(lambda r: r), 3, 128)
    for key in KEYS:
        ((channel, _, _),) = partitioner.route([key], None)
        assert channel == _expected_channel(key, 3, 128, pickled=True), key


def test_key_group_partitioner_spreads_keys_over_channels() -> None:
    partitioner = _setup(KeyGroupStreamPartitioner(lambda r: r), 4, 128)
    values, _ = _collect(partitioner, [[f"k{i}" for i in range(400)]], 4)
    assert all(len(values[c]) > 50 for c in range(4)), {c: len(v) for c, v in values.items()}


def test_key_selector_errors_name_the_operator() -> None:
    partitioner = _setup(KeyGroupStreamPartitioner(lambda r: r["missing"], "my-key-by"), 2)
    with pytest.raises(UserFunctionError, match="my-key-by") as info:
        partitioner.route([{"present": 1}], None)
    assert isinstance(info.value.__cause__, KeyError)


# -- custom ------------------------------------------------------------------------------------


def test_custom_partitioner_uses_the_users_choice() -> None:
    calls: List[Tuple[object, int]] = []

    def partition(key, num_partitions: int) -> int:
        calls.append((key, num_partitions))
        return len(key) % num_partitions

    partitioner = _setup(CustomPartitionerWrapper(partition, lambda r: r[0]), 3)
    records = [("x" * n, n) for n in range(10)]
    values, stamps = _collect(partitioner, [records[:4], records[4:]], 3, with_timestamps=True)

    for c in range(3):
        assert values[c] == [r for r in records if len(r[0]) % 3 == c]
        assert stamps[c] == [_ts(v) for v in values[c]]
    assert calls == [(r[0], 3) for r in records]


@pytest.mark.parametrize("bad", [3, -1, 17, "1", 1.0, None])
def test_custom_partitioner_out_of_range_raises_naming_the_value(bad: object) -> None:
    partitioner = _setup(CustomPartitionerWrapper(lambda key, n: bad, lambda r: r), 3)
    with pytest.raises(UserFunctionError) as info:
        partitioner.route(["record-a"], None)
    message = str(info.value)
    assert repr(bad) in message
    assert "[0, 3)" in message


def test_custom_partitioner_failure_is_a_user_function_error() -> None:
    def partition(key, n):
        raise RuntimeError("nope")

    partitioner = _setup(CustomPartitionerWrapper(partition, lambda r: r), 2)
    with pytest.raises(UserFunctionError, match="nope") as info:
        partitioner.route([1], None)
    assert isinstance(info.value.__cause__, RuntimeError)


# -- timestamps --------------------------------------------------------------------------------


ALL_PARTITIONERS = [
    ("forward", lambda: ForwardPartitioner(), 1),
    ("global", lambda: GlobalPartitioner(), 3),
    ("broadcast", lambda: BroadcastPartitioner(), 3),
    ("rebalance", lambda: RebalancePartitioner(), 3),
    ("rescale", lambda: RescalePartitioner(), 3),
    ("shuffle", lambda: ShufflePartitioner(), 3),
    ("key_group", lambda: KeyGroupStreamPartitioner(lambda r: r[0]), 3),
    ("custom", lambda: CustomPartitionerWrapper(lambda k, n: k % n, lambda r: r[0]), 3),
]


@pytest.mark.parametrize("name, make, channels", ALL_PARTITIONERS,
                         ids=[p[0] for p in ALL_PARTITIONERS])
def test_timestamps_travel_with_their_records(name: str, make, channels: int) -> None:
    records = [(i % 11, i) for i in range(300)]
    partitioner = _setup(make(), channels)
    for start in range(0, len(records), 37):
        buffer = records[start:start + 37]
        timestamps: Optional[list] = [_ts(r) for r in buffer]
        for channel, vals, tss in partitioner.route(buffer, timestamps):
            assert tss is not None and len(tss) == len(vals)
            assert tss == [_ts(v) for v in vals], (name, channel)
        for channel, vals, tss in partitioner.route(buffer, None):
            assert tss is None
    # Records without timestamps stay without.


@pytest.mark.parametrize("name, make, channels", ALL_PARTITIONERS,
                         ids=[p[0] for p in ALL_PARTITIONERS])
def test_every_record_is_delivered(name: str, make, channels: int) -> None:
    records = [(i % 11, i) for i in range(100)]
    partitioner = _setup(make(), channels)
    values, _ = _collect(partitioner, [records[:50], records[50:]], channels)
    delivered = Counter(v for vs in values.values() for v in vs)
    copies = channels if name == "broadcast" else 1
    assert delivered == Counter({r: copies for r in records})


def test_ship_strategies_are_flinks_names() -> None:
    assert {cls.ship_strategy for cls in (
        ForwardPartitioner, GlobalPartitioner, BroadcastPartitioner, RebalancePartitioner,
        RescalePartitioner, ShufflePartitioner, KeyGroupStreamPartitioner,
        CustomPartitionerWrapper)} == {
        "FORWARD", "GLOBAL", "BROADCAST", "REBALANCE", "RESCALE", "SHUFFLE", "HASH", "CUSTOM"}
    pointwise = {cls.ship_strategy for cls in (
        ForwardPartitioner, GlobalPartitioner, BroadcastPartitioner, RebalancePartitioner,
        RescalePartitioner, ShufflePartitioner, KeyGroupStreamPartitioner,
        CustomPartitionerWrapper) if cls.is_pointwise}
    assert pointwise == {"FORWARD", "RESCALE"}
