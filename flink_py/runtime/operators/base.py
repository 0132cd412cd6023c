"""The operator model: StreamOperator, its Output, and the runtime context it gets.

Operators process whole buffers (``process_batch(values, timestamps)``): ``values`` is a list
of records, ``timestamps`` is None or a list of the records' event timestamps. An operator
hands its results to ``self.output``: a chained operator's ``process_batch`` or a network
writer. Per-record work happens in tight loops or comprehensions over the buffer; anything
that can be decided once is decided in ``open``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from flink_py.api.functions import Function, RuntimeContext
from flink_py.errors import InvalidProgramError, UserFunctionError
from flink_py.runtime.execution.errors import CancelTaskException

EmitFn = Callable[[list, Optional[list]], None]

MAX_WATERMARK = 2 ** 63 - 1
MIN_WATERMARK = -(2 ** 63)


def _discard(values: list, timestamps: Optional[list]) -> None:
    """Output of an operator whose results nobody consumes (e.g. an unused side output)."""


class Output:
    """Where an operator's results go: the main output, side outputs, watermarks and
    watermark statuses (``WatermarkStatus.IDLE`` / ``ACTIVE``, runtime/network/events.py)."""

    __slots__ = ("emit", "side_outputs", "emit_watermark", "emit_watermark_status")

    def __init__(self, emit: EmitFn, side_outputs: Optional[Dict[str, EmitFn]] = None,
                 emit_watermark: Optional[Callable[[int], None]] = None,
                 emit_watermark_status: Optional[Callable[[Any], None]] = None) -> None:
        self.emit = emit
        self.side_outputs: Dict[str, EmitFn] = side_outputs or {}
        self.emit_watermark = emit_watermark or (lambda watermark: None)
        self.emit_watermark_status = emit_watermark_status or (lambda status: None)

    def side(self, tag_id: str) -> EmitFn:
        """The emitter for side output ``tag_id`` (a no-op when nothing consumes it)."""
        return self.side_outputs.get(tag_id, _discard)


class StreamingRuntimeContext(RuntimeContext):
    """The RuntimeContext of one parallel operator instance."""

    def __init__(self, task_name: str, subtask_index: int, parallelism: int,
                 max_parallelism: int, attempt_number: int = 0,
                 job_parameters: Optional[Dict[str, str]] = None,
                 operator_event_gateway: Any = None, runtime_mode: str = "STREAMING") -> None:
        self._task_name = task_name
        #: "STREAMING" or "BATCH": operators with mode-dependent output read it in open()
        self.runtime_mode = runtime_mode
        self._subtask_index = subtask_index
        self._parallelism = parallelism
        self._max_parallelism = max_parallelism
        self._attempt_number = attempt_number
        self._job_parameters = dict(job_parameters or {})
        self.operator_event_gateway = operator_event_gateway

    def get_task_name(self) -> str:
        return self._task_name

    def get_number_of_parallel_subtasks(self) -> int:
        return self._parallelism

    def get_max_number_of_parallel_subtasks(self) -> int:
        return self._max_parallelism

    def get_index_of_this_subtask(self) -> int:
        return self._subtask_index

    def get_attempt_number(self) -> int:
        return self._attempt_number

    def get_task_name_with_subtasks(self) -> str:
        return (f"{self._task_name} ({self._subtask_index + 1}/{self._parallelism})"
                f"#{self._attempt_number}")

    def get_job_parameter(self, key: str, default_value: Optional[str] = None) -> Optional[str]:
        return self._job_parameters.get(key, default_value)

    def get_job_parameters(self) -> Dict[str, str]:
        return dict(self._job_parameters)

    #: the metric group, made on the first get_metrics_group()
    _metrics_group: Any = None

    def get_metrics_group(self) -> Any:
        """The metrics of this operator instance, scoped ``<task name>.<subtask index>``
        (kept in the instance; flink_py reports no metrics yet)."""
        if self._metrics_group is None:
            from flink_py.metrics.local import LocalMetricGroup
            self._metrics_group = LocalMetricGroup(
                [self.operator_name or self._task_name, str(self._subtask_index)])
        return self._metrics_group

    # -- keyed state ----------------------------------------------------------------------

    #: the operator's keyed state backend; None for an operator that is not keyed
    keyed_state_backend: Any = None
    #: the operator's name, for errors
    operator_name: str = ""

    def _keyed_state(self, descriptor: Any, kind: str) -> Any:
        from flink_py.api.state import StateDescriptor
        if not isinstance(descriptor, StateDescriptor) or descriptor.kind != kind:
            raise InvalidProgramError(
                f"get_{'' if kind == 'value' else kind + '_'}state expects a "
                f"{kind.capitalize()}StateDescriptor, got {descriptor!r}")
        if self.keyed_state_backend is None:
            raise InvalidProgramError(
                f"keyed state ({descriptor!r}) can only be used on a keyed stream; "
                f"'{self.operator_name}' is not keyed (use key_by(...) first)")
        return self.keyed_state_backend.get_partitioned_state(descriptor)

    def get_state(self, state_descriptor: Any) -> Any:
        return self._keyed_state(state_descriptor, "value")

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._keyed_state(state_descriptor, "list")

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._keyed_state(state_descriptor, "map")

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._keyed_state(state_descriptor, "reducing")

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._keyed_state(state_descriptor, "aggregating")


class StreamOperator:
    """Base of all operators. Subclasses override the hooks they need.

    Lifecycle, driven by the task: ``setup`` -> ``open`` -> any number of ``process_batch``
    and ``process_watermark`` calls -> ``end_input`` (bounded input ended) -> ``finish`` ->
    ``close`` (always called, also after a failure or cancellation).
    """

    #: whether the operator computes the key of every record it receives (keyed operators):
    #: a key_by feeding it need not compute keys just to check them (see KeyGroupStreamPartitioner)
    computes_keys = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.output: Output = Output(_discard)
        self.runtime_context: Optional[StreamingRuntimeContext] = None
        self.keyed_state_backend: Any = None
        #: the task's ProcessingTimeService (runtime/tasks/processing_time.py): wall-clock
        #: timers whose callbacks run in the task, never concurrently with its operators
        self.processing_time_service: Any = None
        self.current_watermark = MIN_WATERMARK
        #: this instance's share of a restored snapshot's operator state (None: fresh start)
        self.restored_operator_state: Optional[Dict[str, Any]] = None
        #: whether the task restores from a checkpoint or savepoint (true for every subtask
        #: of a vertex with state in it, even one that got none of it after a rescale), and
        #: that checkpoint's id (both set by the OperatorChain)
        self.task_restored = False
        self.restored_checkpoint_id: Optional[int] = None
        self.operator_state_store: Any = None
        self._checkpointed_functions: list = []
        self._checkpoint_listeners: list = []
        #: the operator's timer services (created by get_internal_timer_service)
        self.time_service_manager: Any = None
        #: the hash its key_by routed keys with (set by the OperatorChain; keyed state
        #: backends must place keys into key groups by the same hash)
        self.key_hash_function: Any = None

    def setup(self, runtime_context: StreamingRuntimeContext, output: Output,
              keyed_state_backend: Any = None) -> None:
        self.runtime_context = runtime_context
        self.output = output
        runtime_context.operator_name = self.name
        self.set_keyed_state_backend(keyed_state_backend)

    def set_keyed_state_backend(self, keyed_state_backend: Any) -> None:
        """Gives the operator its keyed state backend (before ``open``)."""
        self.keyed_state_backend = keyed_state_backend
        if self.computes_keys and self.runtime_context is not None:
            # keyed operators give their functions keyed state
            self.runtime_context.keyed_state_backend = keyed_state_backend

    def open(self) -> None:
        pass

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        raise NotImplementedError

    def open_user_function(self, function: Any) -> None:
        """Initializes the operator state of a CheckpointedFunction, then ``open``s it; a
        CheckpointListener is told of completed and aborted checkpoints from then on."""
        from flink_py.api.functions import CheckpointedFunction, CheckpointListener
        if isinstance(function, CheckpointListener):
            self._checkpoint_listeners.append(function)
        if isinstance(function, CheckpointedFunction):
            from flink_py.runtime.state.operator_state_backend import (
                StateInitializationContext)
            keyed_store = self.runtime_context if self.computes_keys else None
            function.initialize_state(StateInitializationContext(
                self.get_operator_state_store(), keyed_store, self.restored_checkpoint_id))
            self._checkpointed_functions.append(function)
        open_function(function, self.runtime_context)

    def get_operator_state_store(self) -> Any:
        """This instance's OperatorStateStore (list and union list state), created on first
        use with the restored operator state: whatever is registered in it is part of every
        snapshot (a source keeps its read position here)."""
        if self.operator_state_store is None:
            from flink_py.runtime.state.operator_state_backend import OperatorStateStore
            self.operator_state_store = OperatorStateStore(self.restored_operator_state)
        return self.operator_state_store

    def snapshot_operator_state(self, checkpoint_id: int, timestamp: int) -> Any:
        """Calls ``snapshot_state`` of the CheckpointedFunctions; returns the operator state."""
        from flink_py.runtime.state.operator_state_backend import StateSnapshotContext
        for function in self._checkpointed_functions:
            function.snapshot_state(StateSnapshotContext(checkpoint_id, timestamp))
        store = self.operator_state_store
        return None if store is None else store.snapshot()

    # -- checkpoints (called by the task's mailbox thread; see OperatorChain) -----------------

    #: set by the OperatorChain from the chain config: what state is mapped to on restore
    operator_id: Any = None

    def prepare_snapshot_pre_barrier(self, checkpoint_id: int) -> None:
        """Runs before the barrier is forwarded: emit what must precede it downstream."""

    def initialize_state(self, subtask_state: Any = None,
                         keyed_state_backend: Any = None) -> None:
        """Before ``open``: takes ``keyed_state_backend`` (when given) and restores this
        instance's share of a checkpoint, ``subtask_state`` (an OperatorSubtaskState, None
        on a fresh start): keyed state and timers into the backend, operator state into the
        ``operator_state_store`` (which sources and CheckpointedFunctions read in ``open``)
        and broadcast state via ``restore_broadcast_state``."""
        if keyed_state_backend is not None:
            self.set_keyed_state_backend(keyed_state_backend)
        if subtask_state is None:
            return
        if subtask_state.managed_keyed_state:
            if self.keyed_state_backend is None:
                raise InvalidProgramError(
                    f"{self.describe()} restores keyed state but has no keyed state backend")
            self.keyed_state_backend.restore(subtask_state.managed_keyed_state)
        from flink_py.runtime.state.operator_state_backend import (
            BROADCAST, OperatorStateStore, read_operator_state)
        restored = read_operator_state(subtask_state.managed_operator_state)
        broadcast = {name: elements for name, (mode, elements) in restored.items()
                     if mode == BROADCAST}
        listed = {name: entry for name, entry in restored.items() if entry[0] != BROADCAST}
        if broadcast:
            self.restore_broadcast_state(broadcast)
        self.restored_operator_state = listed
        self.operator_state_store = OperatorStateStore(listed)

    def get_internal_timer_service(self, name: str, target: Any) -> Any:
        """The timer service ``name`` of this keyed operator (Flink's
        ``getInternalTimerService``): its queues live in the keyed state backend, so its
        timers are in the operator's snapshots; ``target`` gets ``on_event_time(timer)`` and
        ``on_processing_time(timer)``. Call it in ``open`` (after ``initialize_state``)."""
        manager = self.time_service_manager
        if manager is None:
            from flink_py.runtime.operators.timers import InternalTimeServiceManager
            manager = self.time_service_manager = InternalTimeServiceManager(
                self.keyed_state_backend, self.processing_time_service)
        return manager.get_internal_timer_service(name, target)

    def fire_timers_of_current_key(self) -> None:
        """BATCH execution, after the last record of a key of the sorted input: fires that
        key's timers (:meth:`InternalTimerService.fire_timers_of_current_key`)."""
        manager = self.time_service_manager
        if manager is not None:
            manager.fire_timers_of_current_key()

    def snapshot_broadcast_state(self) -> Dict[str, list]:
        """Broadcast state to snapshot: name -> list of ``(key, value)`` (none by default)."""
        return {}

    def restore_broadcast_state(self, states: Dict[str, list]) -> None:
        """Restores what ``snapshot_broadcast_state`` returned."""
        raise InvalidProgramError(
            f"{self.describe()} has no broadcast state to restore "
            f"{sorted(states)} into")

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Callable[[], Any]:
        """The synchronous part of this operator's snapshot (keep it short: the task is
        stopped meanwhile). Returns the asynchronous part: a callable, run off the task
        thread, that writes the snapshot through ``factory`` (a CheckpointStreamFactory) and
        returns its ``OperatorSubtaskState``. ``options`` is the barrier's CheckpointOptions.

        The snapshot holds the keyed state backend's key groups (state and timers) when the
        operator is keyed, and the operator state store (CheckpointedFunctions' list and
        union list state, a source's read position) plus broadcast state as operator state.
        """
        from flink_py.runtime.state.handles import BROADCAST, OperatorSubtaskState
        from flink_py.runtime.state.operator_state_backend import write_operator_state
        operator_state = self.snapshot_operator_state(checkpoint_id, timestamp) or {}
        for name, entries in self.snapshot_broadcast_state().items():
            operator_state[name] = (BROADCAST, list(entries))
        backend = self.keyed_state_backend
        keyed_part = (backend.snapshot(checkpoint_id, timestamp, factory, options)
                      if self.computes_keys and backend is not None else None)

        def materialize() -> OperatorSubtaskState:
            keyed = keyed_part() if keyed_part is not None else []
            handle = write_operator_state(operator_state, factory)
            return OperatorSubtaskState(managed_keyed_state=keyed,
                                        managed_operator_state=[] if handle is None
                                        else [handle])
        return materialize

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Checkpoint ``checkpoint_id`` completed (every task acknowledged it): tells the
        user functions that are CheckpointListeners."""
        for listener in self._checkpoint_listeners:
            try:
                listener.notify_checkpoint_complete(checkpoint_id)
            except Exception as exc:
                raise self.user_error(exc, "notify_checkpoint_complete()")

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        """Checkpoint ``checkpoint_id`` was aborted (timed out, declined, superseded)."""
        for listener in self._checkpoint_listeners:
            try:
                listener.notify_checkpoint_aborted(checkpoint_id)
            except Exception as exc:
                raise self.user_error(exc, "notify_checkpoint_aborted()")

    def dispose_state(self) -> None:
        """Frees the keyed state backend (after ``close``)."""
        backend = self.keyed_state_backend
        if backend is not None:
            backend.dispose()

    def process_watermark(self, watermark: int) -> None:
        self.current_watermark = watermark
        self.output.emit_watermark(watermark)

    def process_watermark_status(self, status: Any) -> None:
        """The input turned IDLE or ACTIVE (a ``WatermarkStatus``): forwarded downstream."""
        self.output.emit_watermark_status(status)

    def end_input(self, input_index: int = 0) -> None:
        pass

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass

    # -- errors -------------------------------------------------------------------------------

    def describe(self) -> str:
        """``'Map' (subtask 2/3)``: how errors name this operator instance."""
        ctx = self.runtime_context
        if ctx is None:
            return f"'{self.name}'"
        return (f"'{self.name}' (subtask {ctx.get_index_of_this_subtask() + 1}/"
                f"{ctx.get_number_of_parallel_subtasks()})")

    def user_error(self, exc: BaseException, what: str = "user function") -> BaseException:
        """Wraps an exception from user code, naming the operator (its ``__cause__``).

        Already-wrapped errors pass unchanged, and so does a CancelTaskException: the
        exchange was released under the operator, which is no failure of the user's code.
        """
        if isinstance(exc, (UserFunctionError, CancelTaskException)):
            return exc
        error = UserFunctionError(f"{what} in {self.describe()} raised {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        error.__suppress_context__ = True
        return error


class TwoInputStreamOperator(StreamOperator):
    """An operator with two inputs; the task calls process_batch1 / process_batch2."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._input_watermarks = [MIN_WATERMARK, MIN_WATERMARK]
        self._input_idle = [False, False]

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        self.process_batch1(values, timestamps)

    def process_batch1(self, values: list, timestamps: Optional[list]) -> None:
        raise NotImplementedError

    def process_batch2(self, values: list, timestamps: Optional[list]) -> None:
        raise NotImplementedError

    def process_watermark_of_input(self, input_index: int, watermark: int) -> None:
        """The combined watermark is the smaller one of the inputs that are not idle."""
        self._input_watermarks[input_index] = watermark
        self._advance_combined_watermark()

    def process_watermark_status_of_input(self, input_index: int, status: Any) -> None:
        """An input turned IDLE or ACTIVE (Flink's CombinedWatermarkStatus): an idle input
        does not hold the combined watermark back; the operator is idle when both are."""
        was_idle = all(self._input_idle)
        self._input_idle[input_index] = status.is_idle()
        self._advance_combined_watermark()
        if all(self._input_idle) != was_idle:
            self.output.emit_watermark_status(status)

    def _advance_combined_watermark(self) -> None:
        active = [w for w, idle in zip(self._input_watermarks, self._input_idle) if not idle]
        if active:
            combined = min(active)
            if combined > self.current_watermark:
                self.process_watermark(combined)


def unwrap_function(fn: Any, method: str) -> Callable[..., Any]:
    """The callable to invoke per record: ``fn.<method>`` for a Function, else ``fn``."""
    if isinstance(fn, Function) or (hasattr(fn, method) and not callable(fn)):
        return getattr(fn, method)
    return fn


def open_function(fn: Any, runtime_context: RuntimeContext) -> None:
    if isinstance(fn, Function):
        fn.open(runtime_context)


def close_function(fn: Any) -> None:
    if isinstance(fn, Function):
        fn.close()


class UdfOperator(StreamOperator):
    """An operator around one user function: opens and closes it, wraps its errors."""

    def __init__(self, name: str, function: Any) -> None:
        super().__init__(name)
        self.function = function

    def open(self) -> None:
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")

    def close(self) -> None:
        try:
            close_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "close()")
