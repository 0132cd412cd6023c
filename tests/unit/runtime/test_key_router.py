"""The compiled routing loop of ``key_by`` (``_key_router.c``) routes as the Python loops do.

``KeyGroupStreamPartitioner.route`` uses the compiled loop where it was built and the Python
loops otherwise (or with ``FLINK_PY_PURE_PYTHON``); the placement itself is the assigner's
either way, and ``test_partitioners.py`` checks it against PyFlink's hash. Here both loops
get the same buffers and must give the same buckets, in the same order, with the same
timestamps, and fail the same way.
"""

from __future__ import annotations

import random
from typing import Any, Callable, List, Optional

import pytest

from flink_py.common.typeinfo import Types
from flink_py.errors import UserFunctionError
from flink_py.runtime.network import partitioners
from flink_py.runtime.network.partitioners import KeyGroupStreamPartitioner

try:
    from flink_py.runtime.network import _key_router
except ImportError:  # not built: pip found no C compiler
    _key_router = None

pytestmark = pytest.mark.skipif(_key_router is None, reason="_key_router was not built")


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (_Unhashable, ())


def _records(rng: random.Random, count: int) -> List[tuple]:
    kinds: List[Callable[[int], Any]] = [
        lambda i: i % 97, lambda i: -i, lambda i: 2 ** 70 + i, lambda i: f"k{i % 50}",
        lambda i: i % 2 == 0, lambda i: float(i % 7), lambda i: (i % 3, "x"), lambda i: None,
        lambda i: b"b%d" % (i % 5), lambda i: "ünï" * (i % 3),
    ]
    return [(rng.choice(kinds)(i), i) for i in range(count)]


