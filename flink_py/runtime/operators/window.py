"""Windows at run time: Flink's ``WindowOperator`` (and, with an evictor, its
``EvictingWindowOperator``) on a keyed stream.

For each element, with its key current:

1. the assigner gives the element's windows (its context brings the processing time, and the
   keyed state the count assigners keep their counters in);
2. with a merging assigner (sessions) every window goes through the key's
   :class:`MergingWindowSet` (persisted in a keyed MapState): the element then belongs to the
   merged window, whose contents live in the namespace of its *state window*; merging moves
   the merged windows' contents and trigger state into it and drops their cleanup timers;
3. a window that is already late (event time: ``max_timestamp + allowed_lateness <=
   watermark``) is skipped; otherwise the element is added to the window's contents, a
   ListState of the elements (or of ``TimestampedValue``s with an evictor), or a
   ReducingState / AggregatingState for an incremental ``reduce`` / ``aggregate``;
4. the trigger decides: FIRE evaluates the window function on the contents (nothing happens
   for empty contents) and emits its results with the timestamp ``window.max_timestamp()``;
   PURGE clears the contents;
5. a cleanup timer is registered at ``max_timestamp + allowed_lateness`` (event time) or
   ``max_timestamp`` (processing time); when it fires, contents, trigger state and per-window
   state are cleared. Windows ending at ``Long.MAX_VALUE`` (global and count windows) are
   never cleaned up.

An element that no window took is late if ``timestamp + allowed_lateness <= watermark``; it
goes to the late-data side output if one was set, otherwise it is dropped. Within the
allowed lateness an element of a window that already fired fires it again (the event-time
trigger fires at once when the watermark is past the window).

Timers are registered in the window's namespace, so the trigger sees its window again when
they fire. With an evictor, the pane is handed to ``evict_before`` as a list of
``TimestampedValue``, the window function sees what is left, ``evict_after`` runs after it,
and what remains is written back.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, Callable, Dict, Iterable, List, Optional

from flink_py.api.functions import (
    AggregateFunction, Function, KeyedStateStore, ProcessAllWindowFunction, ProcessWindowFunction,
    ReduceFunction)
from flink_py.api.state import (
    AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor,
    StateDescriptor)
from flink_py.api.windowing.assigners import (
    MergingWindowAssigner, TumblingEventTimeWindows, WindowAssigner)
from flink_py.api.windowing.evictors import Evictor, TimestampedValue
from flink_py.api.windowing.triggers import (
    EventTimeTrigger, ProcessingTimeTrigger, Trigger, TriggerResult)
from flink_py.api.windowing.windows import MAX_LONG_VALUE, MIN_LONG_VALUE, TimeWindow
from flink_py.errors import FlinkPyError, InvalidProgramError
from flink_py.runtime.operators.base import StreamOperator, close_function
from flink_py.runtime.operators.merging_window_set import MergingWindowSet
from flink_py.runtime.operators.simple import SideOutputCollector
from flink_py.runtime.operators.timers import InternalTimer, InternalTimerService

__all__ = ["WindowOperator", "InternalWindowFunction", "WINDOW_STATE_NAME"]

#: Flink's name of the window contents state
WINDOW_STATE_NAME = "window-contents"
#: Flink's name of the MapState that persists a key's MergingWindowSet
MERGING_WINDOW_SET_STATE_NAME = "merging-window-set"

_CONTINUE = TriggerResult.CONTINUE

#: how the contents of a window are kept: every element, or one reduced / aggregated value
CONTENTS_LIST, CONTENTS_REDUCE, CONTENTS_AGGREGATE = "list", "reduce", "aggregate"


def _state_of_own(backend: Any, descriptor: StateDescriptor) -> Any:
    """A state object of the operator's own for ``descriptor``: it reads and writes the same
    tables as the object the runtime context hands out for that name, but has its own
    namespace, so that setting a window as namespace never changes the namespace of a handle
    user code holds (the backend keeps one object per name)."""
    backend.get_partitioned_state(descriptor)  # validates name, kind and type
    return backend.create_internal_state(descriptor)


class _StateCache:
    """The operator's own state objects, one per descriptor object."""

    __slots__ = ("_backend", "_states")

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._states: Dict[StateDescriptor, Any] = {}

    def get(self, descriptor: Any, namespace: Any) -> Any:
        state = self._states.get(descriptor)
        if state is None:
            if not isinstance(descriptor, StateDescriptor):
                raise InvalidProgramError(
                    f"partitioned state needs a StateDescriptor, got {type(descriptor).__name__} "
                    f"{descriptor!r}")
            state = self._states[descriptor] = _state_of_own(self._backend, descriptor)
        state.set_current_namespace(namespace)
        return state


