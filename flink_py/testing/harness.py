"""Operator test harnesses (Flink's OneInputStreamOperatorTestHarness and friends).

A harness runs one operator instance outside of a task: it sets the operator up with a
runtime context, a keyed state backend (``hashmap`` unless another ``state_backend`` is
given) and a manual processing-time clock, and collects what the operator emits. Tests and
users drive it with elements, watermarks and processing time, take snapshots and restore
new instances from them, possibly at another parallelism::

    harness = KeyedOneInputStreamOperatorTestHarness(make_operator())
    harness.open()
    harness.process_element(("a", 1), timestamp=10)
    snapshot = harness.snapshot(checkpoint_id=1, timestamp=100)
    harness.close()

    restored = KeyedOneInputStreamOperatorTestHarness(make_operator())
    restored.initialize_state(snapshot)
    restored.open()

``repartition_state([snapshots], old_parallelism, new_parallelism, max_parallelism)`` gives
each new subtask its share, as the JobMaster's state assignment does on a rescaled restore.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from flink_py.common.key_groups import KeyGroupRange
from flink_py.graph.ids import JobVertexID, OperatorID
from flink_py.runtime.operators.base import Output, StreamingRuntimeContext, StreamOperator
from flink_py.runtime.state.checkpoint_streams import MemoryCheckpointStreamFactory
from flink_py.runtime.state.handles import OperatorSubtaskState
from flink_py.runtime.state.state_backend import HashMapStateBackend, load_state_backend
from flink_py.testing.clock import ManualProcessingTimeService

#: the OperatorID a harness gives an operator that has none
HARNESS_OPERATOR_ID = OperatorID("0" * 31 + "1")


class _Collected:
    """Where an operator's outputs go: records (with timestamps), side outputs, watermarks."""

    def __init__(self) -> None:
        self.records: List[Tuple[Any, Optional[int]]] = []
        self.side: Dict[str, List[Tuple[Any, Optional[int]]]] = {}
        self.watermarks: List[int] = []

    def emit(self, values: list, timestamps: Optional[list]) -> None:
        self.records.extend(zip(values, timestamps or [None] * len(values)))

    def side_emitter(self, tag_id: str) -> Any:
        def emit(values: list, timestamps: Optional[list]) -> None:
            self.side.setdefault(tag_id, []).extend(
                zip(values, timestamps or [None] * len(values)))
        return emit


class _SideOutputs(dict):
    """Every side output tag gets a collecting emitter on first use."""

    def __init__(self, collected: _Collected) -> None:
        super().__init__()
        self._collected = collected

    def get(self, tag_id: str, default: Any = None) -> Any:  # type: ignore[override]
        if tag_id not in self:
            self[tag_id] = self._collected.side_emitter(tag_id)
        return self[tag_id]


class AbstractStreamOperatorTestHarness:
    """Runs one operator instance: lifecycle, clock, outputs, snapshot and restore."""

    def __init__(self, operator: StreamOperator, max_parallelism: int = 128,
                 parallelism: int = 1, subtask_index: int = 0, state_backend: Any = None,
                 job_configuration: Optional[Dict[str, str]] = None,
                 runtime_mode: str = "STREAMING") -> None:
        self.operator = operator
        self.max_parallelism = max_parallelism
        self.parallelism = parallelism
        self.subtask_index = subtask_index
        self.key_group_range = KeyGroupRange.of_operator(
            max_parallelism, parallelism, subtask_index)
        self.state_backend = state_backend if state_backend is not None else (
            load_state_backend(job_configuration) if job_configuration else HashMapStateBackend())
        self.processing_time_service = ManualProcessingTimeService()
        self._collected = _Collected()
        self._initialized = False
        self._opened = False
        if operator.operator_id is None:
            operator.operator_id = HARNESS_OPERATOR_ID
        context = StreamingRuntimeContext(operator.name, subtask_index, parallelism,
                                          max_parallelism, runtime_mode=runtime_mode)
        output = Output(self._collected.emit, _SideOutputs(self._collected),
                        self._collected.watermarks.append)
        operator.setup(context, output)
        operator.processing_time_service = self.processing_time_service

    # -- lifecycle ------------------------------------------------------------------------

    def initialize_state(self, restored: Optional[OperatorSubtaskState] = None,
                         restored_checkpoint_id: int = 0) -> None:
        """Creates the operator's keyed state backend and restores ``restored`` (a
        snapshot this harness class took, or one subtask's share of ``repartition_state``,
        possibly empty) as the state of checkpoint ``restored_checkpoint_id``: the
        operator's functions see ``is_restored()`` true; with None, a fresh start."""
        if self._initialized:
            raise RuntimeError("initialize_state was already called")
        self._initialized = True
        backend = self.state_backend.create_keyed_state_backend(
            self.max_parallelism, self.key_group_range,
            f"{self.operator.name}_{self.subtask_index}")
        self.operator.task_restored = restored is not None
        self.operator.restored_checkpoint_id = (None if restored is None
                                                else restored_checkpoint_id)
        self.operator.initialize_state(restored, backend)

    def open(self) -> None:
        """``initialize_state()`` (fresh) unless called before, then the operator's open."""
        if not self._initialized:
            self.initialize_state(None)
        self.operator.open()
        self._opened = True

    def close(self) -> None:
        try:
            if self._opened:
                self.operator.close()
        finally:
            self.operator.dispose_state()
            self.processing_time_service.shutdown()

    def end_input(self) -> None:
        self.operator.end_input(0)
        self.operator.finish()

    # -- time -----------------------------------------------------------------------------

    def process_watermark(self, watermark: int) -> None:
        self.operator.process_watermark(watermark)

    def set_processing_time(self, time: int) -> None:
        self.processing_time_service.set_current_time(time)

    # -- checkpoints ----------------------------------------------------------------------

    def snapshot(self, checkpoint_id: int, timestamp: int) -> OperatorSubtaskState:
        """Takes a checkpoint of the operator (both parts, in memory)."""
        from flink_py.runtime.checkpoint.options import CheckpointOptions
        from flink_py.common.checkpointing_mode import CheckpointingMode
        options = CheckpointOptions.for_checkpoint(CheckpointingMode.EXACTLY_ONCE, False)
        self.operator.prepare_snapshot_pre_barrier(checkpoint_id)
        write = self.operator.snapshot_state(checkpoint_id, timestamp, options,
                                             MemoryCheckpointStreamFactory())
        return write()

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        self.operator.notify_checkpoint_complete(checkpoint_id)

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        self.operator.notify_checkpoint_aborted(checkpoint_id)

    # -- outputs --------------------------------------------------------------------------

    def get_output(self) -> List[Any]:
        """The records emitted so far (main output)."""
        return [value for value, _ in self._collected.records]

    def get_output_with_timestamps(self) -> List[Tuple[Any, Optional[int]]]:
        return list(self._collected.records)

    def get_side_output(self, tag: Any) -> List[Any]:
        tag_id = getattr(tag, "tag_id", tag)
        return [value for value, _ in self._collected.side.get(tag_id, [])]

    def get_watermarks(self) -> List[int]:
        return list(self._collected.watermarks)

    def clear_output(self) -> None:
        self._collected.records.clear()
        self._collected.side.clear()
        self._collected.watermarks.clear()

    @property
    def keyed_state_backend(self) -> Any:
        return self.operator.keyed_state_backend