def _route(partitioner: KeyGroupStreamPartitioner, values: list, timestamps: Optional[list],
           router: Any, monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as patch:
        patch.setattr(partitioners, "_KEY_ROUTER", router)
        return partitioner.route(values, timestamps)


def _partitioner(channels: int, max_parallelism: int, key_type: Any = None,
                 cache_size: Optional[int] = None) -> KeyGroupStreamPartitioner:
    partitioner = KeyGroupStreamPartitioner(lambda r: r[0], "my-key-by", key_type).copy()
    partitioner.setup(channels, max_parallelism)
    if cache_size is not None:
        partitioner._assigner._cache_size = cache_size  # memos cleared when they fill
    return partitioner


@pytest.mark.parametrize("channels, max_parallelism", [(2, 128), (3, 128), (4, 10), (7, 7)])
@pytest.mark.parametrize("with_timestamps", [False, True])
@pytest.mark.parametrize("cache_size", [None, 0, 3])
def test_the_compiled_loop_gives_the_python_loops_buckets(
        channels: int, max_parallelism: int, with_timestamps: bool, cache_size: Optional[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(channels * 1000 + max_parallelism)
    compiled = _partitioner(channels, max_parallelism, cache_size=cache_size)
    python = _partitioner(channels, max_parallelism, cache_size=cache_size)
    for _ in range(20):
        values = _records(rng, rng.randrange(1, 300))
        timestamps = [rng.randrange(-10, 10) for _ in values] if with_timestamps else None
        expected = _route(python, values, timestamps, None, monkeypatch)
        assert _route(compiled, values, timestamps, _key_router, monkeypatch) == expected
        routed = sum(len(b) for _, b, _ in expected)
        assert routed == len(values)


def test_typed_keys_route_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [(f"word{i % 40}", i) for i in range(500)]
    expected = _route(_partitioner(3, 128, Types.STRING()), values, None, None, monkeypatch)
    got = _route(_partitioner(3, 128, Types.STRING()), values, None, _key_router, monkeypatch)
    assert got == expected


def test_bool_and_int_keys_keep_their_own_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    # True == 1 in a dict, but the two hash differently in Flink: the int memo must not
    # answer for a bool (exact type checks in C as in Python)
    partitioner = _partitioner(8, 128)
    ones = [(1, 0)] * 3 + [(True, 1)] * 3 + [(1.0, 2)]
    got = _route(partitioner, ones, None, _key_router, monkeypatch)
    python = _route(_partitioner(8, 128), ones, None, None, monkeypatch)
    assert got == python
    assigner = partitioner._assigner
    assert {c for c, b, _ in got for r in b if r[0] is True} == {assigner.subtask_of(True)}


def test_a_failing_key_selector_fails_naming_the_operator_in_both(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for router in (None, _key_router):
        partitioner = _partitioner(2, 128)
        partitioner.key_selector = lambda r: r["missing"]
        with pytest.raises(UserFunctionError, match="my-key-by") as info:
            _route(partitioner, [{"present": 1}], None, router, monkeypatch)
        assert isinstance(info.value.__cause__, KeyError), router


def test_an_unhashable_key_routes_and_an_unpicklable_one_fails_in_both(monkeypatch: pytest.MonkeyPatch) -> None:
    # untyped keys are hashed from their pickle, so an unhashable object still routes; a
    # key that cannot be pickled fails the same way in both loops
    for router in (None, _key_router):
        partitioner = _partitioner(2, 128)
        partitioner.key_selector = lambda r: r
        routed = _route(partitioner, [_Unhashable()], None, router, monkeypatch)
        assert sum(len(b) for _, b, _ in routed) == 1
        partitioner.key_selector = lambda r: (lambda: None)  # a lambda does not pickle
        with pytest.raises(UserFunctionError, match="my-key-by"):
            _route(partitioner, [1], None, router, monkeypatch)


def test_a_key_selector_that_empties_the_buffer_does_not_crash(
        monkeypatch: pytest.MonkeyPatch) -> None:
    values = [(i, i) for i in range(10)]

    def greedy(record: tuple) -> int:
        values.clear()  # the loop must re-read the list's length
        return record[0]

    partitioner = _partitioner(2, 128)
    partitioner.key_selector = greedy
    routed = _route(partitioner, values, None, _key_router, monkeypatch)
    assert sum(len(b) for _, b, _ in routed) == 1


def test_bad_arguments_are_refused_with_what_was_expected() -> None:
    with pytest.raises(TypeError, match="values must be a list, got tuple"):
        _key_router.bucket_by_key((1,), None, int, int, {}, {}, 2)
    with pytest.raises(TypeError, match="timestamps"):
        _key_router.bucket_by_key([1], [1, 2], int, int, {}, {}, 2)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        _key_router.bucket_by_key([1], None, int, int, {}, {}, 0)
    with pytest.raises(ValueError, match="channel 5, expected 0..1"):
        _key_router.bucket_by_key([1], None, int, lambda k: 5, {}, {}, 2)


def test_the_compiled_loop_is_what_key_by_uses_when_built() -> None:
    if partitioners._KEY_ROUTER is None:
        pytest.skip("FLINK_PY_PURE_PYTHON chose the Python loops")
    assert partitioners._KEY_ROUTER is _key_router


def _route_with_keys(partitioner: KeyGroupStreamPartitioner, values: list,
                     timestamps: Optional[list], router: Any,
                     monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as patch:
        patch.setattr(partitioners, "_KEY_ROUTER", router)
        return partitioner.route_with_keys(values, timestamps)


@pytest.mark.parametrize("with_timestamps", [False, True])
def test_keys_travel_with_their_records_in_both_loops(
        with_timestamps: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # route_with_keys routes as route does and hands each channel the key of each of its
    # records, in order, as the key selector returned it (the same object)
    rng = random.Random(7)
    compiled, python = _partitioner(3, 128), _partitioner(3, 128)
    assert compiled.carries_keys
    for _ in range(10):
        values = _records(rng, rng.randrange(1, 300))
        timestamps = [rng.randrange(-10, 10) for _ in values] if with_timestamps else None
        routed = _route(python, values, timestamps, None, monkeypatch)
        for router, partitioner in ((None, python), (_key_router, compiled)):
            with_keys = _route_with_keys(partitioner, values, timestamps, router, monkeypatch)
            assert [(c, b, t) for c, b, t, _ in with_keys] == routed
            for _, bucket, _, keys in with_keys:
                assert len(keys) == len(bucket)
                assert all(k is r[0] for k, r in zip(keys, bucket))


def test_one_channel_does_not_carry_keys() -> None:
    # the single consumer keys each record itself: nothing is gained by sending keys
    assert not _partitioner(1, 128).carries_keys


def test_a_failing_key_selector_fails_the_same_way_with_keys(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for router in (None, _key_router):
        partitioner = _partitioner(2, 128)
        partitioner.key_selector = lambda r: r["missing"]
        with pytest.raises(UserFunctionError, match="my-key-by") as info:
            _route_with_keys(partitioner, [{"present": 1}], None, router, monkeypatch)
        assert isinstance(info.value.__cause__, KeyError), router