class _PerWindowStateStore(KeyedStateStore):
    """``context.window_state()``: keyed state of the current key and window."""

    def __init__(self, backend: Any) -> None:
        self._cache = _StateCache(backend)
        self.window: Any = None

    def _get(self, descriptor: Any, kind: str) -> Any:
        if getattr(descriptor, "kind", None) != kind:
            raise InvalidProgramError(
                f"window_state().get_{'' if kind == 'value' else kind + '_'}state expects a "
                f"{kind.capitalize()}StateDescriptor, got {descriptor!r}")
        return self._cache.get(descriptor, self.window)

    def get_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "value")

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "list")

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "map")

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "reducing")

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._get(state_descriptor, "aggregating")


class _TriggerContext(Trigger.OnMergeContext):
    """What triggers use: clocks, timers and state, in the namespace of ``window``."""

    def __init__(self, timers: InternalTimerService, backend: Any,
                 runtime_context: Any = None) -> None:
        self._timers = timers
        self._states = _StateCache(backend)
        self._runtime_context = runtime_context
        self.window: Any = None
        #: the windows being merged into ``window`` (only during ``on_merge``)
        self.merged_windows: Optional[List[Any]] = None

    def get_current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def get_metric_group(self) -> Any:
        """The window operator's metric group (its runtime context's), as in Flink."""
        return _metric_group(self._runtime_context, "triggers")

    def get_current_watermark(self) -> int:
        return self._timers.current_watermark

    def register_processing_time_timer(self, time: int) -> None:
        self._timers.register_processing_time_timer(self.window, time)

    def register_event_time_timer(self, time: int) -> None:
        self._timers.register_event_time_timer(self.window, time)

    def delete_processing_time_timer(self, time: int) -> None:
        self._timers.delete_processing_time_timer(self.window, time)

    def delete_event_time_timer(self, time: int) -> None:
        self._timers.delete_event_time_timer(self.window, time)

    def get_partitioned_state(self, state_descriptor: StateDescriptor) -> Any:
        return self._states.get(state_descriptor, self.window)

    def merge_partitioned_state(self, state_descriptor: StateDescriptor) -> None:
        if self.merged_windows:
            if state_descriptor.kind not in ("list", "reducing", "aggregating"):
                raise InvalidProgramError(
                    f"merge_partitioned_state needs a merging state (list, reducing or "
                    f"aggregating), got {state_descriptor!r}")
            self.get_partitioned_state(state_descriptor).merge_namespaces(
                self.window, self.merged_windows)


class _WindowAssignerContext(WindowAssigner.WindowAssignerContext):
    def __init__(self, operator: "WindowOperator") -> None:
        self._operator = operator

    def get_current_processing_time(self) -> int:
        return self._operator.timers.current_processing_time()

    def get_runtime_context(self) -> Any:
        return self._operator.runtime_context


def _metric_group(runtime_context: Any, what: str) -> Any:
    if runtime_context is None:
        raise NotImplementedError(f"metric groups are not available to {what} here: the "
                                  f"context has no runtime context")
    return runtime_context.get_metrics_group()


class _EvictorContext(Evictor.EvictorContext):
    def __init__(self, timers: InternalTimerService, runtime_context: Any = None) -> None:
        self._timers = timers
        self._runtime_context = runtime_context

    def get_current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def get_metric_group(self) -> Any:
        """The window operator's metric group (its runtime context's), as in Flink."""
        return _metric_group(self._runtime_context, "evictors")

    def get_current_watermark(self) -> int:
        return self._timers.current_watermark


class _WindowContext(ProcessWindowFunction.Context, ProcessAllWindowFunction.Context):
    """The context of a ProcessWindowFunction / ProcessAllWindowFunction."""

    def __init__(self, timers: InternalTimerService, backend: Any,
                 runtime_context: Any) -> None:
        self._timers = timers
        self._window_state = _PerWindowStateStore(backend)
        self._global_state = runtime_context
        self._window: Any = None

    def set_window(self, window: Any) -> None:
        self._window = window
        self._window_state.window = window

    def window(self) -> Any:
        return self._window

    def current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def current_watermark(self) -> int:
        return self._timers.current_watermark

    def window_state(self) -> _PerWindowStateStore:
        return self._window_state

    def global_state(self) -> Any:
        return self._global_state


# -- the window function --------------------------------------------------------------------------


