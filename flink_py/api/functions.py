"""User function interfaces, as in ``pyflink.datastream.functions``.

Every API method that takes one of these also takes a plain callable. Functions have the
rich lifecycle ``open(runtime_context)`` / ``close()``. Process-style functions are
generators: they ``yield`` outputs, and ``yield output_tag, value`` emits to a side output.
"""

from __future__ import annotations

import abc
from typing import Any, Dict, Generic, Iterable, Optional, TypeVar


# Type parameters, as PyFlink declares its generic function classes (``ProcessWindowFunction[
# IN, OUT, KEY, W]``): subscripting works, nothing is checked.
IN = TypeVar("IN")
IN1 = TypeVar("IN1")
IN2 = TypeVar("IN2")
OUT = TypeVar("OUT")
KEY = TypeVar("KEY")
W = TypeVar("W")
W2 = TypeVar("W2")


class RuntimeContext(abc.ABC):
    """What a function can know about the parallel instance running it."""

    @abc.abstractmethod
    def get_task_name(self) -> str:
        """The name of the task (the operator chain) this function runs in."""

    @abc.abstractmethod
    def get_number_of_parallel_subtasks(self) -> int:
        """The parallelism of the operator."""

    @abc.abstractmethod
    def get_max_number_of_parallel_subtasks(self) -> int:
        """The max parallelism (number of key groups) of the operator."""

    @abc.abstractmethod
    def get_index_of_this_subtask(self) -> int:
        """The index of this parallel instance, from 0 to parallelism - 1."""

    @abc.abstractmethod
    def get_attempt_number(self) -> int:
        """How many times this subtask was restarted before this attempt (0 at first)."""

    @abc.abstractmethod
    def get_task_name_with_subtasks(self) -> str:
        """The task name followed by ``(index+1/parallelism)``, as Flink prints it."""

    @abc.abstractmethod
    def get_job_parameter(self, key: str, default_value: Optional[str] = None) -> Optional[str]:
        """A global job parameter (``ExecutionConfig.set_global_job_parameters``)."""

    def get_job_parameters(self) -> Dict[str, str]:
        """All global job parameters."""
        raise NotImplementedError

    def get_metrics_group(self) -> Any:
        """The root :class:`~flink_py.metrics.MetricGroup` of this parallel instance, for
        user-defined counters, gauges, meters and distributions."""
        raise NotImplementedError

    # Keyed state (on a keyed stream only): see flink_py.api.state.

    def get_state(self, state_descriptor: Any) -> Any:
        """The ValueState of ``state_descriptor`` (a ValueStateDescriptor)."""
        raise NotImplementedError

    def get_list_state(self, state_descriptor: Any) -> Any:
        """The ListState of ``state_descriptor`` (a ListStateDescriptor)."""
        raise NotImplementedError

    def get_map_state(self, state_descriptor: Any) -> Any:
        """The MapState of ``state_descriptor`` (a MapStateDescriptor)."""
        raise NotImplementedError

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        """The ReducingState of ``state_descriptor`` (a ReducingStateDescriptor)."""
        raise NotImplementedError

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        """The AggregatingState of ``state_descriptor`` (an AggregatingStateDescriptor)."""
        raise NotImplementedError


class Function(abc.ABC):
    """Base of all user functions: the rich lifecycle."""

    def open(self, runtime_context: RuntimeContext) -> None:
        """Called once per parallel instance before the first record."""

    def close(self) -> None:
        """Called once per parallel instance after the last record, or on cancellation."""


class MapFunction(Function):
    """One output per input: ``map(value) -> result``."""

    @abc.abstractmethod
    def map(self, value: Any) -> Any:
        pass


class FlatMapFunction(Function):
    """Zero or more outputs per input: ``flat_map(value)`` returns or yields an iterable."""

    @abc.abstractmethod
    def flat_map(self, value: Any) -> Iterable[Any]:
        pass


class FilterFunction(Function):
    """Keeps the records for which ``filter(value)`` is true."""

    @abc.abstractmethod
    def filter(self, value: Any) -> bool:
        pass


class ReduceFunction(Function):
    """Combines two values of the same type: ``reduce(value1, value2)``."""

    @abc.abstractmethod
    def reduce(self, value1: Any, value2: Any) -> Any:
        pass


class KeySelector(Function):
    """Extracts the key of a record: ``get_key(value)``."""

    @abc.abstractmethod
    def get_key(self, value: Any) -> Any:
        pass