class OneInputStreamOperatorTestHarness(AbstractStreamOperatorTestHarness):
    """A harness for an operator with one input."""

    def process_element(self, value: Any, timestamp: Optional[int] = None) -> None:
        self.operator.process_batch([value], None if timestamp is None else [timestamp])

    def process_elements(self, values: List[Any],
                         timestamps: Optional[List[int]] = None) -> None:
        self.operator.process_batch(list(values), None if timestamps is None
                                    else list(timestamps))


class KeyedOneInputStreamOperatorTestHarness(OneInputStreamOperatorTestHarness):
    """A harness for a keyed one-input operator (the operator computes its keys; the
    harness owns key-group range ``subtask_index`` of ``parallelism``)."""


class TwoInputStreamOperatorTestHarness(AbstractStreamOperatorTestHarness):
    """A harness for an operator with two inputs (``process_element1``/``2``)."""

    def process_element1(self, value: Any, timestamp: Optional[int] = None) -> None:
        self.operator.process_batch1([value], None if timestamp is None else [timestamp])

    def process_element2(self, value: Any, timestamp: Optional[int] = None) -> None:
        self.operator.process_batch2([value], None if timestamp is None else [timestamp])

    def process_watermark1(self, watermark: int) -> None:
        self.operator.process_watermark_of_input(0, watermark)

    def process_watermark2(self, watermark: int) -> None:
        self.operator.process_watermark_of_input(1, watermark)

    def process_watermark(self, watermark: int) -> None:
        self.process_watermark1(watermark)
        self.process_watermark2(watermark)


KeyedTwoInputStreamOperatorTestHarness = TwoInputStreamOperatorTestHarness


def repartition_state(snapshots: List[OperatorSubtaskState], new_parallelism: int,
                      max_parallelism: int = 128,
                      operator_id: Optional[OperatorID] = None) -> List[OperatorSubtaskState]:
    """Each new subtask's share of the snapshots of all old subtasks (index = old subtask),
    by the JobMaster's state assignment: keyed state by key-group range, list state round
    robin, union list state to all, broadcast state to all."""
    from flink_py.runtime.checkpoint.metadata import CheckpointMetadata, OperatorState
    from flink_py.runtime.checkpoint.state_assignment import RestoredVertex, assign_states
    op_id = operator_id if operator_id is not None else HARNESS_OPERATOR_ID
    state = OperatorState(op_id, len(snapshots), max_parallelism,
                          {i: s for i, s in enumerate(snapshots)})
    vertex_id = JobVertexID()
    restores = assign_states(CheckpointMetadata(0, [state]), [RestoredVertex(
        vertex_id, (op_id,), new_parallelism, max_parallelism)])
    result = []
    for subtask in range(new_parallelism):
        restore = restores.get((vertex_id, subtask))  # none at all when nothing had state
        share = None if restore is None else restore.task_state_snapshot \
            .get_subtask_state_by_operator_id(op_id)
        result.append(share if share is not None else OperatorSubtaskState())
    return result
