"""OperatorChain: instantiates a task's operators and wires their outputs.

Chained operators call each other directly (an output *is* the next operator's
``process_batch``); outputs that leave the task go to RecordWriters.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from flink_py.common.key_groups import KeyGroupRange
from flink_py.common.narrowing import batch_converter, require_rows
from flink_py.errors import DeclaredTypeError
from flink_py.graph.job_graph import ChainConfig
from flink_py.runtime.network.record_writer import RecordWriter
from flink_py.runtime.operators.base import (
    EmitFn, Output, StreamingRuntimeContext, StreamOperator, _discard)
from flink_py.runtime.state.heap_keyed_state_backend import HeapKeyedStateBackend
from flink_py.runtime.state.keyed_state_backend import DEFAULT_KEY_HASH
from flink_py.runtime.state.state_backend import HashMapStateBackend, load_state_backend
from flink_py.runtime.tasks.fusion import build_fused_function, fusion_stage


def _fan_out(emitters: List[EmitFn]) -> EmitFn:
    if not emitters:
        return _discard
    if len(emitters) == 1:
        return emitters[0]

    def emit_all(values: list, timestamps: Optional[list]) -> None:
        for emit in emitters:
            emit(values, timestamps)
    return emit_all


def _late_bound(operator: StreamOperator) -> EmitFn:
    """Calls ``operator.process_batch`` as it is at call time (fusion may replace it)."""
    def emit(values: list, timestamps: Optional[list]) -> None:
        operator.process_batch(values, timestamps)
    return emit


def _converting(convert: Callable[[list], list], emit: EmitFn,
                operator: StreamOperator) -> EmitFn:
    """Sends each buffer on as its declared type's serializer would give it back; a record
    that does not match the type fails ``operator``, the one that made it."""
    def emit_converted(values: list, timestamps: Optional[list]) -> None:
        try:
            converted = convert(values)
        except (DeclaredTypeError, OverflowError) as exc:
            raise type(exc)(f"record made in operator {operator.describe()}: {exc}") from None
        emit(converted, timestamps)
    return emit_converted


def _with_conversion(type_info: Any, emit: EmitFn, operator: StreamOperator,
                     printed_rows: Any = None) -> EmitFn:
    """``emit`` converting (and checking) each buffer where PyFlink serializes it; with
    ``printed_rows`` (a ROW type), checking that each record is a Row."""
    convert = (require_rows(printed_rows) if printed_rows is not None
               else batch_converter(type_info))
    return emit if convert is None or emit is _discard else _converting(convert, emit,
                                                                        operator)


def _fan_out_watermark(targets: List[Callable[[Any], None]]) -> Callable[[Any], None]:
    """Sends a watermark (or a watermark status) to every target."""
    def emit_watermark(timestamp: Any) -> None:
        for target in targets:
            target(timestamp)
    return emit_watermark


class OperatorChain:
    """The operators of one subtask, head first, with their outputs connected."""

    def __init__(self, chain: ChainConfig, writers_by_result: Dict[str, RecordWriter],
                 runtime_context_factory: Callable[[], StreamingRuntimeContext],
                 max_parallelism: int, parallelism: int, subtask_index: int,
                 processing_time_service: Any = None,
                 job_configuration: Optional[Dict[str, str]] = None,
                 state_backend: Any = None, working_dir: Optional[str] = None) -> None:
        """:param job_configuration: the job's settings (the deployment's), from which the
            state backend is loaded unless ``state_backend`` is given.
        :param working_dir: where a RocksDB backend keeps its files when
            ``state.backend.rocksdb.localdir`` is not set."""
        self.writers = list(writers_by_result.values())
        self._job_configuration = job_configuration
        self._state_backend = state_backend
        self._working_dir = working_dir
        self._state_initialized = False
        by_node: Dict[int, StreamOperator] = {}
        # node id -> (chained main successors, whether it has any other output)
        self._successors: Dict[int, tuple] = {}
        key_groups = KeyGroupRange.of_operator(max_parallelism, parallelism, subtask_index)
        self.key_group_range = key_groups
        self.max_parallelism = max_parallelism
        self._subtask_index = subtask_index
        #: nodes whose main output converts its records: fusion must not run past them
        converting: set = set()
        self._converting = converting
        # Build downstream first so that each operator's output can point at its successors.
        for config in reversed(chain.operators):
            operator: StreamOperator = config.operator_factory()
            operator.name = config.name  # the name the user set with .name()
            main: List[EmitFn] = []
            side: Dict[str, List[EmitFn]] = {}
            watermark_targets: List[Callable[[int], None]] = []
            status_targets: List[Callable[[Any], None]] = []
            for target_id, tag in config.chained_outputs:
                target = by_node[target_id]
                (main if tag is None else side.setdefault(tag, [])).append(_late_bound(target))
                watermark_targets.append(target.process_watermark)
                status_targets.append(target.process_watermark_status)
            for out in config.network_outputs:
                writer = writers_by_result[str(out.result_id)]
                (main if out.output_tag is None else side.setdefault(out.output_tag, [])
                 ).append(writer.emit)
                watermark_targets.append(writer.emit_watermark)
                status_targets.append(writer.emit_watermark_status)
            # Where PyFlink would serialize the records (graph/python_chaining.py), they
            # change as there: FLOAT narrowed to 32 bits, integers checked against their range.
            main_fan_out = _fan_out(main)
            main_emit = _with_conversion(config.converted_output_type, main_fan_out, operator,
                                         config.prints_rows)
            if main_emit is not main_fan_out:
                converting.add(config.node_id)
            side_emits = {t: _with_conversion(config.converted_side_output_types.get(t),
                                              _fan_out(e), operator) for t, e in side.items()}
            output = Output(main_emit, side_emits,
                            _fan_out_watermark(watermark_targets),
                            _fan_out_watermark(status_targets))
            # keyed state is placed by the hash its key_by routed with (typed or pickled)
            operator.key_hash_function = (DEFAULT_KEY_HASH if config.key_hash is None
                                          else config.key_hash)
            operator.setup(runtime_context_factory(), output,
                           HeapKeyedStateBackend(max_parallelism, key_groups,
                                                 operator.key_hash_function))
            operator.processing_time_service = processing_time_service
            operator.operator_id = config.operator_id
            by_node[config.node_id] = operator
            self._successors[config.node_id] = (
                [t for t, tag in config.chained_outputs if tag is None],
                bool(config.network_outputs) or any(tag for _, tag in config.chained_outputs))
        self._node_ids = [c.node_id for c in chain.operators]
        self._by_node = by_node
        self.operators: List[StreamOperator] = [by_node[c.node_id] for c in chain.operators]
        self.head = self.operators[0]

    def open(self) -> None:
        if not self._state_initialized:  # a fresh start of a caller that did not restore
            self.initialize_state(None)
        # Successors open first so that they are ready when their predecessor emits.
        for operator in reversed(self.operators):
            operator.open()
        self._fuse()

    def _fuse(self) -> None:
        """Compiles each maximal linear run of fusible operators into one loop."""
        in_group: set = set()
        for node_id in self._node_ids:
            if node_id in in_group:
                continue
            group = [node_id]
            stages = [fusion_stage(self._by_node[node_id])]
            if stages[0] is None or stages[0].kind == "sink":
                continue
            current = node_id
            while True:
                successors, other_outputs = self._successors[current]
                if (other_outputs or len(successors) != 1 or stages[-1].kind == "sink"
                        or current in self._converting):
                    break
                stage = fusion_stage(self._by_node[successors[0]])
                if stage is None:
                    break
                current = successors[0]
                group.append(current)
                stages.append(stage)
            if len(group) < 2:
                continue
            in_group.update(group)
            operators = [self._by_node[n] for n in group]
            head, last = operators[0], operators[-1]
            emit = last.output.emit
            # Rebuilt once after the first buffer: by then aggregations know their records'
            # shape and can be inlined.
            holder = [build_fused_function(operators, stages, emit), 1]
            unfused = type(head).process_batch.__get__(head)

            def process_batch(values: list, timestamps: Optional[list],
                              holder: list = holder, operators: list = operators,
                              emit: Callable[..., None] = emit,
                              unfused: Callable[..., None] = unfused) -> None:
                if timestamps is not None:
                    unfused(values, timestamps)
                    return
                holder[0](values)
                if holder[1]:
                    holder[1] = 0
                    holder[0] = build_fused_function(
                        operators, [fusion_stage(op) for op in operators], emit)

            head.process_batch = process_batch  # type: ignore[method-assign]
            if stages[0].kind == "reduce":
                head.process_batch_with_keys = self._fused_with_keys(  # type: ignore
                    operators, stages, emit, type(head).process_batch_with_keys.__get__(head))

    @staticmethod
    def _fused_with_keys(operators: list, stages: list, emit: Callable[..., None],
                         unfused: Callable[..., None]) -> Callable[..., None]:
        """The fused reduce's entry for buffers that carry their keys (a keyed exchange's:
        see StreamInputProcessor), built on first use; ``unfused`` is the reduce's own
        ``process_batch_with_keys``, for buffers with timestamps."""
        holder: list = [None, 1]

        def process_batch_with_keys(values: list, timestamps: Optional[list],
                                    keys: list) -> None:
            if timestamps is not None:
                unfused(values, timestamps, keys)
                return
            if holder[0] is None:
                holder[0] = build_fused_function(operators, stages, emit, with_keys=True)
            holder[0](values, keys)
            if holder[1]:  # as process_batch: rebuilt once the first buffer was seen
                holder[1] = 0
                holder[0] = build_fused_function(
                    operators, [fusion_stage(op) for op in operators], emit, with_keys=True)
        return process_batch_with_keys

    # -- checkpoints: the task's mailbox thread calls these -------------------------------

    def initialize_state(self, task_restore: Any = None) -> None:
        """Before ``open``: every keyed operator gets a keyed state backend from the job's
        state backend, and each operator restores its share of ``task_restore`` (a
        JobManagerTaskRestore; None on a fresh start), found by its OperatorID."""
        if self._state_initialized:
            raise RuntimeError("OperatorChain.initialize_state called twice")
        self._state_initialized = True
        backend_factory = self._state_backend
        if backend_factory is None:
            backend_factory = self._state_backend = load_state_backend(
                self._job_configuration, self._working_dir)
        snapshot = None if task_restore is None else task_restore.task_state_snapshot
        for operator in self.operators:
            keyed_backend = None
            if operator.computes_keys and not isinstance(backend_factory, HashMapStateBackend):
                keyed_backend = backend_factory.create_keyed_state_backend(
                    self.max_parallelism, self.key_group_range,
                    f"{operator.name}_{self._subtask_index}",
                    hash_function=operator.key_hash_function)
                if task_restore is not None:
                    keyed_backend.claim_restored_files = task_restore.claimed
            operator.task_restored = task_restore is not None
            operator.restored_checkpoint_id = (None if task_restore is None
                                               else task_restore.restore_checkpoint_id)
            subtask_state = (None if snapshot is None or operator.operator_id is None
                             else snapshot.get_subtask_state_by_operator_id(
                                 operator.operator_id))
            operator.initialize_state(subtask_state, keyed_backend)

    def prepare_snapshot_pre_barrier(self, checkpoint_id: int) -> None:
        """Head first, as Flink's OperatorChain."""
        for operator in self.operators:
            operator.prepare_snapshot_pre_barrier(checkpoint_id)

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Callable[[], Any]:
        """Takes the synchronous part of every operator's snapshot; returns the asynchronous
        part, which returns the task's ``TaskStateSnapshot``."""
        from flink_py.runtime.state.handles import TaskStateSnapshot
        parts = [(operator.operator_id,
                  operator.snapshot_state(checkpoint_id, timestamp, options, factory))
                 for operator in self.operators]

        def materialize() -> TaskStateSnapshot:
            return TaskStateSnapshot({operator_id: part() for operator_id, part in parts})
        return materialize

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        for operator in self.operators:
            operator.notify_checkpoint_complete(checkpoint_id)

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        for operator in self.operators:
            operator.notify_checkpoint_aborted(checkpoint_id)

    def end_input_of_successors(self) -> None:
        """After the head's input ended: every chained operator's input ends, in order."""
        for operator in self.operators[1:]:
            operator.end_input(0)

    def finish(self) -> None:
        for operator in self.operators:
            operator.finish()

    def flush(self) -> None:
        for writer in self.writers:
            writer.flush()

    def close(self) -> List[BaseException]:
        """Closes every operator, head first; returns the errors instead of stopping."""
        errors: List[BaseException] = []
        for operator in self.operators:
            try:
                operator.close()
            except Exception as exc:  # every operator must get its close() call
                errors.append(exc)
        for operator in self.operators:
            try:
                operator.dispose_state()
            except Exception as exc:  # every backend must be disposed (local files)
                errors.append(exc)
        return errors
