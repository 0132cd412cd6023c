"""``DataStream.cache()`` (PyFlink's CachedDataStream): in BATCH mode the first job computes
the cached stream and writes its cache; later jobs of the environment read it instead of
computing it again, with the same partitioning; ``invalidate()`` and ``env.close()`` drop
it."""

from __future__ import annotations

import os
import threading
from typing import Any, List

import pytest

from flink_py.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from flink_py.datastream.data_stream import CachedDataStream
from flink_py.datastream.functions import MapFunction, RuntimeContext
from flink_py.errors import InvalidProgramError
from flink_py.testing.shared import shared


class _CountingMap(MapFunction):
    """Counts the records it computes (in an object the test shares), and tags each with
    the subtask that computed it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def open(self, runtime_context: RuntimeContext) -> None:
        self.computed: List[Any] = shared(self.token, "computed", list)
        self.lock = shared(self.token, "lock", threading.Lock)
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value: Any) -> Any:
        with self.lock:
            self.computed.append(value)
        return value, self.subtask


class _Subtask(MapFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self.subtask = runtime_context.get_index_of_this_subtask()

    def map(self, value: Any) -> Any:
        return value, self.subtask


def _computed(token: str) -> int:
    """How many records the counting maps computed."""
    return len(shared(token, "computed", list))


def _batch_env(parallelism: int) -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(parallelism)
    return env


def test_later_jobs_read_the_cache_instead_of_computing_it(token: str) -> None:
    env = _batch_env(2)
    cached = env.from_collection(list(range(6))).rebalance().map(_CountingMap(token)).cache()
    assert isinstance(cached, CachedDataStream)

    first = sorted(cached.map(_Subtask()).execute_and_collect())
    # each record stays on the subtask that computed it (the cache's readers forward it)
    assert all(computed_by == read_by for (_, computed_by), read_by in first), first
    assert sorted(v for (v, _), _ in first) == list(range(6))
    assert _computed(token) == 6

    second = sorted(cached.map(_Subtask()).execute_and_collect())
    assert second == first
    assert _computed(token) == 6  # read from the cache, not computed again

    cached.invalidate()
    third = sorted(v for (v, _), _ in cached.map(_Subtask()).execute_and_collect())
    assert third == list(range(6))
    assert _computed(token) == 12  # computed again after invalidate()
    env.close()


def test_a_keyed_stream_caches_its_partitioned_records(token: str) -> None:
    env = _batch_env(2)
    keyed = env.from_collection([("a", 1), ("b", 2), ("a", 3)]).map(
        _CountingMap(token)).map(lambda v: v[0]).key_by(lambda v: v[0])
    # each cached record stays with the subtask its key went to
    cached = keyed.cache()
    first = sorted(cached.execute_and_collect())
    second = sorted(cached.execute_and_collect())
    assert first == second == [("a", 1), ("a", 3), ("b", 2)]
    assert _computed(token) == 3
    env.close()


def test_close_removes_the_caches(token: str) -> None:
    env = _batch_env(1)
    cached = env.from_collection([1, 2]).map(_CountingMap(token)).cache()
    assert sorted(v for v, _ in cached.execute_and_collect()) == [1, 2]
    directory = cached._transformation.directory
    assert os.listdir(directory) == ["part-0-of-1"]
    env.close()
    assert not os.path.exists(directory)


def test_cache_is_only_for_batch_execution() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.STREAMING)
    cached = env.from_collection([1, 2]).map(lambda v: v).cache()
    cached.print()
    with pytest.raises(InvalidProgramError, match="only supported in BATCH execution mode"):
        env.execute("streaming cache")
    env.close()
