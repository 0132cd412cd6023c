"""The timers of a keyed operator: event-time timers fired by the watermark, processing-time
timers fired by the wall clock (through the task's ProcessingTimeService).

A timer is ``(timestamp, key, namespace)`` and is registered for the operator's current key.
Registering the same timer twice keeps one; deleting one that fired or never existed is a
no-op. Event-time timers fire, in timestamp order (equal timestamps in the order of Flink's
heap, :mod:`flink_py.runtime.state.timer_queue`), once the watermark reaches their timestamp
(``timestamp <= watermark``); before a timer's callback runs, the key is made current so
that state reads and writes see that key's state.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from flink_py.runtime.operators.base import MAX_WATERMARK, MIN_WATERMARK
from flink_py.runtime.state.timer_queue import (
    EventTimeRegistrar, InternalTimer, KeyGroupedTimerQueue)

__all__ = ["DEFAULT_TIMER_SERVICE", "InternalTimeServiceManager", "InternalTimer",
           "InternalTimerService"]


#: the name of an operator's timer service when it has one (Flink's "user-timers")
DEFAULT_TIMER_SERVICE = "user-timers"


class InternalTimerService:
    """Timers of one keyed operator instance.

    ``target`` has ``on_event_time(timer)`` and ``on_processing_time(timer)``; the backend's
    current key is set to the timer's key before each call. The two queues (``<name>/event``
    and ``<name>/processing``) are created by the keyed state backend, which snapshots and
    restores them per key group; restored processing-time timers are scheduled here.
    """

    def __init__(self, target: Any, keyed_state_backend: Any,
                 processing_time_service: Any, name: str = DEFAULT_TIMER_SERVICE) -> None:
        self._target = target
        self._backend = keyed_state_backend
        self._processing_time_service = processing_time_service
        self.name = name
        create = getattr(keyed_state_backend, "create_timer_queue", None)
        if create is None:  # no keyed backend (a test double): timers only in memory
            create = KeyGroupedTimerQueue
        self._event_timers = create(f"{name}/event")
        self._processing_timers = create(f"{name}/processing")
        self._scheduled: Any = None  # the ScheduledTimer of the earliest processing timer
        self._scheduled_time: Optional[int] = None
        self.current_watermark = MIN_WATERMARK
        restored = self._processing_timers.peek_time()
        if restored is not None and processing_time_service is not None:
            self._schedule(restored)

    # -- registration (for the current key) ----------------------------------------------------

    def register_event_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._event_timers.add(timestamp, self._backend.current_key, namespace)

    @property
    def keyed_state_backend(self) -> Any:
        """The backend whose current key the timers are registered for."""
        return self._backend

    def event_time_timer_adder(self) -> Any:
        """``add(timestamp, key, namespace)`` of the event-time queue, for a caller that
        registers a timer per record and knows the key (one call less than
        :meth:`register_event_time_timer`)."""
        return self._event_timers.add

    def event_time_registrar(self, namespace: Any,
                             validate: Callable[[Any], int]) -> Optional[Callable[[int], None]]:
        """``register(timestamp)``: an event-time timer in ``namespace`` for the current key,
        run in C (``_timer_heap.EventTimeRegistrar``; a timestamp that is not an int goes
        through ``validate``). None when the queue is not the compiled one."""
        if EventTimeRegistrar is None or type(self._event_timers) is not KeyGroupedTimerQueue:
            return None
        return EventTimeRegistrar(self._event_timers, self._backend, namespace, validate)

    def delete_event_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._event_timers.remove(timestamp, self._backend.current_key, namespace)

    def register_processing_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._processing_timers.add(timestamp, self._backend.current_key, namespace)
        if self._scheduled_time is None or timestamp < self._scheduled_time:
            self._schedule(timestamp)

    def delete_processing_time_timer(self, namespace: Any, timestamp: int) -> None:
        self._processing_timers.remove(timestamp, self._backend.current_key, namespace)

    def current_processing_time(self) -> int:
        return self._processing_time_service.get_current_processing_time()

    def num_event_time_timers(self) -> int:
        return len(self._event_timers)

    def num_processing_time_timers(self) -> int:
        return len(self._processing_timers)

    # -- firing ---------------------------------------------------------------------------------

    def advance_watermark(self, watermark: int) -> None:
        """Fires every event-time timer with ``timestamp <= watermark``, in order."""
        self.current_watermark = watermark
        # Timers the callbacks register (or delete) go to the same heap, so a due one
        # registered while firing fires in this loop too.
        pop_due = self._event_timers.pop_due
        set_key = self._backend.set_current_key
        on_event_time = self._target.on_event_time
        timer = pop_due(watermark)
        while timer is not None:
            set_key(timer.key)
            on_event_time(timer)
            timer = pop_due(watermark)

    def fire_timers_of_current_key(self) -> None:
        """BATCH execution, after the last record of a key (its input is sorted by key, so
        every queued timer is that key's): fires its event-time timers as at the end of
        time, then its processing-time timers, as Flink's BatchExecutionInternalTimeService
        does when the current key changes; the watermark is then back at its start."""
        self.advance_watermark(MAX_WATERMARK)
        self.current_watermark = MIN_WATERMARK
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
            self._scheduled_time = None
        self._fire_processing_timers(MAX_WATERMARK)

    def _schedule(self, timestamp: int) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
        self._scheduled_time = timestamp
        self._scheduled = self._processing_time_service.register_timer(
            timestamp, self._on_processing_time)

    def _on_processing_time(self, time: int) -> None:
        self._scheduled = None
        self._scheduled_time = None
        self._fire_processing_timers(max(time, self.current_processing_time()))
        following = self._processing_timers.peek_time()
        if following is not None and (self._scheduled_time is None
                                      or following < self._scheduled_time):
            self._schedule(following)

    def _fire_processing_timers(self, now: int) -> None:
        """Fires every processing-time timer with ``timestamp <= now``, in order."""
        pop = self._processing_timers.pop_due
        set_key = self._backend.set_current_key
        timer = pop(now)
        while timer is not None:
            set_key(timer.key)
            self._target.on_processing_time(timer)
            timer = pop(now)

    def close(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None


class InternalTimeServiceManager:
    """The timer services of one keyed operator, by name (Flink's
    InternalTimeServiceManager): each service's queues live in the operator's keyed state
    backend, so they are part of its snapshots."""

    def __init__(self, keyed_state_backend: Any, processing_time_service: Any) -> None:
        self._backend = keyed_state_backend
        self._processing_time_service = processing_time_service
        self._services: Dict[str, InternalTimerService] = {}

    def get_internal_timer_service(self, name: str, target: Any) -> InternalTimerService:
        """The service ``name``, created on first use with ``target`` as its callback."""
        service = self._services.get(name)
        if service is None:
            service = self._services[name] = InternalTimerService(
                target, self._backend, self._processing_time_service, name)
        return service

    def advance_watermark(self, watermark: int) -> None:
        for service in self._services.values():
            service.advance_watermark(watermark)

    def fire_timers_of_current_key(self) -> None:
        """BATCH execution: every service fires the timers of the key whose records ended
        (:meth:`InternalTimerService.fire_timers_of_current_key`)."""
        for service in self._services.values():
            service.fire_timers_of_current_key()

    def close(self) -> None:
        for service in self._services.values():
            service.close()
