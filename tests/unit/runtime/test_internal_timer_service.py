"""InternalTimerService on its own: a recording target, a backend that only holds the current
key, and a manual processing-time service (a controllable clock whose due timers the test
fires)."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

import pytest

from flink_py.runtime.operators.base import MIN_WATERMARK
from flink_py.runtime.operators.timers import InternalTimerService
from flink_py.runtime.tasks.processing_time import ScheduledTimer


class Backend:
    """What the timer service needs of a keyed state backend: the current key."""

    def __init__(self) -> None:
        self.current_key: Any = None

    def set_current_key(self, key: Any) -> None:
        self.current_key = key


class Recorder:
    """The operator side: records each firing with the key current at that moment."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.fired: List[Tuple[str, int, Any, Any, Any]] = []
        self.on_fire: Optional[Callable[[str, Any], None]] = None

    def _record(self, domain: str, timer: Any) -> None:
        self.fired.append((domain, timer.timestamp, timer.key, timer.namespace,
                           self.backend.current_key))
        if self.on_fire is not None:
            self.on_fire(domain, timer)

    def on_event_time(self, timer: Any) -> None:
        self._record("event", timer)

    def on_processing_time(self, timer: Any) -> None:
        self._record("processing", timer)


class ManualProcessingTimeService:
    """A ProcessingTimeService whose clock the test sets; ``advance_to`` fires due timers."""

    def __init__(self, now: int = 0) -> None:
        self.now = now
        self.timers: List[ScheduledTimer] = []

    def get_current_processing_time(self) -> int:
        return self.now

    def register_timer(self, timestamp: int, callback: Callable[[int], None]) -> ScheduledTimer:
        timer = ScheduledTimer(timestamp, callback)
        self.timers.append(timer)
        return timer

    def pending(self) -> List[int]:
        return sorted(t.timestamp for t in self.timers if not t.cancelled)

    def advance_to(self, now: int) -> None:
        self.now = now
        while True:
            due = [t for t in self.timers if not t.cancelled and t.timestamp <= now]
            if not due:
                return
            timer = min(due, key=lambda t: t.timestamp)
            self.timers.remove(timer)
            timer.callback(timer.timestamp)


@pytest.fixture
def parts() -> Tuple[InternalTimerService, Backend, Recorder, ManualProcessingTimeService]:
    backend = Backend()
    recorder = Recorder(backend)
    clock = ManualProcessingTimeService()
    return InternalTimerService(recorder, backend, clock), backend, recorder, clock


def register(service: InternalTimerService, backend: Backend, key: Any, timestamp: int,
             namespace: Any = None, domain: str = "event") -> None:
    backend.current_key = key
    if domain == "event":
        service.register_event_time_timer(namespace, timestamp)
    else:
        service.register_processing_time_timer(namespace, timestamp)


def delete(service: InternalTimerService, backend: Backend, key: Any, timestamp: int,
           namespace: Any = None, domain: str = "event") -> None:
    backend.current_key = key
    if domain == "event":
        service.delete_event_time_timer(namespace, timestamp)
    else:
        service.delete_processing_time_timer(namespace, timestamp)


# -- event time ---------------------------------------------------------------------------------

def test_the_watermark_fires_due_timers_in_timestamp_order_with_their_key_current(parts):
    service, backend, recorder, _ = parts
    for key, timestamp in [("a", 30), ("b", 10), ("c", 20), ("a", 5), ("b", 40)]:
        register(service, backend, key, timestamp)
    backend.current_key = "someone else"
    service.advance_watermark(20)  # fires timestamp <= watermark
    assert recorder.fired == [("event", 5, "a", None, "a"), ("event", 10, "b", None, "b"),
                              ("event", 20, "c", None, "c")]
    assert service.current_watermark == 20
    assert service.num_event_time_timers() == 2
    service.advance_watermark(29)
    assert len(recorder.fired) == 3
    service.advance_watermark(40)
    assert [f[1:3] for f in recorder.fired[3:]] == [(30, "a"), (40, "b")]
    assert service.num_event_time_timers() == 0


def test_the_initial_watermark_is_the_minimum(parts):
    service, *_ = parts
    assert service.current_watermark == MIN_WATERMARK


def test_one_timer_per_key_namespace_and_timestamp(parts):
    service, backend, recorder, _ = parts
    register(service, backend, "a", 10)
    register(service, backend, "a", 10)
    register(service, backend, "b", 10)
    register(service, backend, "a", 10, namespace="window-1")
    register(service, backend, "a", 10, namespace="window-1")
    assert service.num_event_time_timers() == 3
    service.advance_watermark(10)
    assert sorted(((f[2], f[3]) for f in recorder.fired), key=repr) == [
        ("a", "window-1"), ("a", None), ("b", None)]