class Partitioner(Function):
    """Chooses the channel of a key for ``partition_custom``: ``partition(key, n)``."""

    @abc.abstractmethod
    def partition(self, key: Any, num_partitions: int) -> int:
        pass


class CoMapFunction(Function):
    """A map over two connected streams: ``map1`` for the first, ``map2`` for the second."""

    @abc.abstractmethod
    def map1(self, value: Any) -> Any:
        pass

    @abc.abstractmethod
    def map2(self, value: Any) -> Any:
        pass


class CoFlatMapFunction(Function):
    """A flat map over two connected streams: ``flat_map1`` and ``flat_map2`` yield outputs."""

    @abc.abstractmethod
    def flat_map1(self, value: Any) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def flat_map2(self, value: Any) -> Iterable[Any]:
        pass


class ProcessFunction(Function):
    """The most general one-input function: ``process_element(value, ctx)`` yields outputs.

    ``yield output_tag, value`` sends ``value`` to the side output ``output_tag``.
    """

    class Context(abc.ABC):
        """Information available while one element is processed."""

        @abc.abstractmethod
        def timestamp(self) -> Optional[int]:
            """The element's timestamp, or None if it has none."""

        @abc.abstractmethod
        def timer_service(self) -> Any:
            """The timer service (current processing time and watermark)."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "ProcessFunction.Context") -> Iterable[Any]:
        pass


class AggregateFunction(Function):
    """Incremental aggregation with an accumulator (windows, AggregatingState)."""

    @abc.abstractmethod
    def create_accumulator(self) -> Any:
        pass

    @abc.abstractmethod
    def add(self, value: Any, accumulator: Any) -> Any:
        """Adds ``value``; returns the new accumulator."""

    @abc.abstractmethod
    def get_result(self, accumulator: Any) -> Any:
        pass

    def merge(self, acc_a: Any, acc_b: Any) -> Any:
        """Merges two accumulators (merging windows); returns the merged one."""
        raise NotImplementedError(f"{type(self).__name__}.merge() is needed to merge windows")


class KeyedProcessFunction(Function):
    """Processes a keyed stream element by element, with keyed state and timers.

    ``process_element(value, ctx)`` and ``on_timer(timestamp, ctx)`` are generators that
    yield outputs (``yield output_tag, value`` for a side output)::

        class CountWithTimeout(KeyedProcessFunction):
            def process_element(self, value, ctx):
                ctx.timer_service().register_event_time_timer(ctx.timestamp() + 60_000)
                yield value

            def on_timer(self, timestamp, ctx):
                yield ctx.get_current_key(), timestamp
    """

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> Optional[int]:
            """The timestamp of the element being processed, or None if it has none."""

        @abc.abstractmethod
        def timer_service(self) -> Any:
            """The TimerService: clocks and timers of the current key."""

        @abc.abstractmethod
        def get_current_key(self) -> Any:
            """The key of the element being processed."""

    class OnTimerContext(Context):
        @abc.abstractmethod
        def time_domain(self) -> Any:
            """TimeDomain.EVENT_TIME or TimeDomain.PROCESSING_TIME: which timer fired."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "KeyedProcessFunction.Context"
                        ) -> Iterable[Any]:
        pass

    def on_timer(self, timestamp: int, ctx: "KeyedProcessFunction.OnTimerContext"
                 ) -> Iterable[Any]:
        """Called when a timer fires; yields outputs. Does nothing by default."""
        return ()


class CoProcessFunction(Function):
    """Processes two connected streams: ``process_element1`` / ``process_element2`` yield
    outputs (``yield tag, value`` for a side output)."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> Optional[int]:
            pass

        @abc.abstractmethod
        def timer_service(self) -> Any:
            pass

    @abc.abstractmethod
    def process_element1(self, value: Any, ctx: "CoProcessFunction.Context") -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def process_element2(self, value: Any, ctx: "CoProcessFunction.Context") -> Iterable[Any]:
        pass


class KeyedCoProcessFunction(Function):
    """Processes two connected keyed streams with keyed state and timers."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> Optional[int]:
            pass

        @abc.abstractmethod
        def timer_service(self) -> Any:
            pass

        @abc.abstractmethod
        def get_current_key(self) -> Any:
            pass

    class OnTimerContext(Context):
        @abc.abstractmethod
        def time_domain(self) -> Any:
            pass

    @abc.abstractmethod
    def process_element1(self, value: Any, ctx: "KeyedCoProcessFunction.Context"
                         ) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def process_element2(self, value: Any, ctx: "KeyedCoProcessFunction.Context"
                         ) -> Iterable[Any]:
        pass

    def on_timer(self, timestamp: int, ctx: "KeyedCoProcessFunction.OnTimerContext"
                 ) -> Iterable[Any]:
        return ()


