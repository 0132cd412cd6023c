"""``KeyedStream.process(KeyedProcessFunction)``: per-key state and timers.

For each record the operator makes the record's key current (state reads and writes that
key's state), then runs ``process_element``; timers registered through
``ctx.timer_service()`` call ``on_timer`` with that key current again. Outputs of
``process_element`` carry the input record's timestamp; outputs of an event-time ``on_timer``
carry the timer's timestamp, those of a processing-time one none (as Flink's
KeyedProcessOperator).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from flink_py.api.functions import KeyedProcessFunction
from flink_py.api.time_domain import TimeDomain
from flink_py.api.timerservice import TimerService
from flink_py.errors import InvalidProgramError
from flink_py.runtime.operators.base import UdfOperator, unwrap_function
from flink_py.runtime.operators.simple import SideOutputCollector
from flink_py.runtime.operators.timers import InternalTimer, InternalTimerService

#: the namespace of the timers of a KeyedProcessFunction (Flink's VoidNamespace)
VOID_NAMESPACE = None


class _KeyedTimerService(TimerService):
    """The user's TimerService: timers in the void namespace, for the current key."""

    __slots__ = ("_timers", "_add_event_time_timer", "_backend")

    def __init__(self, timers: InternalTimerService) -> None:
        self._timers = timers
        self._add_event_time_timer = timers.event_time_timer_adder()
        self._backend = timers.keyed_state_backend

    def current_processing_time(self) -> int:
        return self._timers.current_processing_time()

    def current_watermark(self) -> int:
        return self._timers.current_watermark

    def register_processing_time_timer(self, timestamp: int) -> None:
        self._timers.register_processing_time_timer(VOID_NAMESPACE, _timestamp(timestamp))

    def register_event_time_timer(self, timestamp: int) -> None:
        if type(timestamp) is not int:  # once per record in W5: the common case is one check
            timestamp = _timestamp(timestamp)
        self._add_event_time_timer(timestamp, self._backend.current_key, VOID_NAMESPACE)

    def delete_processing_time_timer(self, timestamp: int) -> None:
        self._timers.delete_processing_time_timer(VOID_NAMESPACE, _timestamp(timestamp))

    def delete_event_time_timer(self, timestamp: int) -> None:
        self._timers.delete_event_time_timer(VOID_NAMESPACE, _timestamp(timestamp))


class _CompiledKeyedTimerService(_KeyedTimerService):
    """The same, with ``register_event_time_timer`` the compiled queue's registrar (one
    Python frame less per call: a KeyedProcessFunction registers a timer per record)."""

    __slots__ = ("register_event_time_timer",)

    def __init__(self, timers: InternalTimerService, registrar: Callable[[int], None]) -> None:
        super().__init__(timers)
        self.register_event_time_timer = registrar  # type: ignore[method-assign]


def _keyed_timer_service(timers: InternalTimerService) -> _KeyedTimerService:
    registrar = timers.event_time_registrar(VOID_NAMESPACE, _timestamp)
    if registrar is None:
        return _KeyedTimerService(timers)
    return _CompiledKeyedTimerService(timers, registrar)


