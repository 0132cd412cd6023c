"""End to end on the MiniCluster: a keyed count survives a task failure by restoring the latest
completed checkpoint, on both state backends and in both checkpointing modes; every record's
effect on state counts exactly once."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flink_py.common import Types
from flink_py.common.restart_strategy import RestartStrategies
from flink_py.datastream import CheckpointingMode, StreamExecutionEnvironment
from flink_py.datastream.functions import (
    CheckpointedFunction, CheckpointListener, FunctionInitializationContext,
    FunctionSnapshotContext, MapFunction, RuntimeContext)
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.datastream.state_backend import EmbeddedRocksDBStateBackend, HashMapStateBackend

N = 40_000
KEYS = 10
#: records a subtask counts before the checkpoint that its failure follows
AFTER = 500


class CountPerKey(MapFunction):
    """(key, count so far, attempt number, whether this is the attempt's first record)."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.attempt = runtime_context.get_attempt_number()
        self.first = True

    def map(self, value: int) -> Tuple[int, int, int, bool]:
        n = (self.count.value() or 0) + 1
        self.count.update(n)
        first, self.first = self.first, False
        return value % KEYS, n, self.attempt, first


class FailOnceAfterACheckpoint(MapFunction, CheckpointedFunction, CheckpointListener):
    """Raises once (in the whole job: a marker file), at the first record after a checkpoint
    completed that this subtask took after its first ``after`` records, so the restore has
    counts to go on from. Until then each record is slowed down (1 ms), so that such a
    checkpoint completes before the input runs out however loaded the machine is; after the
    failure the input runs at full speed."""

    def __init__(self, marker: str, after: int, records_after_the_checkpoint: int = 0) -> None:
        self.marker = marker
        self.after = after
        #: how many records it lets through after that checkpoint before it fails
        self.records_after = records_after_the_checkpoint

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        self.seen = 0
        self.seen_at_snapshot: Dict[int, int] = {}
        self.ready = False

    def map(self, value: int) -> int:
        self.seen += 1
        if not os.path.exists(self.marker):
            if self.ready:
                if self.records_after <= 0:
                    open(self.marker, "w").close()
                    raise RuntimeError(f"injected failure at {value}")
                self.records_after -= 1
            time.sleep(0.001)
        return value

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        self.seen_at_snapshot[context.get_checkpoint_id()] = self.seen

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        if self.seen_at_snapshot.get(checkpoint_id, 0) >= self.after:
            self.ready = True


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb", "rocksdb-incremental"])
@pytest.mark.parametrize("mode", [CheckpointingMode.EXACTLY_ONCE,
                                  CheckpointingMode.AT_LEAST_ONCE])
def test_a_failed_job_restores_its_latest_checkpoint_and_counts_exactly_once(
        tmp_path: Path, backend: str, mode: CheckpointingMode) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50, mode)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend(backend == "rocksdb-incremental"))
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    counted = (env.from_sequence(1, N)
               .map(FailOnceAfterACheckpoint(str(tmp_path / "failed"), AFTER))
               .key_by(lambda x: x % KEYS)
               .map(CountPerKey()).uid("count"))
    final: Dict[int, int] = {}
    restored_first_counts: List[int] = []
    with counted.execute_and_collect() as results:
        for key, n, attempt, first in results:
            final[key] = max(final.get(key, 0), n)
            if first and attempt > 0:
                restored_first_counts.append(n)
    assert (tmp_path / "failed").exists()
    expected = {k: N // KEYS for k in range(KEYS)}
    if mode is CheckpointingMode.EXACTLY_ONCE:
        assert final == expected
    else:  # unaligned barriers: records after a barrier may count again after the restore
        assert final.keys() == expected.keys()
        assert all(final[k] >= expected[k] for k in expected), final
    # The restarted attempts went on from restored counts, not from zero.
    assert restored_first_counts and min(restored_first_counts) > 1, restored_first_counts


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_a_typed_key_by_restores_the_state_of_every_key(tmp_path: Path, backend: str) -> None:
    # A key_by with key_type hashes the key's value, not its pickle: state must be grouped by
    # the same hash, or a snapshot drops the keys whose pickled hash falls outside the range.
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    counted = (env.from_sequence(1, N)
               .map(FailOnceAfterACheckpoint(str(tmp_path / "failed"), AFTER))
               .key_by(lambda x: x % KEYS, key_type=Types.LONG())
               .map(CountPerKey()).uid("count"))
    final: Dict[int, int] = {}
    with counted.execute_and_collect() as results:
        for key, n, _, _ in results:
            final[key] = max(final.get(key, 0), n)
    assert (tmp_path / "failed").exists()
    assert final == {k: N // KEYS for k in range(KEYS)}


@pytest.mark.parametrize("backend", ["hashmap", "rocksdb"])
def test_execute_and_collect_gives_every_record_once_across_a_failover(
        tmp_path: Path, backend: str) -> None:
    # With checkpointing the client sees the results a completed checkpoint covers (and the
    # rest once the job FINISHED): what the failed attempt sent after the restored checkpoint
    # is replaced by what the restarted one sends, as with Flink's collect sink.
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(50)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{tmp_path / 'checkpoints'}")
    env.set_state_backend(HashMapStateBackend() if backend == "hashmap"
                          else EmbeddedRocksDBStateBackend())
    env.set_restart_strategy(RestartStrategies.fixed_delay_restart(3, 50))
    env.set_buffer_timeout(1)  # what comes after the checkpoint reaches the sink at once
    stream = env.from_sequence(1, N).map(FailOnceAfterACheckpoint(
        str(tmp_path / "failed"), AFTER, records_after_the_checkpoint=300))
    with stream.execute_and_collect() as results:
        collected = list(results)
    assert (tmp_path / "failed").exists()
    assert len(collected) == N and sorted(collected) == list(range(1, N + 1))