class BaseBroadcastProcessFunction(Function):
    """Shared by the broadcast process functions: the contexts' broadcast state access."""

    class BaseContext(abc.ABC):
        @abc.abstractmethod
        def timestamp(self) -> Optional[int]:
            pass

        @abc.abstractmethod
        def current_processing_time(self) -> int:
            pass

        @abc.abstractmethod
        def current_watermark(self) -> int:
            pass

    class Context(BaseContext):
        @abc.abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any:
            """The broadcast MapState of ``state_descriptor``, writable."""

    class ReadOnlyContext(BaseContext):
        @abc.abstractmethod
        def get_broadcast_state(self, state_descriptor: Any) -> Any:
            """The broadcast MapState of ``state_descriptor``, read-only."""


class BroadcastProcessFunction(BaseBroadcastProcessFunction, Generic[IN1, IN2, OUT]):
    """A non-keyed stream connected with a broadcast stream: ``process_element`` reads the
    broadcast state, ``process_broadcast_element`` writes it (the same on every subtask)."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "BaseBroadcastProcessFunction.ReadOnlyContext"
                        ) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def process_broadcast_element(self, value: Any,
                                  ctx: "BaseBroadcastProcessFunction.Context"
                                  ) -> Iterable[Any]:
        pass


class KeyedBroadcastProcessFunction(BaseBroadcastProcessFunction,
                                    Generic[KEY, IN1, IN2, OUT]):
    """A keyed stream connected with a broadcast stream; keyed state and timers too."""

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext):
        """``process_element``'s context: the broadcast state read-only, the current key
        and its timers."""

        @abc.abstractmethod
        def timer_service(self) -> Any:
            """The TimerService of the current key."""

        @abc.abstractmethod
        def get_current_key(self) -> Any:
            """The key of the record being processed."""

    class OnTimerContext(ReadOnlyContext):
        """``on_timer``'s context: also the time domain of the timer that fired."""

        @abc.abstractmethod
        def time_domain(self) -> Any:
            """The TimeDomain (EVENT_TIME or PROCESSING_TIME) of the firing timer."""

        @abc.abstractmethod
        def get_current_key(self) -> Any:
            """The key of the firing timer."""

    @abc.abstractmethod
    def process_element(self, value: Any, ctx: "KeyedBroadcastProcessFunction.ReadOnlyContext"
                        ) -> Iterable[Any]:
        pass

    @abc.abstractmethod
    def process_broadcast_element(self, value: Any,
                                  ctx: "BaseBroadcastProcessFunction.Context"
                                  ) -> Iterable[Any]:
        pass

    def on_timer(self, timestamp: int, ctx: "KeyedBroadcastProcessFunction.OnTimerContext"
                 ) -> Iterable[Any]:
        return ()


class ProcessJoinFunction(Function):
    """Joins the pairs of an interval join: ``process_element(left, right, ctx)`` yields."""

    class Context(abc.ABC):
        @abc.abstractmethod
        def get_left_timestamp(self) -> int:
            pass

        @abc.abstractmethod
        def get_right_timestamp(self) -> int:
            pass

        @abc.abstractmethod
        def get_timestamp(self) -> int:
            """The joined pair's timestamp: the larger of the two."""

    @abc.abstractmethod
    def process_element(self, left: Any, right: Any, ctx: "ProcessJoinFunction.Context"
                        ) -> Iterable[Any]:
        pass


# -- windows (pyflink.datastream.functions; the joins are Java's) -------------------------------


class KeyedStateStore(abc.ABC):
    """Where keyed state comes from: a RuntimeContext, or a window function context's
    ``window_state()`` (scoped to the key and the window) and ``global_state()``."""

    @abc.abstractmethod
    def get_state(self, state_descriptor: Any) -> Any:
        pass

    @abc.abstractmethod
    def get_list_state(self, state_descriptor: Any) -> Any:
        pass

    @abc.abstractmethod
    def get_map_state(self, state_descriptor: Any) -> Any:
        pass

    @abc.abstractmethod
    def get_reducing_state(self, state_descriptor: Any) -> Any:
        pass

    @abc.abstractmethod
    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        pass


