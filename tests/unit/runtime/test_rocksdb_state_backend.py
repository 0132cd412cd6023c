"""The rocksdb state backend: incremental checkpoints, restores of them (also rescaled),
and state far larger than the memory the backend uses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any, Dict, List

import pytest

pytest.importorskip("rocksdict")

from flink_py.common.key_groups import KeyGroupRange  # noqa: E402
from flink_py.datastream.state import ValueStateDescriptor  # noqa: E402
from flink_py.runtime.state.checkpoint_streams import (  # noqa: E402
    CheckpointedStateScope, MemoryCheckpointOutputStream)
from flink_py.runtime.state.handles import IncrementalKeyedStateHandle  # noqa: E402
from flink_py.runtime.state.state_backend import EmbeddedRocksDBStateBackend  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class CountingFactory:
    """An in-memory checkpoint stream factory that counts the bytes written per scope."""

    def __init__(self) -> None:
        self.written: Dict[CheckpointedStateScope, int] = {
            scope: 0 for scope in CheckpointedStateScope}

    def create_checkpoint_state_output_stream(self, scope: CheckpointedStateScope) -> Any:
        factory = self
        stream = MemoryCheckpointOutputStream()
        write = stream.write

        def counting_write(data: bytes) -> int:
            factory.written[scope] += len(data)
            return write(data)
        stream.write = counting_write  # type: ignore[method-assign]
        return stream

    @property
    def total(self) -> int:
        return sum(self.written.values())


def _backend(tmp_path: Any, key_group_range: KeyGroupRange = KeyGroupRange(0, 127)) -> Any:
    return EmbeddedRocksDBStateBackend(incremental=True, local_dir=str(tmp_path)) \
        .create_keyed_state_backend(128, key_group_range, "incremental")


def _put(backend: Any, keys: range, version: int) -> None:
    state = backend.get_partitioned_state(ValueStateDescriptor("v"))
    for key in keys:
        backend.set_current_key(key)
        state.update((version, os.urandom(48).hex()))  # incompressible, as real state is


def _versions(backends: List[Any], keys: range) -> Dict[int, int]:
    found: Dict[int, int] = {}
    for backend in backends:
        state = backend.get_partitioned_state(ValueStateDescriptor("v"))
        for key in keys:
            if backend.key_group_of(key) not in backend.key_group_range:
                continue
            backend.set_current_key(key)
            value = state.value()
            if value is not None:
                assert key not in found, f"key {key} restored twice"
                found[key] = value[0]
    return found


def test_an_incremental_checkpoint_after_touching_1_percent_uploads_far_less(
        tmp_path: Any) -> None:
    backend = _backend(tmp_path)
    _put(backend, range(20_000), 1)
    first = CountingFactory()
    handles_1 = backend.snapshot(1, 0, first, None)()
    _put(backend, range(0, 20_000, 100), 2)  # 1% of the keys
    second = CountingFactory()
    handles_2 = backend.snapshot(2, 0, second, None)()
    assert isinstance(handles_2[0], IncrementalKeyedStateHandle)
    assert first.written[CheckpointedStateScope.SHARED] > 1_000_000
    assert second.total < first.total / 10, (first.written, second.written)
    # the second checkpoint refers to the first one's files instead of copying them
    shared_1 = set(handles_1[0].shared_files.items())
    assert shared_1 & set(handles_2[0].shared_files.items())
    backend.dispose()

    restored = _backend(tmp_path)
    restored.restore(handles_2)
    versions = _versions([restored], range(20_000))
    assert len(versions) == 20_000
    assert {k for k, v in versions.items() if v == 2} == set(range(0, 20_000, 100))
    # a checkpoint of the restored backend reuses the restored files
    third = CountingFactory()
    restored.snapshot(3, 0, third, None)()
    assert third.total < first.total / 10
    restored.dispose()


def test_a_job_started_from_a_checkpoint_does_not_reuse_its_files(tmp_path: Any) -> None:
    # Flink's NO_CLAIM: the checkpoint a job was started from (flink run -s) belongs to its
    # user, who may delete it; the first checkpoint after it uploads every file anew.
    backend = _backend(tmp_path)
    _put(backend, range(5_000), 1)
    handles = backend.snapshot(1, 0, CountingFactory(), None)()
    backend.dispose()
    started = _backend(tmp_path)
    started.claim_restored_files = False
    started.restore(handles)
    assert len(_versions([started], range(5_000))) == 5_000
    first = CountingFactory()
    own = started.snapshot(2, 0, first, None)()
    restored_files = set(handles[0].shared_files.values())
    assert not restored_files & set(own[0].shared_files.values())
    assert first.written[CheckpointedStateScope.SHARED] > 200_000  # the whole state again
    # its own checkpoints are incremental again
    _put(started, range(0, 5_000, 100), 2)
    second = CountingFactory()
    started.snapshot(3, 0, second, None)()
    assert second.total < first.total / 5, (first.written, second.written)
    started.dispose()


def test_incremental_checkpoints_restore_at_another_parallelism(tmp_path: Any) -> None:
    old = [_backend(tmp_path, KeyGroupRange.of_operator(128, 2, i)) for i in range(2)]
    for backend in old:
        state = backend.get_partitioned_state(ValueStateDescriptor("v"))
        for key in range(2_000):
            if backend.key_group_of(key) in backend.key_group_range:
                backend.set_current_key(key)
                state.update((key, "x"))
        backend.create_timer_queue("user-timers/event").add(5, 0, None) \
            if backend.key_group_of(0) in backend.key_group_range else None
    handles = [h for backend in old for h in backend.snapshot(1, 0, CountingFactory(), None)()]
    for backend in old:
        backend.dispose()
    for parallelism in (1, 3):
        new = []
        for i in range(parallelism):
            key_group_range = KeyGroupRange.of_operator(128, parallelism, i)
            backend = _backend(tmp_path, key_group_range)
            backend.restore([p for p in (h.intersection(key_group_range) for h in handles)
                             if p is not None])
            new.append(backend)
        assert _versions(new, range(2_000)) == {k: k for k in range(2_000)}
        timers = [t for backend in new for t in backend.create_timer_queue("user-timers/event")]
        assert timers == [(5, 0, None)]
        for backend in new:
            backend.dispose()


def test_a_million_keys_fit_in_a_small_memory_budget(tmp_path: Any) -> None:
    """Over 100 MB of state; the process grows by far less (RocksDB keeps it on disk)."""
    script = textwrap.dedent(f"""
        import resource
        from flink_py.common.key_groups import KeyGroupRange
        from flink_py.datastream.state import ValueStateDescriptor
        from flink_py.runtime.state.state_backend import EmbeddedRocksDBStateBackend
        backend = EmbeddedRocksDBStateBackend(local_dir={str(tmp_path)!r}) \\
            .create_keyed_state_backend(128, KeyGroupRange(0, 127), "rss")
        state = backend.get_partitioned_state(ValueStateDescriptor("v"))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        payload = "p" * 100
        for key in range(1_000_000):
            backend.set_current_key(key)
            state.update((key, payload))
        backend.set_current_key(777_777)
        assert state.value() == (777_777, payload)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) // 1024)
        backend.dispose()
    """)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    growth_mb = int(result.stdout.strip())
    assert growth_mb < 64, f"RSS grew by {growth_mb} MB for 1,000,000 keys"