class InternalWindowFunction:
    """The user's window function as the operator calls it (Flink's InternalWindowFunction
    family in one class): ``process(key, window, context, contents)`` returns the outputs,
    ``clear(window, context)`` runs when the window is cleaned up.

    :param function: the user's function (a Function or a plain callable), or None to emit
        the contents as they are (``reduce`` / ``aggregate`` without a window function).
    :param style: ``"apply"`` (``WindowFunction.apply(key, window, inputs)``, non-keyed
        ``AllWindowFunction.apply(window, inputs)``), ``"process"``
        (``ProcessWindowFunction.process(key, context, elements)``, non-keyed
        ``ProcessAllWindowFunction.process(context, elements)``) or ``"pass_through"``.
    :param keyed: whether the function is given the key (False for ``window_all``).
    """

    APPLY, PROCESS, PASS_THROUGH = "apply", "process", "pass_through"

    def __init__(self, function: Any, style: str, keyed: bool = True) -> None:
        if style not in (self.APPLY, self.PROCESS, self.PASS_THROUGH):
            raise InvalidProgramError(f"unknown window function style {style!r}")
        self.function = function
        self.style = style
        self.keyed = keyed
        self.process: Callable[[Any, Any, Any, list], Optional[Iterable[Any]]] = (
            self._bind())

    def _bind(self) -> Callable[[Any, Any, Any, list], Optional[Iterable[Any]]]:
        f = self.function
        if self.style == self.PASS_THROUGH or f is None:
            return lambda key, window, context, contents: contents
        method = getattr(f, self.style, None) if isinstance(f, Function) else None
        call = method if callable(method) else f
        if self.style == self.APPLY:
            if self.keyed:
                return lambda key, window, context, contents: call(key, window, contents)
            return lambda key, window, context, contents: call(window, contents)
        if self.keyed:
            return lambda key, window, context, contents: call(key, context, contents)
        return lambda key, window, context, contents: call(context, contents)

    def clear(self, window: Any, context: Any) -> None:
        if self.style == self.PROCESS and isinstance(self.function, Function):
            clear = getattr(self.function, "clear", None)
            if callable(clear):
                clear(context)

    def __getstate__(self) -> Dict[str, Any]:
        return {"function": self.function, "style": self.style, "keyed": self.keyed}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__init__(state["function"], state["style"], state["keyed"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"InternalWindowFunction({self.function!r}, {self.style!r})"


def _contents_descriptor(kind: str, function: Any, input_type: Any,
                         with_evictor: bool) -> StateDescriptor:
    if with_evictor or kind == CONTENTS_LIST:
        # An evictor needs every element (with its timestamp); reduce / aggregate then run
        # over what is left when the window fires.
        return ListStateDescriptor(WINDOW_STATE_NAME, None if with_evictor else input_type)
    if kind == CONTENTS_REDUCE:
        return ReducingStateDescriptor(WINDOW_STATE_NAME, function, input_type)
    if kind == CONTENTS_AGGREGATE:
        return AggregatingStateDescriptor(WINDOW_STATE_NAME, function, input_type)
    raise InvalidProgramError(f"unknown window contents kind {kind!r}")


# -- the operator ---------------------------------------------------------------------------------


class WindowOperator(StreamOperator):
    """Windows of a keyed stream (``KeyedStream.window``, ``DataStream.window_all`` on a
    constant key); see the module docstring.

    :param contents_kind: ``"list"`` (``apply`` / ``process``), ``"reduce"`` or
        ``"aggregate"``; ``contents_function`` is the ReduceFunction (or callable) or the
        AggregateFunction of the last two.
    """

    computes_keys = True

    def __init__(self, name: str, window_assigner: WindowAssigner, trigger: Trigger,
                 allowed_lateness: int, late_data_output_tag: Any, contents_kind: str,
                 contents_function: Any, window_function: InternalWindowFunction,
                 key_selector: Callable[[Any], Any], evictor: Optional[Evictor] = None,
                 input_type: Any = None) -> None:
        super().__init__(name)
        if isinstance(allowed_lateness, bool) or not isinstance(allowed_lateness, int) or (
                allowed_lateness < 0):
            raise InvalidProgramError(
                f"the allowed lateness must be an int >= 0 ms, got {allowed_lateness!r}")
        self.window_assigner = window_assigner
        self.trigger = trigger
        self.allowed_lateness = allowed_lateness
        self.late_data_output_tag = late_data_output_tag
        self.contents_kind = contents_kind
        self.contents_function = contents_function
        self.window_function = window_function
        self.key_selector = key_selector
        self.evictor = evictor
        self.contents_descriptor = _contents_descriptor(
            contents_kind, contents_function, input_type, evictor is not None)

    # -- lifecycle --------------------------------------------------------------------------

    def open(self) -> None:
        backend = self.keyed_state_backend
        self.timers = self.get_internal_timer_service("window-timers", self)
        self._is_event_time = bool(self.window_assigner.is_event_time())
        self._merging = isinstance(self.window_assigner, MergingWindowAssigner)
        self._contents = _state_of_own(backend, self.contents_descriptor)
        self._merging_windows_state = _state_of_own(backend, MapStateDescriptor(
            MERGING_WINDOW_SET_STATE_NAME)) if self._merging else None
        self._trigger_context = _TriggerContext(self.timers, backend, self.runtime_context)
        self._assigner_context = _WindowAssignerContext(self)
        self._window_context = _WindowContext(self.timers, backend, self.runtime_context)
        self._evictor_context = _EvictorContext(self.timers, self.runtime_context)
        self._collector: Optional[SideOutputCollector] = None
        self._late_tag_id = (None if self.late_data_output_tag is None
                             else self.late_data_output_tag.tag_id)
        self._assign = self.window_assigner.assign_windows
        self._add_contents = self._contents_adder()
        # The default triggers register exactly the cleanup timer (the window's end) for every
        # window they see when there is no lateness: registering it again would only cost.
        trigger_type = type(self.trigger)
        self._trigger_registers_cleanup_timer = (
            (trigger_type is EventTimeTrigger and self._is_event_time
             and self.allowed_lateness == 0)
            or (trigger_type is ProcessingTimeTrigger and not self._is_event_time))
        # The common case gets a loop of its own: event-time windows that do not merge, the
        # default trigger, no evictor (see _process_batch_event_time).
        # Their timers fire through one inlined step (_fire_event_time_timer), with or
        # without an evictor.
        self._event_time_fast_firing = (self._is_event_time and not self._merging
                                        and trigger_type is EventTimeTrigger)
        self._event_time_fast_path = self._event_time_fast_firing and self.evictor is None
        self._tumbling = ((self.window_assigner._size, self.window_assigner._offset)
                          if type(self.window_assigner) is TumblingEventTimeWindows else None)
        self._window_cache: Dict[int, TimeWindow] = {}
        #: per key, the window whose timers the fast path registered last (windows of a key
        #: arrive mostly in order, so this saves a set lookup per element)
        self._timers_registered_for: Dict[Any, Any] = {}
        self._evaluate = self.window_function.process
        # What the contents are when the window fires, as a list for the window function.
        if self.evictor is not None:
            self._pre_aggregate = self._pre_aggregation()
        self._user_functions = [f for f in (self.contents_function, self.window_function.function)
                                if isinstance(f, Function)]
        try:
            for function in self._user_functions:
                self.open_user_function(function)
        except Exception as exc:
            raise self.user_error(exc, "open()")

    def _contents_adder(self) -> Callable[[Any, Any, Any], None]:
        """``add(key, window, element)``: adds an element to a window's contents.

        Straight into the state's table (``key -> {window: contents}``, the layout of
        ``runtime/state/keyed_state.py``): the operator's own window state has no TTL, and
        this is the per-element path.
        """
        if not getattr(self.keyed_state_backend, "heap_tables", False):
            # serialized state (rocksdb): through the state object, the key is current
            contents = self._contents

            def add_through_state(key: Any, window: Any, element: Any) -> None:
                contents.set_current_namespace(window)
                contents.add(element)
            return add_through_state
        table = self._contents._ns_table
        if self.evictor is not None or self.contents_kind == CONTENTS_LIST:
            def add_to_list(key: Any, window: Any, element: Any) -> None:
                windows = table.get(key)
                if windows is None:
                    table[key] = {window: [element]}
                    return
                elements = windows.get(window)
                if elements is None:
                    windows[window] = [element]
                else:
                    elements.append(element)
            return add_to_list
        if self.contents_kind == CONTENTS_REDUCE:
            reduce = self.contents_descriptor.reduce_function  # type: ignore[attr-defined]

            def reduce_into(key: Any, window: Any, element: Any) -> None:
                windows = table.get(key)
                if windows is None:
                    table[key] = {window: element}
                    return
                current = windows.get(window)
                windows[window] = element if current is None else reduce(current, element)
            return reduce_into
        aggregate = self.contents_function

        def aggregate_into(key: Any, window: Any, element: Any) -> None:
            windows = table.get(key)
            if windows is None:
                windows = table[key] = {}
            accumulator = windows.get(window)
            if accumulator is None:
                accumulator = aggregate.create_accumulator()
            windows[window] = aggregate.add(element, accumulator)
        return aggregate_into

    def _pre_aggregation(self) -> Callable[[list], list]:
        """With an evictor, ``reduce`` / ``aggregate`` run over the pane when it fires (as
        Flink's ReduceApplyWindowFunction / AggregateApplyWindowFunction)."""
        function = self.contents_function
        if self.contents_kind == CONTENTS_REDUCE:
            reduce = function.reduce if isinstance(function, ReduceFunction) else function
            return lambda values: [functools.reduce(reduce, values)] if values else []
        if self.contents_kind == CONTENTS_AGGREGATE:
            aggregate: AggregateFunction = function

            def apply_aggregate(values: list) -> list:
                accumulator = aggregate.create_accumulator()
                for value in values:
                    accumulator = aggregate.add(value, accumulator)
                return [aggregate.get_result(accumulator)]
            return apply_aggregate
        return lambda values: values

    def close(self) -> None:
        timers = getattr(self, "timers", None)
        if timers is not None:
            timers.close()
        errors = []
        for function in getattr(self, "_user_functions", ()):
            try:
                close_function(function)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise self.user_error(errors[0], "close()")

    # -- elements -------------------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        collector = self._collector = SideOutputCollector(True)
        try:
            if self._event_time_fast_path and timestamps is not None:
                self._process_batch_event_time(values, timestamps)
            else:
                key_of = self.key_selector
                set_key = self.keyed_state_backend.set_current_key
                process = self._process_merging if self._merging else self._process
                for value, timestamp in zip(values, timestamps if timestamps is not None
                                            else itertools.repeat(None)):
                    set_key(key_of(value))
                    process(value, timestamp)
        except Exception as exc:
            raise self.user_error(exc)
        finally:
            self._collector = None
        collector.flush_to(self.output)

    def _process_batch_event_time(self, values: list, timestamps: list) -> None:
        """``process_batch``'s loop for non-merging event-time windows with the
        EventTimeTrigger: the trigger's ``on_element`` inlined (register a timer at the
        window's max timestamp; FIRE at once if the watermark is already past it, which takes
        the general path), tumbling windows computed inline and reused, timers registered
        only once."""
        if len(self._timers_registered_for) > 100_000:  # (a bound on what it remembers)
            self._timers_registered_for.clear()
        if (self._tumbling is not None and not self.allowed_lateness
                and self.contents_kind == CONTENTS_AGGREGATE
                and getattr(self.keyed_state_backend, "heap_tables", False)):
            self._tumbling_aggregate_into_tables(values, timestamps)
        else:
            self._event_time_elements(values, timestamps)

    def _tumbling_aggregate_into_tables(self, values: list, timestamps: list) -> None:
        """The most common window job (tumbling windows, an ``aggregate``/``reduce``, no
        allowed lateness, the heap backend), per element: the window, the accumulator in the
        heap table, a timer once per key and window. An element that is late or fires at once
        (its window's end is not past the watermark), or has no timestamp, takes
        :meth:`_event_time_elements`."""
        key_of = self.key_selector
        set_key = self.keyed_state_backend.set_current_key
        timers = self.timers
        register = timers.register_event_time_timer
        watermark = timers.current_watermark
        cache = self._window_cache
        registered_for = self._timers_registered_for
        table = self._contents._ns_table
        aggregate_add = self.contents_function.add
        create_accumulator = self.contents_function.create_accumulator
        size, offset = self._tumbling
        min_long = MIN_LONG_VALUE
        # the window of the previous element (the watermark does not move within a batch, so
        # a window found open stays open): [window_start, window_end)
        window_start = window_end = max_timestamp = 0
        window = None
        for value, timestamp in zip(values, timestamps):
            if not window_start <= timestamp < window_end:
                start = timestamp - (timestamp - offset) % size
                if timestamp <= min_long or start + size - 1 <= watermark:
                    self._event_time_elements([value], [timestamp])
                    continue
                window = cache.get(start) or self._new_tumbling_window(start)
                window_start, window_end = start, start + size
                max_timestamp = window_end - 1
            key = key_of(value)
            # _contents_adder's aggregate_into, inlined: it is most of the work per element
            windows_of_key = table.get(key)
            if windows_of_key is None:
                windows_of_key = table[key] = {}
            accumulator = windows_of_key.get(window)
            windows_of_key[window] = aggregate_add(
                value, create_accumulator() if accumulator is None else accumulator)
            if registered_for.get(key) is not window:
                set_key(key)
                register(window, max_timestamp)  # (the timer service deduplicates)
                registered_for[key] = window

    def _new_tumbling_window(self, start: int) -> TimeWindow:
        """The tumbling window starting at ``start``, made and cached (the cache of the event
        time loops, which reuse one window object per start, bounded)."""
        size = self._tumbling[0]  # type: ignore[index]
        cache = self._window_cache
        if len(cache) > 4096:
            cache.clear()
        window = cache[start] = TimeWindow(start, start + size)
        return window

    def _event_time_elements(self, values: list, timestamps: list) -> None:
        """The loop of :meth:`_process_batch_event_time` for any assigner and contents."""
        key_of = self.key_selector
        backend = self.keyed_state_backend
        set_key = backend.set_current_key
        add = self._add_contents
        timers = self.timers
        register = timers.register_event_time_timer
        watermark = timers.current_watermark
        lateness = self.allowed_lateness
        assign = self._assign
        assigner_context = self._assigner_context
        tumbling = self._tumbling
        cache = self._window_cache
        registered_for = self._timers_registered_for
        # The heap tables take the key with the element, so the key is made current only
        # where something reads it: a timer's registration, the general path, a late element.
        # Serialized state (rocksdb) adds through the state object, which reads it.
        key_for_add = not getattr(backend, "heap_tables", False)
        size, offset = tumbling if tumbling is not None else (0, 0)
        min_long = MIN_LONG_VALUE
        for value, timestamp in zip(values, timestamps):
            key = key_of(value)
            if key_for_add:
                set_key(key)
            # A record without a timestamp (MIN_LONG) goes to the assigner, which rejects it.
            if tumbling is not None and timestamp > min_long:
                start = timestamp - (timestamp - offset) % size
                windows: Iterable[Any] = (cache.get(start) or self._new_tumbling_window(start),)
            else:
                windows = assign(value, timestamp, assigner_context)
            taken = False
            for window in windows:
                max_timestamp = window[1] - 1
                if max_timestamp + lateness <= watermark:
                    continue  # late: its state is (or will be) gone
                taken = True
                if max_timestamp <= watermark:  # FIRE now: the general path
                    set_key(key)
                    self._process_window(value, timestamp, key, window, value)
                    continue
                add(key, window, value)
                if registered_for.get(key) is window:
                    continue  # this key's timers for this window are in place
                set_key(key)
                register(window, max_timestamp)  # (the timer service deduplicates)
                # the cleanup timer, unless it would be at or past Long.MAX_VALUE
                # (_register_cleanup_timer's rule)
                if lateness and max_timestamp + lateness < MAX_LONG_VALUE:
                    register(window, max_timestamp + lateness)
                registered_for[key] = window
            if not taken:
                set_key(key)
                self._late_element(value, timestamp)

    def _process_window(self, value: Any, timestamp: Optional[int], key: Any,
                        window: Any, element: Any) -> None:
        """One element (``value``, stored as ``element``) into one non-merging window,
        through the trigger."""
        self._add_contents(key, window, element)
        trigger_context = self._trigger_context
        trigger_context.window = window
        result = self.trigger.on_element(value, timestamp, window, trigger_context)
        if result is not _CONTINUE:
            fire, purge = result.value
            contents = self._contents
            if fire:
                contents.set_current_namespace(window)
                if not self._emit_window_contents(window):
                    return
            if purge:
                contents.set_current_namespace(window)
                contents.clear()
        if not self._trigger_registers_cleanup_timer:
            self._register_cleanup_timer(window)

    def _process(self, value: Any, timestamp: Optional[int]) -> None:
        key = self.keyed_state_backend.current_key
        element = value if self.evictor is None else TimestampedValue(value, timestamp)
        event_time = self._is_event_time
        lateness = self.allowed_lateness
        watermark = self.timers.current_watermark
        skipped = True
        for window in self._assign(value, timestamp, self._assigner_context):
            if event_time and window.max_timestamp() + lateness <= watermark:
                continue  # the window is late: its state is (or will be) gone
            skipped = False
            self._process_window(value, timestamp, key, window, element)
        if skipped:
            self._late_element(value, timestamp)

    def _process_merging(self, value: Any, timestamp: Optional[int]) -> None:
        contents = self._contents
        trigger_context = self._trigger_context
        on_element = self.trigger.on_element
        element = value if self.evictor is None else TimestampedValue(value, timestamp)
        merging_windows = self._merging_window_set()
        skipped = True
        for window in self._assign(value, timestamp, self._assigner_context):
            # The element belongs to the window its window merged into, if it merged.
            actual_window = merging_windows.add_window(window, self._merge)
            if self._is_event_time and self._cleanup_time(actual_window) <= (
                    self.timers.current_watermark):
                merging_windows.retire_window(actual_window)
                continue
            skipped = False
            state_window = merging_windows.get_state_window(actual_window)
            if state_window is None:
                raise FlinkPyError(f"Window {window} is not in in-flight window set.")
            contents.set_current_namespace(state_window)
            contents.add(element)
            trigger_context.window = actual_window
            result = on_element(value, timestamp, actual_window, trigger_context)
            if result is not _CONTINUE:
                fire, purge = result.value
                if fire and not self._emit_window_contents(actual_window):
                    continue
                if purge:
                    contents.clear()
            if not self._trigger_registers_cleanup_timer:
                self._register_cleanup_timer(actual_window)
        merging_windows.persist()
        if skipped:
            self._late_element(value, timestamp)

    def _late_element(self, value: Any, timestamp: Optional[int]) -> None:
        """An element no window took: to the late-data side output if it is late."""
        if (self._is_event_time and self._late_tag_id is not None and timestamp is not None
                and timestamp + self.allowed_lateness <= self.timers.current_watermark):
            self._collector.add_all(  # type: ignore[union-attr]
                ((self.late_data_output_tag, value),), timestamp)
        # else: dropped (Flink counts it in numLateRecordsDropped)

    def _merging_window_set(self) -> MergingWindowSet:
        return MergingWindowSet(self.window_assigner, self._merging_windows_state)

    def _merge(self, merge_result: Any, merged_windows: List[Any], state_window_result: Any,
               merged_state_windows: List[Any]) -> None:
        """MergingWindowSet's merge function: trigger state and contents follow the merge."""
        if self._is_event_time:
            if merge_result.max_timestamp() + self.allowed_lateness <= (
                    self.timers.current_watermark):
                raise FlinkPyError(
                    f"The end timestamp of an event-time window cannot become earlier than the "
                    f"current watermark by merging. Current watermark: "
                    f"{self.timers.current_watermark} window: {merge_result}")
        else:
            now = self.timers.current_processing_time()
            if merge_result.max_timestamp() <= now:
                raise FlinkPyError(
                    f"The end timestamp of a processing-time window cannot become earlier than "
                    f"the current processing time by merging. Current processing time: {now} "
                    f"window: {merge_result}")
        context = self._trigger_context
        context.window = merge_result
        context.merged_windows = merged_windows
        try:
            self.trigger.on_merge(merge_result, context)
        finally:
            context.merged_windows = None
        for merged_window in merged_windows:
            context.window = merged_window
            self.trigger.clear(merged_window, context)
            self._delete_cleanup_timer(merged_window)
        self._contents.merge_namespaces(state_window_result, merged_state_windows)

    # -- firing -----------------------------------------------------------------------------

    def _emit_window_contents(self, window: Any) -> bool:
        """Evaluates ``window`` on the contents in the current namespace; False if there are
        none (then nothing is emitted, as in Flink)."""
        contents = self._contents.get()
        if contents is None:
            return False
        if self.evictor is not None:
            if not contents:
                return False
            self._emit_evicting(window, list(contents))
            return True
        if self.contents_kind == CONTENTS_LIST:
            if not contents:
                return False
            contents = list(contents)  # the function must not change the stored list
        else:
            contents = [contents]
        context = self._window_context
        context.set_window(window)
        self._collector.add_all(  # type: ignore[union-attr]
            self._evaluate(self.keyed_state_backend.current_key, window, context, contents),
            window.max_timestamp())
        return True

    def _emit_evicting(self, window: Any, records: List[TimestampedValue]) -> None:
        evictor = self.evictor
        evictor.evict_before(records, len(records), window,  # type: ignore[union-attr]
                             self._evictor_context)
        values = self._pre_aggregate([record.value for record in records])
        context = self._window_context
        context.set_window(window)
        if values:
            self._collector.add_all(  # type: ignore[union-attr]
                self._evaluate(self.keyed_state_backend.current_key, window, context, values),
                window.max_timestamp())
        evictor.evict_after(records, len(records), window,  # type: ignore[union-attr]
                            self._evictor_context)
        # What the evictors left is the pane from now on (Flink's FLINK-4369 work-around).
        self._contents.update(records)

    # -- timers -----------------------------------------------------------------------------

    def on_event_time(self, timer: InternalTimer) -> None:
        try:
            if self._event_time_fast_firing:
                self._fire_event_time_timer(timer)
            else:
                self._on_timer(timer, self.trigger.on_event_time, self._is_event_time)
        except Exception as exc:
            raise self.user_error(exc)

    def _fire_event_time_timer(self, timer: InternalTimer) -> None:
        """``_on_timer`` for event-time windows that do not merge, with the EventTimeTrigger,
        its calls inlined: FIRE when the timer is at the window's max timestamp, then the
        cleanup at the cleanup time. The trigger's ``clear`` (deleting the timer at the max
        timestamp) is left out: that timer fired already, at or before this one, and
        deleting a timer the queue no longer holds changes nothing."""
        window = timer.namespace
        timestamp = timer.timestamp
        contents = self._contents
        contents.set_current_namespace(window)
        max_timestamp = window.max_timestamp()  # (a user's assigner may have its own windows)
        if timestamp == max_timestamp:
            self._emit_window_contents(window)
        if timestamp == self._cleanup_time(window):
            contents.clear()
            context = self._window_context
            context.set_window(window)
            self.window_function.clear(window, context)

    def on_processing_time(self, timer: InternalTimer) -> None:
        own_collector = self._collector is None
        if own_collector:
            self._collector = SideOutputCollector(True)
        try:
            self._on_timer(timer, self.trigger.on_processing_time, not self._is_event_time)
        except Exception as exc:
            raise self.user_error(exc)
        finally:
            collector = self._collector
            if own_collector:
                self._collector = None
        if own_collector:
            collector.flush_to(self.output)  # type: ignore[union-attr]

    def _on_timer(self, timer: InternalTimer, on_timer: Callable[..., Any],
                  cleans_up: bool) -> None:
        window = timer.namespace
        context = self._trigger_context
        context.window = window
        contents = self._contents
        merging_windows = None
        if self._merging:
            merging_windows = self._merging_window_set()
            state_window = merging_windows.get_state_window(window)
            if state_window is None:
                # A timer of a window that merged away or was cleaned up, whose trigger did not
                # delete it: that window's state is already gone.
                return
            contents.set_current_namespace(state_window)
        else:
            contents.set_current_namespace(window)
        fire, purge = on_timer(timer.timestamp, window, context).value
        if fire:
            self._emit_window_contents(window)
        if purge:
            contents.clear()
        if cleans_up and timer.timestamp == self._cleanup_time(window):
            self._clear_all_state(window, merging_windows)
        if merging_windows is not None:
            merging_windows.persist()

    def _clear_all_state(self, window: Any, merging_windows: Optional[MergingWindowSet]) -> None:
        self._contents.clear()
        context = self._trigger_context
        context.window = window
        self.trigger.clear(window, context)
        self._window_context.set_window(window)
        self.window_function.clear(window, self._window_context)
        if merging_windows is not None:
            merging_windows.retire_window(window)

    def process_watermark(self, watermark: int) -> None:
        collector = self._collector = SideOutputCollector(True)
        try:
            self.timers.advance_watermark(watermark)
        finally:
            self._collector = None
        collector.flush_to(self.output)
        super().process_watermark(watermark)

    def fire_timers_of_current_key(self) -> None:
        # as process_watermark: what the timers emit is collected, then flushed
        collector = self._collector = SideOutputCollector(True)
        try:
            super().fire_timers_of_current_key()
        finally:
            self._collector = None
        collector.flush_to(self.output)

    # -- cleanup timers -----------------------------------------------------------------------

    def _cleanup_time(self, window: Any) -> int:
        """When the window's state goes: ``max_timestamp + allowed_lateness`` in event time
        (``Long.MAX_VALUE``, never, if that overflows), ``max_timestamp`` in processing time."""
        max_timestamp = window.max_timestamp()
        if self._is_event_time:
            return min(max_timestamp + self.allowed_lateness, MAX_LONG_VALUE)
        return max_timestamp

    def _register_cleanup_timer(self, window: Any) -> None:
        cleanup_time = self._cleanup_time(window)
        if cleanup_time == MAX_LONG_VALUE:
            return  # no timer for "end of time" (global and count windows)
        if self._is_event_time:
            self.timers.register_event_time_timer(window, cleanup_time)
        else:
            self.timers.register_processing_time_timer(window, cleanup_time)

    def _delete_cleanup_timer(self, window: Any) -> None:
        cleanup_time = self._cleanup_time(window)
        if cleanup_time == MAX_LONG_VALUE:
            return
        if self._is_event_time:
            self.timers.delete_event_time_timer(window, cleanup_time)
        else:
            self.timers.delete_processing_time_timer(window, cleanup_time)