# PyFlink's RuntimeContext is a KeyedStateStore (it gives keyed state).
KeyedStateStore.register(RuntimeContext)


class WindowFunction(Function, Generic[IN, OUT, KEY, W]):
    """Evaluates a window of a keyed stream: ``apply(key, window, inputs)`` returns or yields
    the outputs."""

    @abc.abstractmethod
    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        pass


class AllWindowFunction(Function, Generic[IN, OUT, W]):
    """Evaluates a window of a non-keyed stream (``window_all``): ``apply(window, inputs)``."""

    @abc.abstractmethod
    def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        pass


class ProcessWindowFunction(Function, Generic[IN, OUT, KEY, W]):
    """Evaluates a window of a keyed stream with its context (window, time, state).

    ``process(key, context, elements)`` yields the outputs (``yield output_tag, value`` for a
    side output); ``clear(context)`` is called when the window is cleaned up (the watermark
    passes ``max_timestamp + allowed_lateness``), to delete per-window state::

        class CountPerWindow(ProcessWindowFunction):
            def process(self, key, context, elements):
                window = context.window()
                yield key, window.start, window.end, len(elements)
    """

    class Context(abc.ABC, Generic[W2]):
        """The window being evaluated and what the function may use meanwhile."""

        @abc.abstractmethod
        def window(self) -> Any:
            """The window being evaluated."""

        @abc.abstractmethod
        def current_processing_time(self) -> int:
            pass

        @abc.abstractmethod
        def current_watermark(self) -> int:
            pass

        @abc.abstractmethod
        def window_state(self) -> KeyedStateStore:
            """State of the current key and window (delete it in ``clear``)."""

        @abc.abstractmethod
        def global_state(self) -> KeyedStateStore:
            """State of the current key, shared by all its windows."""

    @abc.abstractmethod
    def process(self, key: Any, context: "ProcessWindowFunction.Context",
                elements: Iterable[Any]) -> Iterable[Any]:
        pass

    def clear(self, context: "ProcessWindowFunction.Context") -> None:
        """Deletes the window's per-window state when the window is cleaned up."""


class ProcessAllWindowFunction(Function, Generic[IN, OUT, W]):
    """Evaluates a window of a non-keyed stream with its context: ``process(context,
    elements)`` yields the outputs; ``clear(context)`` on cleanup."""

    class Context(abc.ABC, Generic[W2]):
        @abc.abstractmethod
        def window(self) -> Any:
            pass

        @abc.abstractmethod
        def current_processing_time(self) -> int:
            pass

        @abc.abstractmethod
        def current_watermark(self) -> int:
            pass

        @abc.abstractmethod
        def window_state(self) -> KeyedStateStore:
            pass

        @abc.abstractmethod
        def global_state(self) -> KeyedStateStore:
            pass

    @abc.abstractmethod
    def process(self, context: "ProcessAllWindowFunction.Context",
                elements: Iterable[Any]) -> Iterable[Any]:
        pass

    def clear(self, context: "ProcessAllWindowFunction.Context") -> None:
        """Deletes the window's per-window state when the window is cleaned up."""


class PassThroughWindowFunction(WindowFunction):
    """Emits the window's elements as they are (what ``reduce`` / ``aggregate`` use when no
    window function is given)."""

    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        return inputs


class PassThroughAllWindowFunction(AllWindowFunction):
    """Emits the window's elements as they are (non-keyed windows)."""

    def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        return inputs


class JoinFunction(Function):
    """Joins a pair of a window join: ``join(first, second)`` returns one result (Java's)."""

    @abc.abstractmethod
    def join(self, first: Any, second: Any) -> Any:
        pass


class FlatJoinFunction(Function):
    """Joins a pair of a window join: ``join(first, second)`` returns or yields any number of
    results (Java's ``FlatJoinFunction``, whose collector becomes the yields)."""

    @abc.abstractmethod
    def join(self, first: Any, second: Any) -> Iterable[Any]:
        pass


class CoGroupFunction(Function):
    """Combines the elements of both inputs of one key and window of a window co-group:
    ``co_group(first, second)`` (two lists, either may be empty) returns or yields results."""

    @abc.abstractmethod
    def co_group(self, first: Iterable[Any], second: Iterable[Any]) -> Iterable[Any]:
        pass