def _timestamp(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProgramError(
            f"a timer's timestamp must be an int of milliseconds, got {value!r}")
    return int(value)


class _Context(KeyedProcessFunction.OnTimerContext):
    __slots__ = ("_timestamp", "_timer_service", "_backend", "_time_domain")

    def __init__(self, timer_service: TimerService, backend: Any) -> None:
        self._timestamp: Optional[int] = None
        self._timer_service = timer_service
        self._backend = backend
        self._time_domain: Optional[TimeDomain] = None

    def timestamp(self) -> Optional[int]:
        return self._timestamp

    def timer_service(self) -> TimerService:
        return self._timer_service

    def get_current_key(self) -> Any:
        return self._backend.current_key

    def time_domain(self) -> Optional[TimeDomain]:
        return self._time_domain


_EVENT_TIME = TimeDomain.EVENT_TIME


class TimerFiringMixin:
    """``on_timer`` for the operators whose functions have timers (``self.timers``, an
    InternalTimerService, or None when not keyed), for Flink's TimestampedCollector rules:
    outputs of an event-time timer carry its timestamp, of a processing-time timer none.

    The timers fired by one watermark share one collector, flushed before the watermark goes
    on: one emission downstream instead of one per timer. Needs ``self._ctx`` (``_timestamp``,
    ``_time_domain``) and ``self._on_timer``.
    """

    timers: Optional[InternalTimerService] = None
    _timer_output: Optional[SideOutputCollector] = None

    def _on_timer_context(self) -> Any:
        """The context ``on_timer`` gets (subclasses may adjust it first)."""
        return self._ctx  # type: ignore[attr-defined]

    def on_event_time(self, timer: InternalTimer, domain: TimeDomain = _EVENT_TIME) -> None:
        """Runs ``on_timer`` for ``timer`` (of ``domain``: processing-time timers come here
        too). A watermark's timers (nearly every timer of a timer-heavy job) go to its shared
        collector, in this one call per timer; any other timer gets a collector of its own."""
        collector = self._timer_output
        if collector is None:
            self._timer_output = collector = SideOutputCollector(domain is _EVENT_TIME)
            try:
                self.on_event_time(timer, domain)
            finally:
                self._timer_output = None
            collector.flush_to(self.output)  # type: ignore[attr-defined]
            return
        ctx = self._on_timer_context()
        timestamp = ctx._timestamp = timer.timestamp
        ctx._time_domain = domain
        try:
            results = self._on_timer(timestamp, ctx)  # type: ignore[attr-defined]
            if results is not None and not (type(results) is tuple and not results):
                collector.add_all(results, timestamp if domain is _EVENT_TIME else None)
        except Exception as exc:
            raise self.user_error(exc, "on_timer()")  # type: ignore[attr-defined]
        finally:
            ctx._time_domain = None

    def on_processing_time(self, timer: InternalTimer) -> None:
        self.on_event_time(timer, TimeDomain.PROCESSING_TIME)

    def process_watermark(self, watermark: int) -> None:
        if self.timers is not None:
            collector = self._timer_output = SideOutputCollector(True)
            try:
                self.timers.advance_watermark(watermark)
            finally:
                self._timer_output = None
            collector.flush_to(self.output)  # type: ignore[attr-defined]
        # a function may emit rows older than the watermark by up to this (Flink's
        # KeyedCoProcessOperatorWithWatermarkDelay, under a table's interval join)
        delay = getattr(getattr(self, "function", None), "output_watermark_delay", 0)
        if delay:
            self.current_watermark = watermark  # type: ignore[attr-defined]
            self.output.emit_watermark(watermark - delay)  # type: ignore[attr-defined]
            return
        super().process_watermark(watermark)  # type: ignore[misc]

    def close(self) -> None:
        if self.timers is not None:
            self.timers.close()
        super().close()  # type: ignore[misc]


class KeyedProcessOperator(TimerFiringMixin, UdfOperator):
    """Runs a KeyedProcessFunction (or a ProcessFunction) on a keyed stream."""

    computes_keys = True

    def __init__(self, name: str, function: Any, key_selector: Callable[[Any], Any]) -> None:
        super().__init__(name, function)
        self.key_selector = key_selector

    def open(self) -> None:
        backend = self.keyed_state_backend
        self.timers = self.get_internal_timer_service("user-timers", self)
        self._ctx = _Context(_keyed_timer_service(self.timers), backend)
        super().open()  # the function's open() may already ask for state
        self._process = unwrap_function(self.function, "process_element")
        on_timer = getattr(self.function, "on_timer", None)
        self._on_timer: Callable[..., Any] = on_timer if callable(on_timer) else (
            lambda timestamp, ctx: ())

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        f = self._process
        key_of = self.key_selector
        ctx = self._ctx
        backend = self.keyed_state_backend
        set_key = backend.set_current_key
        collector = SideOutputCollector(timestamps is not None)
        add_all = collector.add_all
        try:
            # A function that emits nothing for a record (returns None or ()) is common
            # with timers (W5): skip the collector call for it.
            if timestamps is None:
                ctx._timestamp = None
                for v in values:
                    set_key(key_of(v))
                    results = f(v, ctx)
                    if results is not None and not (type(results) is tuple and not results):
                        add_all(results, None)
            else:
                for v, t in zip(values, timestamps):
                    set_key(key_of(v))
                    ctx._timestamp = t
                    results = f(v, ctx)
                    if results is not None and not (type(results) is tuple and not results):
                        add_all(results, t)
        except Exception as exc:
            raise self.user_error(exc)
        collector.flush_to(self.output)

