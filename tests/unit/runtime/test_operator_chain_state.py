"""OperatorChain.initialize_state: keyed backends from the job's configuration, and each
operator's share of a restore found by its OperatorID."""

from __future__ import annotations

from typing import Any

import pytest

from flink_py.common.checkpointing_mode import CheckpointingMode
from flink_py.datastream.functions import KeyedProcessFunction
from flink_py.datastream.state import ValueStateDescriptor
from flink_py.graph.ids import OperatorID
from flink_py.graph.job_graph import ChainConfig, ChainedOperatorConfig
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.operators.base import StreamingRuntimeContext
from flink_py.runtime.operators.keyed_process import KeyedProcessOperator
from flink_py.runtime.operators.simple import StreamMap
from flink_py.runtime.state.checkpoint_streams import MemoryCheckpointStreamFactory
from flink_py.runtime.state.handles import JobManagerTaskRestore
from flink_py.runtime.state.heap_keyed_state_backend import HeapKeyedStateBackend

COUNT_ID = OperatorID("c" * 32)
MAP_ID = OperatorID("a" * 32)


class _Count(KeyedProcessFunction):
    def open(self, runtime_context: Any) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count"))

    def process_element(self, value: Any, ctx: Any) -> Any:
        self.count.update((self.count.value() or 0) + 1)
        return ()


def _chain(job_configuration: Any = None) -> Any:
    from flink_py.runtime.tasks.operator_chain import OperatorChain
    config = ChainConfig([
        ChainedOperatorConfig(1, "map", None, lambda: StreamMap("map", lambda v: v), [(2, None)],
                              operator_id=MAP_ID),
        ChainedOperatorConfig(2, "count", None, lambda: KeyedProcessOperator(
            "count", _Count(), lambda v: v), keyed=True, operator_id=COUNT_ID),
    ], [0])
    return OperatorChain(config, {}, lambda: StreamingRuntimeContext("t", 0, 1, 128), 128, 1, 0,
                         job_configuration=job_configuration)


def _count_of(chain: Any, key: str) -> Any:
    backend = chain.operators[1].keyed_state_backend
    backend.set_current_key(key)
    return backend.get_partitioned_state(ValueStateDescriptor("count")).value()


@pytest.mark.parametrize("backend_type", ["hashmap", "rocksdb"])
def test_a_chain_restores_each_operator_by_its_operator_id(backend_type: str,
                                                           tmp_path: Any) -> None:
    if backend_type == "rocksdb":
        pytest.importorskip("rocksdict")
    configuration = {"state.backend.type": backend_type,
                     "state.backend.rocksdb.localdir": str(tmp_path)}
    chain = _chain(configuration)
    chain.initialize_state(None)
    chain.open()
    chain.head.process_batch(["a", "b", "a"], None)
    snapshot = chain.snapshot_state(
        1, 0, CheckpointOptions.for_checkpoint(CheckpointingMode.EXACTLY_ONCE),
        MemoryCheckpointStreamFactory())()
    assert snapshot.get_subtask_state_by_operator_id(COUNT_ID).managed_keyed_state
    assert not snapshot.get_subtask_state_by_operator_id(MAP_ID).has_state()
    assert chain.close() == []

    restored = _chain(configuration)
    restored.initialize_state(JobManagerTaskRestore(1, snapshot))
    restored.open()
    backend = restored.operators[1].keyed_state_backend
    assert isinstance(backend, HeapKeyedStateBackend) == (backend_type == "hashmap")
    restored.head.process_batch(["a"], None)
    assert (_count_of(restored, "a"), _count_of(restored, "b")) == (3, 1)
    assert restored.close() == []
    assert list(tmp_path.iterdir()) == []  # RocksDB's files are gone with the backend