class FunctionInitializationContext(abc.ABC):
    """What ``CheckpointedFunction.initialize_state`` gets: the state stores."""

    @abc.abstractmethod
    def is_restored(self) -> bool:
        """Whether the job restores from a checkpoint or savepoint (Java's ``isRestored``):
        true in every parallel instance of an operator whose vertex has state in it, also in
        one that got none of that state after a rescale; false on a fresh start."""

    @abc.abstractmethod
    def get_restored_checkpoint_id(self) -> Optional[int]:
        """The id of the checkpoint or savepoint restored from, None on a fresh start (Java's
        ``getRestoredCheckpointId``, an ``OptionalLong``)."""

    @abc.abstractmethod
    def get_operator_state_store(self) -> Any:
        """The OperatorStateStore: ``get_list_state``, ``get_union_list_state``."""

    @abc.abstractmethod
    def get_keyed_state_store(self) -> Any:
        """The keyed state store (keyed streams only), or None."""


class FunctionSnapshotContext(abc.ABC):
    @abc.abstractmethod
    def get_checkpoint_id(self) -> int:
        pass

    @abc.abstractmethod
    def get_checkpoint_timestamp(self) -> int:
        pass


class CheckpointedFunction(abc.ABC):
    """A function with operator state: ``initialize_state`` gets (and restores) it before
    ``open``; ``snapshot_state`` is called when a checkpoint is taken, to bring the state up
    to date (e.g. copy a buffer into a ListState)."""

    @abc.abstractmethod
    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        pass

    @abc.abstractmethod
    def initialize_state(self, context: FunctionInitializationContext) -> None:
        pass


class CheckpointListener(abc.ABC):
    """A function (or operator) told when a checkpoint it took part in completed or was
    aborted: how sinks commit what they pre-committed at the barrier (Flink's
    ``CheckpointListener``).

    ``notify_checkpoint_complete(n)`` means checkpoint ``n`` and all before it are durable;
    notifications can be lost or come late (after a failure), so implementations handle
    "everything up to ``n``", not exactly ``n``.
    """

    @abc.abstractmethod
    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Checkpoint ``checkpoint_id`` completed (every task acknowledged it)."""

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        """Checkpoint ``checkpoint_id`` was aborted; by default nothing happens (what it
        pre-committed is committed with a later checkpoint)."""


class SinkFunction(Function):
    """Writes each record somewhere: ``invoke(value, context)``."""

    class Context(abc.ABC):
        """Information available while one record is written."""

        @abc.abstractmethod
        def current_processing_time(self) -> int:
            pass

        @abc.abstractmethod
        def current_watermark(self) -> int:
            pass

        @abc.abstractmethod
        def timestamp(self) -> Optional[int]:
            pass

    @abc.abstractmethod
    def invoke(self, value: Any, context: "SinkFunction.Context") -> None:
        pass


class SourceFunction(Function):
    """A source that pushes records: ``run(ctx)`` calls ``ctx.collect(record)``.

    ``run`` returns when the input ends (a bounded source) or after ``cancel()`` was called;
    ``cancel`` is called from another thread and must make ``run`` return promptly.
    """

    class SourceContext(abc.ABC):
        """Emits records from a SourceFunction."""

        @abc.abstractmethod
        def collect(self, element: Any) -> None:
            """Emits one record."""

        @abc.abstractmethod
        def collect_with_timestamp(self, element: Any, timestamp: int) -> None:
            """Emits one record with an event timestamp (ms)."""

        @abc.abstractmethod
        def get_checkpoint_lock(self) -> Any:
            """The lock to hold while changing state that checkpoints read."""

    @abc.abstractmethod
    def run(self, ctx: "SourceFunction.SourceContext") -> None:
        pass

    @abc.abstractmethod
    def cancel(self) -> None:
        pass


# -- async I/O (flink_py.datastream.async_data_stream, runtime/operators/async_wait.py) ------
# ``AsyncFunction.async_invoke`` is a coroutine returning the list of results of one input,
# awaited on an event loop of the operator's own; ``timeout`` is a plain method, called on the
# task's thread. The strategies PyFlink ships are in flink_py.datastream.async_retry_strategies.

from enum import Enum  # noqa: E402
from typing import Callable, List  # noqa: E402

class AsyncRetryPredicate(abc.ABC, Generic[OUT]):
    """When a call is tried again: a predicate on its results and one on its exception."""

    @abc.abstractmethod
    def result_predicate(self) -> Optional[Callable[[List[OUT]], bool]]:
        """A predicate on a call's results: true retries the call (None: results never do)."""

    @abc.abstractmethod
    def exception_predicate(self) -> Optional[Callable[[Exception], bool]]:
        """A predicate on a call's exception: true retries the call (None: exceptions never
        do, they fail the job)."""


