"""Two-input process operators: CoProcessFunction, KeyedCoProcessFunction and the broadcast
process functions (broadcast state).

Each input's records go to the function's method for that input; outputs are yielded (``yield
tag, value`` for a side output) and carry the input record's timestamp. Keyed variants make
the record's key current (keyed state, timers) before calling the function. Broadcast state is
a dict per MapStateDescriptor held by every parallel instance: the broadcast input writes it,
identically everywhere, and the other input reads it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from flink_py.api.state import BroadcastState as ApiBroadcastState
from flink_py.api.state import MapState, MapStateDescriptor
from flink_py.api.time_domain import TimeDomain
from flink_py.errors import InvalidProgramError
from flink_py.runtime.operators.base import TwoInputStreamOperator, close_function
from flink_py.runtime.operators.keyed_process import TimerFiringMixin, _KeyedTimerService
from flink_py.runtime.operators.simple import SideOutputCollector, SimpleTimerService
from flink_py.runtime.operators.timers import InternalTimerService


class BroadcastState(MapState, ApiBroadcastState):
    """The broadcast state of one descriptor: a plain dict (no key scoping). In
    ``process_element`` it is read-only (PyFlink's ``ReadOnlyBroadcastState``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entries: Dict[Any, Any] = {}
        self.read_only = False

    def _writable(self) -> None:
        if self.read_only:
            raise InvalidProgramError(
                f"broadcast state {self.name!r} is read-only in process_element; only "
                f"process_broadcast_element may change it")

    def get(self, key: Any) -> Any:
        return self.entries.get(key)

    def put(self, key: Any, value: Any) -> None:
        self._writable()
        self.entries[key] = value

    def put_all(self, dict_value: Dict[Any, Any]) -> None:
        self._writable()
        self.entries.update(dict_value)

    def remove(self, key: Any) -> None:
        self._writable()
        self.entries.pop(key, None)

    def contains(self, key: Any) -> bool:
        return key in self.entries

    def items(self) -> Iterable[Tuple[Any, Any]]:
        return list(self.entries.items())

    def keys(self) -> Iterable[Any]:
        return list(self.entries)

    def values(self) -> Iterable[Any]:
        return list(self.entries.values())

    def is_empty(self) -> bool:
        return not self.entries

    def clear(self) -> None:
        self._writable()
        self.entries.clear()


class _Context:
    """One context object for every two-input process function (each uses its part)."""

    __slots__ = ("_operator", "_timestamp", "_time_domain", "_read_only")

    def __init__(self, operator: "TwoInputProcessOperator") -> None:
        self._operator = operator
        self._timestamp: Optional[int] = None
        self._time_domain: Optional[TimeDomain] = None
        self._read_only = False

    def timestamp(self) -> Optional[int]:
        return self._timestamp

    def timer_service(self) -> Any:
        return self._operator.user_timer_service

    def get_current_key(self) -> Any:
        backend = self._operator.keyed_state_backend
        if not self._operator.keyed:
            raise InvalidProgramError(
                f"get_current_key() needs keyed inputs; '{self._operator.name}' is not keyed")
        return backend.current_key

    def time_domain(self) -> Optional[TimeDomain]:
        return self._time_domain

    def current_processing_time(self) -> int:
        return self._operator.user_timer_service.current_processing_time()

    def current_watermark(self) -> int:
        return self._operator.current_watermark

    def get_broadcast_state(self, state_descriptor: Any) -> BroadcastState:
        state = self._operator.broadcast_state(state_descriptor)
        state.read_only = self._read_only
        return state


class TwoInputProcessOperator(TimerFiringMixin, TwoInputStreamOperator):
    """Runs a two-input process function.

    :param methods: the function's method names for input 1 and input 2.
    :param key_selectors: per input, the key selector of a keyed input (or None).
    :param broadcast: whether input 2 is a broadcast stream (its method may write the
        broadcast state; input 1's only reads it).
    """

    def __init__(self, name: str, function: Any, methods: Tuple[str, str],
                 key_selectors: Tuple[Optional[Callable[[Any], Any]],
                                      Optional[Callable[[Any], Any]]] = (None, None),
                 broadcast: bool = False,
                 broadcast_descriptors: Optional[List[MapStateDescriptor]] = None) -> None:
        super().__init__(name)
        self.function = function
        self.methods = methods
        self.key_selectors = key_selectors
        self.keyed = key_selectors[0] is not None
        self.broadcast = broadcast
        self._broadcast: Dict[str, BroadcastState] = {
            d.name: BroadcastState(d.name) for d in broadcast_descriptors or []}

    def broadcast_state(self, descriptor: Any) -> BroadcastState:
        if not isinstance(descriptor, MapStateDescriptor):
            raise InvalidProgramError(
                f"get_broadcast_state expects a MapStateDescriptor, got {descriptor!r}")
        state = self._broadcast.get(descriptor.name)
        if state is None:
            raise InvalidProgramError(
                f"no broadcast state {descriptor.name!r} in '{self.name}': broadcast() the "
                f"stream with that descriptor (have {sorted(self._broadcast)})")
        return state

    def snapshot_broadcast_state(self) -> Dict[str, list]:
        return {name: list(state.entries.items()) for name, state in self._broadcast.items()}

    def restore_broadcast_state(self, states: Dict[str, list]) -> None:
        for name, entries in states.items():
            state = self._broadcast.get(name)
            if state is None:  # the program no longer broadcasts with this descriptor
                raise InvalidProgramError(
                    f"{self.describe()} restores broadcast state {name!r} but has no "
                    f"broadcast descriptor of that name (have {sorted(self._broadcast)})")
            state.entries = dict(entries)

    def open(self) -> None:
        if self.keyed:
            self.timers: Optional[InternalTimerService] = self.get_internal_timer_service(
                "user-timers", self)
            self.user_timer_service: Any = _KeyedTimerService(self.timers)
        else:
            self.timers = None
            self.user_timer_service = SimpleTimerService(self)
        self._ctx = _Context(self)
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")
        self._f = [getattr(self.function, m) for m in self.methods]
        on_timer = getattr(self.function, "on_timer", None)
        self._on_timer = on_timer if callable(on_timer) else (lambda timestamp, ctx: ())

    def _process(self, index: int, values: list, timestamps: Optional[list]) -> None:
        f = self._f[index]
        ctx = self._ctx
        ctx._read_only = self.broadcast and index == 0
        key_of = self.key_selectors[index]
        backend = self.keyed_state_backend
        set_key = backend.set_current_key
        collector = SideOutputCollector(timestamps is not None)
        add_all = collector.add_all
        try:
            for i, v in enumerate(values):
                t = None if timestamps is None else timestamps[i]
                ctx._timestamp = t
                if key_of is not None:
                    set_key(key_of(v))
                add_all(f(v, ctx), t)
        except Exception as exc:
            raise self.user_error(exc)
        collector.flush_to(self.output)

    def process_batch1(self, values: list, timestamps: Optional[list]) -> None:
        self._process(0, values, timestamps)

    def process_batch2(self, values: list, timestamps: Optional[list]) -> None:
        self._process(1, values, timestamps)

    # -- timers (keyed): TimerFiringMixin ---------------------------------------------------

    def _on_timer_context(self) -> Any:
        self._ctx._read_only = True  # on_timer only reads broadcast state
        return self._ctx

    def close(self) -> None:
        super().close()  # the timers
        try:
            close_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "close()")


class KeyedTwoInputProcessOperator(TwoInputProcessOperator):
    """The keyed variant: input 1 (and input 2 unless it is broadcast) is keyed."""

    computes_keys = True