def test_deleted_timers_do_not_fire_and_deleting_is_per_key_and_namespace(parts):
    service, backend, recorder, _ = parts
    register(service, backend, "a", 10)
    register(service, backend, "a", 20, namespace="w")
    delete(service, backend, "b", 10)                 # another key's: no effect
    delete(service, backend, "a", 20)                 # another namespace: no effect
    delete(service, backend, "a", 99)                 # never registered: no-op
    assert service.num_event_time_timers() == 2
    delete(service, backend, "a", 10)
    assert service.num_event_time_timers() == 1
    service.advance_watermark(100)
    assert [f[1:4] for f in recorder.fired] == [(20, "a", "w")]


def test_a_timer_deleted_and_registered_again_fires_once(parts):
    service, backend, recorder, _ = parts
    register(service, backend, "a", 10)
    delete(service, backend, "a", 10)
    register(service, backend, "a", 10)
    register(service, backend, "a", 10)
    assert service.num_event_time_timers() == 1
    service.advance_watermark(10)
    service.advance_watermark(100)
    assert [f[1:3] for f in recorder.fired] == [(10, "a")]


def test_a_timer_registered_while_firing_that_is_due_fires_in_the_same_advance(parts):
    service, backend, recorder, _ = parts

    def chain(domain: str, timer: Any) -> None:
        if timer.timestamp < 30:  # the backend's current key is the firing timer's
            service.register_event_time_timer(None, timer.timestamp + 5)
        if timer.timestamp == 10:
            service.delete_event_time_timer(None, 25)

    recorder.on_fire = chain
    register(service, backend, "a", 10)
    register(service, backend, "a", 25)
    service.advance_watermark(20)
    assert [f[1] for f in recorder.fired] == [10, 15, 20]
    service.advance_watermark(100)
    # 25 was deleted by the timer at 10 before it was due; 20 registered 25 again
    assert [f[1] for f in recorder.fired] == [10, 15, 20, 25, 30]


def test_a_timer_at_or_below_the_current_watermark_fires_on_the_next_advance(parts):
    service, backend, recorder, _ = parts
    service.advance_watermark(50)
    register(service, backend, "a", 40)  # already late: Flink fires it with the next watermark
    assert recorder.fired == []
    service.advance_watermark(51)
    assert [f[1] for f in recorder.fired] == [40]


# -- processing time ------------------------------------------------------------------------------

def test_processing_time_timers_are_scheduled_once_at_the_earliest(parts):
    service, backend, recorder, clock = parts
    register(service, backend, "a", 100, domain="processing")
    register(service, backend, "b", 300, domain="processing")
    assert clock.pending() == [100]
    register(service, backend, "c", 50, domain="processing")  # earlier: rescheduled
    assert clock.pending() == [50]
    clock.advance_to(120)
    assert [(f[0], f[1], f[2], f[4]) for f in recorder.fired] == [
        ("processing", 50, "c", "c"), ("processing", 100, "a", "a")]
    assert clock.pending() == [300]  # the next one is scheduled after firing
    clock.advance_to(1000)
    assert [f[1] for f in recorder.fired] == [50, 100, 300]
    assert clock.pending() == []
    assert service.num_processing_time_timers() == 0


def test_a_deleted_processing_time_timer_does_not_fire(parts):
    service, backend, recorder, clock = parts
    register(service, backend, "a", 100, domain="processing")
    register(service, backend, "a", 200, domain="processing")
    register(service, backend, "a", 200, domain="processing")  # one timer
    delete(service, backend, "a", 100, domain="processing")
    clock.advance_to(150)
    assert recorder.fired == []
    assert clock.pending() == [200]
    clock.advance_to(250)
    assert [f[1] for f in recorder.fired] == [200]


def test_processing_time_timers_registered_while_firing(parts):
    service, backend, recorder, clock = parts

    def again(domain: str, timer: Any) -> None:
        if timer.timestamp < 300:
            service.register_processing_time_timer(None, timer.timestamp + 100)

    recorder.on_fire = again
    register(service, backend, "a", 100, domain="processing")
    clock.advance_to(100)
    assert [f[1] for f in recorder.fired] == [100]
    assert clock.pending() == [200]
    clock.advance_to(1000)
    assert [f[1] for f in recorder.fired] == [100, 200, 300]


def test_event_and_processing_time_timers_are_separate(parts):
    service, backend, recorder, clock = parts
    register(service, backend, "a", 10, domain="event")
    register(service, backend, "a", 10, domain="processing")
    delete(service, backend, "a", 10, domain="event")
    service.advance_watermark(100)
    clock.advance_to(100)
    assert [f[:2] for f in recorder.fired] == [("processing", 10)]


def test_close_cancels_the_scheduled_processing_time_timer(parts):
    service, backend, recorder, clock = parts
    register(service, backend, "a", 100, domain="processing")
    service.close()
    assert clock.pending() == []
    clock.advance_to(200)
    assert recorder.fired == []


def test_current_processing_time_is_the_services(parts):
    service, _, _, clock = parts
    clock.now = 12345
    assert service.current_processing_time() == 12345