class AsyncRetryStrategy(abc.ABC, Generic[OUT]):
    """How often and after how long a call is tried again."""

    @abc.abstractmethod
    def can_retry(self, current_attempts: int) -> bool:
        """Whether another attempt may follow attempt number ``current_attempts`` (from 1)."""

    @abc.abstractmethod
    def get_backoff_time_millis(self, current_attempts: int) -> int:
        """The delay before the attempt after attempt number ``current_attempts``, in ms."""

    @abc.abstractmethod
    def get_retry_predicate(self) -> AsyncRetryPredicate[OUT]:
        """When a call is retried."""

    @staticmethod
    def no_restart() -> "AsyncRetryStrategy":
        """The strategy that never retries (``async_retry_strategies.NO_RETRY_STRATEGY``)."""
        from flink_py.datastream import async_retry_strategies
        return async_retry_strategies.NO_RETRY_STRATEGY

    @staticmethod
    def fixed_delay(max_attempts: int, backoff_time_millis: int,
                    result_predicate: Optional[Callable[[List[OUT]], bool]],
                    exception_predicate: Optional[Callable[[Exception], bool]]
                    ) -> "AsyncRetryStrategy":
        """Up to ``max_attempts`` retries, each ``backoff_time_millis`` ms after the last try.

        Example::

            >>> strategy = AsyncRetryStrategy.fixed_delay(3, 100, None, lambda e: True)
            >>> strategy.can_retry(3), strategy.can_retry(4), strategy.get_backoff_time_millis(1)
            (True, False, 100)
        """
        from flink_py.datastream.async_retry_strategies import FixedDelayRetryStrategy
        return FixedDelayRetryStrategy(max_attempts, backoff_time_millis, result_predicate,
                                       exception_predicate)

    @staticmethod
    def exponential_backoff(max_attempts: int, initial_delay: int, max_retry_delay: int,
                            multiplier: float,
                            result_predicate: Optional[Callable[[List[OUT]], bool]],
                            exception_predicate: Optional[Callable[[Exception], bool]]
                            ) -> "AsyncRetryStrategy":
        """Up to ``max_attempts`` retries; the delay starts at ``initial_delay`` ms and grows
        by ``multiplier`` up to ``max_retry_delay`` ms."""
        from flink_py.datastream.async_retry_strategies import (
            ExponentialBackoffDelayRetryStrategy)
        return ExponentialBackoffDelayRetryStrategy(
            max_attempts, initial_delay, max_retry_delay, multiplier, result_predicate,
            exception_predicate)


class AsyncFunction(Function, Generic[IN, OUT]):
    """A function that triggers an asynchronous I/O operation per input.

    ``async_invoke`` is awaited on the operator's event loop without blocking the stream: as
    long as fewer than ``capacity`` calls are pending, the next input is taken at once.

    Example::

        class Lookup(AsyncFunction):
            async def async_invoke(self, value):
                row = await client.get(value)   # any awaitable I/O
                return [row]

            def timeout(self, value):
                return [None]                   # instead of failing the job
    """

    @abc.abstractmethod
    async def async_invoke(self, value: IN) -> List[OUT]:
        """Triggers the asynchronous operation for one input; returns its results (a list).

        An exception fails the job (and so restarts it), unless the retry strategy retries it.

        :param value: the input element.
        """

    def timeout(self, value: IN) -> List[OUT]:
        """Called when ``async_invoke`` for ``value`` did not complete within the timeout;
        returns the results to emit instead. By default it raises a ``TimeoutError``, which
        fails the job."""
        raise TimeoutError("Async function call has timed out for input: " + str(value))


class AsyncFunctionDescriptor:
    """What ``AsyncDataStream`` records about one async operator (PyFlink's descriptor)."""

    class OutputMode(Enum):
        ORDERED = 0
        UNORDERED = 1

    def __init__(self, async_function: Any, timeout: Any, capacity: int,
                 async_retry_strategy: Any, output_mode: "AsyncFunctionDescriptor.OutputMode"
                 ) -> None:
        self.async_function = async_function
        self.timeout = timeout
        self.capacity = capacity
        self.async_retry_strategy = async_retry_strategy
        self.output_mode = output_mode
