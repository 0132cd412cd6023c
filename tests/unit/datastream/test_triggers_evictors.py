"""Triggers and evictors (``flink_py.datastream.window``): Flink's exact result sequences.

The triggers run against ``FakeTriggerContext``, an in-memory test double of the
``Trigger.OnMergeContext`` interface (clock, watermark, timers, per-window state).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from flink_py.common.time import Time
from flink_py.datastream.window import (
    ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger, CountEvictor, CountTrigger,
    CountWindow, DeltaEvictor, DeltaFunction, EventTimeTrigger, Evictor, GlobalWindow,
    NeverTrigger, ProcessingTimeTrigger, PurgingTrigger, TimeEvictor, TimestampedValue,
    TimeWindow, Trigger, TriggerResult)
from flink_py.errors import InvalidProgramError, InvalidTypeError

CONTINUE, FIRE = TriggerResult.CONTINUE, TriggerResult.FIRE
PURGE, FIRE_AND_PURGE = TriggerResult.PURGE, TriggerResult.FIRE_AND_PURGE
LONG_MIN = -(2 ** 63)


class FakeReducingState:
    def __init__(self, store: Dict, key: Tuple, reduce_function) -> None:
        self._store, self._key, self._reduce = store, key, reduce_function

    def get(self) -> Any:
        return self._store.get(self._key)

    def add(self, value: Any) -> None:
        current = self._store.get(self._key)
        self._store[self._key] = value if current is None else self._reduce(current, value)

    def clear(self) -> None:
        self._store.pop(self._key, None)


class FakeTriggerContext(Trigger.OnMergeContext):
    """Test double of the trigger context: the window operator sets ``window`` (and, for a
    merge, ``merged_windows``) before calling the trigger."""

    def __init__(self, watermark: int = LONG_MIN, now: int = 0) -> None:
        self.watermark = watermark
        self.now = now
        self.window: Any = None
        self.merged_windows: List[Any] = []
        self.event_timers: Set[Tuple[Any, int]] = set()
        self.processing_timers: Set[Tuple[Any, int]] = set()
        self.store: Dict[Tuple, Any] = {}

    def get_current_processing_time(self) -> int:
        return self.now

    def get_current_watermark(self) -> int:
        return self.watermark

    def register_processing_time_timer(self, time: int) -> None:
        self.processing_timers.add((self.window, time))

    def register_event_time_timer(self, time: int) -> None:
        self.event_timers.add((self.window, time))

    def delete_processing_time_timer(self, time: int) -> None:
        self.processing_timers.discard((self.window, time))

    def delete_event_time_timer(self, time: int) -> None:
        self.event_timers.discard((self.window, time))

    def get_partitioned_state(self, state_descriptor: Any) -> FakeReducingState:
        return FakeReducingState(self.store, (self.window, state_descriptor.name),
                                 state_descriptor.reduce_function)

    def merge_partitioned_state(self, state_descriptor: Any) -> None:
        target = self.get_partitioned_state(state_descriptor)
        for merged in self.merged_windows:
            value = self.store.pop((merged, state_descriptor.name), None)
            if value is not None:
                target.add(value)

    # helpers for the tests
    def on(self, window: Any) -> "FakeTriggerContext":
        self.window = window
        return self

    def timers_of(self, window: Any) -> Tuple[List[int], List[int]]:
        return (sorted(t for w, t in self.event_timers if w == window),
                sorted(t for w, t in self.processing_timers if w == window))


W0_10 = TimeWindow(0, 10)


def test_trigger_result_flags():
    assert [(r.is_fire(), r.is_purge()) for r in (CONTINUE, FIRE, PURGE, FIRE_AND_PURGE)] == \
        [(False, False), (True, False), (False, True), (True, True)]


# -- EventTimeTrigger ---------------------------------------------------------------------------


def test_event_time_trigger_registers_a_timer_at_max_timestamp_and_fires_on_it():
    trigger, ctx = EventTimeTrigger.create(), FakeTriggerContext(watermark=5).on(W0_10)
    assert trigger.on_element("a", 3, W0_10, ctx) is CONTINUE
    assert ctx.timers_of(W0_10) == ([9], [])
    assert trigger.on_event_time(8, W0_10, ctx) is CONTINUE
    assert trigger.on_event_time(9, W0_10, ctx) is FIRE
    assert trigger.on_processing_time(9, W0_10, ctx) is CONTINUE
    trigger.clear(W0_10, ctx)
    assert ctx.timers_of(W0_10) == ([], [])


def test_event_time_trigger_fires_at_once_when_the_watermark_is_past_the_window():
    trigger = EventTimeTrigger()
    ctx = FakeTriggerContext(watermark=9).on(W0_10)
    assert trigger.on_element("late", 2, W0_10, ctx) is FIRE
    assert ctx.event_timers == set()
    ctx.watermark = 8
    assert trigger.on_element("a", 2, W0_10, ctx) is CONTINUE


def test_event_time_trigger_merge_registers_only_while_the_window_is_not_late():
    trigger = EventTimeTrigger()
    assert trigger.can_merge()
    ctx = FakeTriggerContext(watermark=20).on(TimeWindow(0, 30))
    trigger.on_merge(TimeWindow(0, 30), ctx)
    assert ctx.timers_of(TimeWindow(0, 30)) == ([29], [])
    ctx = FakeTriggerContext(watermark=29).on(TimeWindow(0, 30))
    trigger.on_merge(TimeWindow(0, 30), ctx)
    assert ctx.event_timers == set()
    assert repr(trigger) == "EventTimeTrigger()"


# -- ProcessingTimeTrigger ----------------------------------------------------------------------


def test_processing_time_trigger():
    trigger, ctx = ProcessingTimeTrigger.create(), FakeTriggerContext(now=100).on(W0_10)
    assert trigger.on_element("a", None, W0_10, ctx) is CONTINUE
    assert ctx.timers_of(W0_10) == ([], [9])
    assert trigger.on_processing_time(9, W0_10, ctx) is FIRE
    assert trigger.on_event_time(9, W0_10, ctx) is CONTINUE
    trigger.clear(W0_10, ctx)
    assert ctx.processing_timers == set()
    assert trigger.can_merge()
    ctx.now = 5
    trigger.on_merge(W0_10, ctx)
    assert ctx.timers_of(W0_10) == ([], [9])
    ctx = FakeTriggerContext(now=9).on(W0_10)
    trigger.on_merge(W0_10, ctx)
    assert ctx.processing_timers == set()


# -- CountTrigger and PurgingTrigger ------------------------------------------------------------


def test_count_trigger_fires_every_n_elements_per_window():
    trigger, ctx = CountTrigger.of(3), FakeTriggerContext()
    window_a, window_b = CountWindow(0), CountWindow(1)
    results = [trigger.on_element(i, None, window_a, ctx.on(window_a)) for i in range(7)]
    assert results == [CONTINUE, CONTINUE, FIRE, CONTINUE, CONTINUE, FIRE, CONTINUE]
    assert trigger.on_element("b", None, window_b, ctx.on(window_b)) is CONTINUE
    assert trigger.on_event_time(0, window_a, ctx) is CONTINUE
    assert trigger.on_processing_time(0, window_a, ctx) is CONTINUE
    trigger.clear(window_a, ctx.on(window_a))
    assert [trigger.on_element(i, None, window_a, ctx) for i in range(3)] == \
        [CONTINUE, CONTINUE, FIRE]
    assert ctx.store == {(window_b, "count"): 1}


def test_count_trigger_merges_the_counts_of_merged_windows():
    trigger, ctx = CountTrigger(3), FakeTriggerContext()
    a, b, merged = TimeWindow(0, 5), TimeWindow(4, 9), TimeWindow(0, 9)
    trigger.on_element("x", 0, a, ctx.on(a))
    trigger.on_element("y", 4, b, ctx.on(b))
    assert trigger.can_merge()
    ctx.on(merged).merged_windows = [a, b]
    trigger.on_merge(merged, ctx)
    assert trigger.on_element("z", 5, merged, ctx) is FIRE


def test_purging_trigger_turns_fire_into_fire_and_purge():
    ctx = FakeTriggerContext()
    purging = PurgingTrigger.of(CountTrigger.of(2))
    assert [purging.on_element(i, None, GlobalWindow.get(), ctx.on(GlobalWindow.get()))
            for i in range(4)] == [CONTINUE, FIRE_AND_PURGE, CONTINUE, FIRE_AND_PURGE]
    event = PurgingTrigger.of(EventTimeTrigger.create())
    ctx.on(W0_10)
    assert event.on_element("a", 1, W0_10, ctx) is CONTINUE
    assert event.on_event_time(9, W0_10, ctx) is FIRE_AND_PURGE
    assert event.on_event_time(5, W0_10, ctx) is CONTINUE
    assert event.on_processing_time(9, W0_10, ctx) is CONTINUE
    assert event.can_merge() and not PurgingTrigger(NeverTrigger()).can_merge()
    event.clear(W0_10, ctx)
    assert ctx.timers_of(W0_10) == ([], [])
    assert repr(event) == "PurgingTrigger(EventTimeTrigger())"
    with pytest.raises(InvalidTypeError, match="expects a Trigger"):
        PurgingTrigger.of(lambda: None)


def test_never_trigger_and_the_merge_default():
    trigger, ctx = NeverTrigger(), FakeTriggerContext().on(GlobalWindow.get())
    assert trigger.on_element("a", 1, GlobalWindow.get(), ctx) is CONTINUE
    assert trigger.on_event_time(1, GlobalWindow.get(), ctx) is CONTINUE
    assert trigger.on_processing_time(1, GlobalWindow.get(), ctx) is CONTINUE
    assert not trigger.can_merge()

    class OnlyFires(Trigger):
        def on_element(self, element, timestamp, window, ctx):
            return FIRE

        def on_processing_time(self, time, window, ctx):
            return CONTINUE

        def on_event_time(self, time, window, ctx):
            return CONTINUE

        def clear(self, window, ctx):
            pass

    assert not OnlyFires().can_merge()
    with pytest.raises(NotImplementedError, match="OnlyFires does not support merging"):
        OnlyFires().on_merge(W0_10, ctx)


# -- continuous triggers ------------------------------------------------------------------------


def test_continuous_event_time_trigger_fires_every_interval_and_at_the_end():
    window = TimeWindow(0, 5000)
    trigger = ContinuousEventTimeTrigger.of(Time.seconds(1))
    ctx = FakeTriggerContext().on(window)
    assert trigger.on_element("a", 1500, window, ctx) is CONTINUE
    assert ctx.timers_of(window) == ([2000, 4999], [])
    # a second element does not move the fire time
    assert trigger.on_element("b", 3700, window, ctx) is CONTINUE
    assert ctx.timers_of(window) == ([2000, 4999], [])
    fired = [(t, trigger.on_event_time(t, window, ctx)) for t in (2000, 2500, 3000, 4000)]
    assert fired == [(2000, FIRE), (2500, CONTINUE), (3000, FIRE), (4000, FIRE)]
    assert ctx.timers_of(window)[0] == [2000, 3000, 4000, 4999]
    assert ctx.store[(window, "fire-time")] == 4999
    assert trigger.on_event_time(4999, window, ctx) is FIRE
    trigger.clear(window, ctx)
    assert (window, "fire-time") not in ctx.store
    assert 4999 not in ctx.timers_of(window)[0]
    assert repr(trigger) == "ContinuousEventTimeTrigger(1000)"


def test_continuous_event_time_trigger_fires_late_elements_at_once():
    window = TimeWindow(0, 5000)
    ctx = FakeTriggerContext(watermark=5000).on(window)
    assert ContinuousEventTimeTrigger(1000).on_element("a", 100, window, ctx) is FIRE
    assert ctx.event_timers == set() and ctx.store == {}


def test_continuous_event_time_trigger_merge_keeps_the_earliest_fire_time():
    trigger, ctx = ContinuousEventTimeTrigger(1000), FakeTriggerContext()
    a, b, merged = TimeWindow(2500, 7500), TimeWindow(1200, 6200), TimeWindow(1200, 7500)
    trigger.on_element("a", 2500, a, ctx.on(a))
    trigger.on_element("b", 1200, b, ctx.on(b))
    assert (ctx.store[(a, "fire-time")], ctx.store[(b, "fire-time")]) == (3000, 2000)
    ctx.on(merged).merged_windows = [a, b]
    trigger.on_merge(merged, ctx)
    assert ctx.store[(merged, "fire-time")] == 2000
    assert ctx.timers_of(merged) == ([2000], [])


def test_continuous_processing_time_trigger():
    window = TimeWindow(0, 3500)
    trigger = ContinuousProcessingTimeTrigger.of(Time.seconds(1))
    ctx = FakeTriggerContext(now=1234).on(window)
    assert trigger.on_element("a", 99_999, window, ctx) is CONTINUE
    assert ctx.timers_of(window) == ([], [2000])
    assert trigger.on_processing_time(1500, window, ctx) is CONTINUE
    assert trigger.on_processing_time(2000, window, ctx) is FIRE
    assert trigger.on_processing_time(3000, window, ctx) is FIRE
    assert ctx.store[(window, "fire-time")] == 3499  # capped at the window's end
    assert trigger.on_processing_time(3499, window, ctx) is FIRE
    assert trigger.on_event_time(3499, window, ctx) is CONTINUE
    trigger.clear(window, ctx)
    # fired timers stay in the fake; clear deleted the pending one at the window's end
    assert ctx.timers_of(window)[1] == [2000, 3000] and ctx.store == {}
    assert trigger.can_merge()
    a, b, merged = TimeWindow(0, 10_000), TimeWindow(5, 10_000), TimeWindow(0, 10_000)
    ctx.store = {(a, "fire-time"): 4000, (b, "fire-time"): 3000}
    ctx.on(merged).merged_windows = [b]
    ctx.processing_timers = set()
    trigger.on_merge(merged, ctx)
    assert ctx.timers_of(merged) == ([], [3000])


@pytest.mark.parametrize("interval", [0, -1, Time.seconds(0)])
def test_continuous_triggers_need_a_positive_interval(interval):
    with pytest.raises(InvalidProgramError, match="interval must be > 0 ms"):
        ContinuousEventTimeTrigger.of(interval)
    with pytest.raises(InvalidProgramError, match="interval must be > 0 ms"):
        ContinuousProcessingTimeTrigger.of(interval)


# -- evictors -----------------------------------------------------------------------------------


class FakeEvictorContext(Evictor.EvictorContext):
    def get_current_processing_time(self) -> int:
        return 0

    def get_current_watermark(self) -> int:
        return LONG_MIN


def pane(*pairs: Tuple[Any, Optional[int]]) -> List[TimestampedValue]:
    return [TimestampedValue(value, timestamp) for value, timestamp in pairs]


def run_evictor(evictor: Evictor, elements: List[TimestampedValue], after: bool) -> List[Any]:
    method = evictor.evict_after if after else evictor.evict_before
    method(elements, len(elements), W0_10, FakeEvictorContext())
    return [e.get_value() for e in elements]


def test_timestamped_value():
    value = TimestampedValue("a", 5)
    assert (value.get_value(), value.get_timestamp(), value.has_timestamp()) == ("a", 5, True)
    assert value == TimestampedValue("a", 5) and value != TimestampedValue("a", 6)
    assert repr(value) == "TimestampedValue('a', 5)"
    without = TimestampedValue("b")
    assert not without.has_timestamp()
    with pytest.raises(InvalidProgramError, match="has no timestamp"):
        without.get_timestamp()


def test_count_evictor_keeps_the_last_elements():
    elements = pane(*[(i, i) for i in range(5)])
    assert run_evictor(CountEvictor.of(2), elements, after=True) == [0, 1, 2, 3, 4]
    assert run_evictor(CountEvictor.of(2), elements, after=False) == [3, 4]
    assert run_evictor(CountEvictor.of(5), pane((1, 1), (2, 2)), after=False) == [1, 2]
    assert run_evictor(CountEvictor.of(0), pane((1, 1), (2, 2)), after=False) == []
    after = CountEvictor.of(1, do_evict_after=True)
    assert run_evictor(after, pane((1, 1), (2, 2)), after=False) == [1, 2]
    assert run_evictor(after, pane((1, 1), (2, 2)), after=True) == [2]
    with pytest.raises(InvalidProgramError, match="max_count must be >= 0, got -1"):
        CountEvictor.of(-1)


def test_time_evictor_keeps_the_elements_within_window_size_of_the_newest():
    evictor = TimeEvictor.of(Time.seconds(3))
    elements = pane(("a", 1000), ("b", 2000), ("c", 4000), ("d", 5000), ("e", 3000),
                    ("f", 2001))
    # max timestamp 5000, cutoff 2000: everything at or before 2000 goes, wherever it is
    assert run_evictor(evictor, elements, after=False) == ["c", "d", "e", "f"]
    assert run_evictor(TimeEvictor.of(3000, do_evict_after=True),
                       pane(("a", 1000), ("d", 5000)), after=True) == ["d"]
    assert run_evictor(TimeEvictor.of(3000, True), pane(("a", 1000), ("d", 5000)),
                       after=False) == ["a", "d"]
    # a pane without timestamps is left alone, as in Flink
    assert run_evictor(evictor, pane(("a", None), ("b", None)), after=False) == ["a", "b"]
    assert run_evictor(evictor, [], after=False) == []


def test_delta_evictor_evicts_every_element_too_far_from_the_last():
    evictor = DeltaEvictor.of(5.0, lambda old, new: abs(new - old))
    assert run_evictor(evictor, pane((1, 1), (8, 2), (10, 3), (12, 4), (14, 5)),
                       after=False) == [10, 12, 14]
    assert run_evictor(evictor, pane((10, 1), (1, 2), (12, 3)), after=False) == [10, 12]

    class Distance(DeltaFunction):
        def get_delta(self, old_data_point, new_data_point):
            return abs(new_data_point[0] - old_data_point[0])

    after = DeltaEvictor.of(2, Distance(), do_evict_after=True)
    elements = pane(((0, "a"), 1), ((5, "b"), 2), ((6, "c"), 3))
    assert run_evictor(after, elements, after=False) == [(0, "a"), (5, "b"), (6, "c")]
    assert run_evictor(after, elements, after=True) == [(5, "b"), (6, "c")]
    with pytest.raises(InvalidTypeError, match="DeltaFunction or a callable"):
        DeltaEvictor.of(1.0, "abs")
    with pytest.raises(InvalidTypeError, match="threshold must be a number"):
        DeltaEvictor.of("1", abs)
