"""``MergingWindowSet``: merged windows and their state windows, as Flink's
``MergingWindowSetTest``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from flink_py.common.time import Time
from flink_py.datastream.window import (
    EventTimeSessionWindows, MergingWindowAssigner, TimeWindow)
from flink_py.errors import FlinkPyError
from flink_py.runtime.operators.merging_window_set import MergingWindowSet


def tw(start: int, end: int) -> TimeWindow:
    return TimeWindow(start, end)


class RecordingMergeFunction(MergingWindowSet.MergeFunction):
    def __init__(self) -> None:
        self.calls: List[tuple] = []

    def merge(self, merge_result, merged_windows, state_window_result, merged_state_windows):
        self.calls.append((merge_result, sorted(merged_windows), state_window_result,
                           sorted(merged_state_windows)))

    def reset(self) -> None:
        self.calls = []

    @property
    def merged(self) -> bool:
        return bool(self.calls)


class FakeMapState:
    """Test double of a key-scoped ``MapState`` (items/put/clear)."""

    def __init__(self, initial: Optional[Dict[Any, Any]] = None) -> None:
        self.data = dict(initial or {})
        self.writes = 0

    def items(self):
        return list(self.data.items())

    def put(self, key, value) -> None:
        self.data[key] = value
        self.writes += 1

    def clear(self) -> None:
        self.data.clear()


def session_set(gap: int = 3, state: Any = None) -> MergingWindowSet:
    return MergingWindowSet(EventTimeSessionWindows.with_gap(Time.milliseconds(gap)), state)


def test_incremental_merging():
    windows, merge = session_set(), RecordingMergeFunction()
    assert windows.add_window(tw(0, 4), merge) == tw(0, 4) and not merge.merged
    assert windows.get_state_window(tw(0, 4)) == tw(0, 4)
    assert windows.add_window(tw(0, 4), merge) == tw(0, 4) and not merge.merged

    assert windows.add_window(tw(3, 5), merge) == tw(0, 5)
    assert merge.calls == [(tw(0, 5), [tw(0, 4)], tw(0, 4), [])]
    merge.reset()
    assert windows.add_window(tw(4, 6), merge) == tw(0, 6)
    assert merge.calls == [(tw(0, 6), [tw(0, 5)], tw(0, 4), [])]
    assert windows.get_state_window(tw(0, 6)) == tw(0, 4)

    # windows inside the merged region do not merge anything
    merge.reset()
    for window in (tw(1, 4), tw(0, 4), tw(3, 5), tw(4, 6)):
        assert windows.add_window(window, merge) == tw(0, 6)
    assert not merge.merged
    assert windows.get_state_window(tw(0, 6)) == tw(0, 4)

    assert windows.add_window(tw(11, 14), merge) == tw(11, 14) and not merge.merged
    assert windows.get_state_window(tw(11, 14)) == tw(11, 14)
    assert windows.add_window(tw(10, 13), merge) == tw(10, 14)
    assert merge.calls == [(tw(10, 14), [tw(11, 14)], tw(11, 14), [])]
    merge.reset()
    assert windows.add_window(tw(12, 15), merge) == tw(10, 15)
    assert merge.calls == [(tw(10, 15), [tw(10, 14)], tw(11, 14), [])]
    merge.reset()
    assert windows.add_window(tw(11, 14), merge) == tw(10, 15) and not merge.merged
    assert windows.get_state_window(tw(0, 6)) == tw(0, 4)
    assert windows.get_state_window(tw(10, 15)) == tw(11, 14)

    windows.retire_window(tw(0, 6))
    assert windows.get_state_window(tw(0, 6)) is None
    assert windows.get_state_window(tw(10, 15)) == tw(11, 14)
    assert windows.windows() == [tw(10, 15)] and len(windows) == 1


def test_late_merging_of_several_windows():
    windows, merge = session_set(), RecordingMergeFunction()
    for window in (tw(0, 3), tw(5, 8), tw(10, 13)):
        assert windows.add_window(window, merge) == window
    assert not merge.merged

    # a window between the later two merges them; one keeps its state window
    assert windows.add_window(tw(8, 10), merge) == tw(5, 13)
    [(result, merged, state_window, merged_state_windows)] = merge.calls
    assert result == tw(5, 13) and merged == [tw(5, 8), tw(10, 13)]
    assert state_window in (tw(5, 8), tw(10, 13))
    assert merged_state_windows == [w for w in (tw(5, 8), tw(10, 13)) if w != state_window]
    assert windows.get_state_window(tw(0, 3)) == tw(0, 3)
    first_state_window = windows.get_state_window(tw(5, 13))
    assert first_state_window == state_window

    merge.reset()
    for window in (tw(5, 8), tw(8, 10), tw(10, 13)):
        assert windows.add_window(window, merge) == tw(5, 13)
    assert not merge.merged

    # a window that bridges everything merges all of them
    assert windows.add_window(tw(3, 5), merge) == tw(0, 13)
    [(result, merged, state_window, merged_state_windows)] = merge.calls
    assert result == tw(0, 13) and merged == [tw(0, 3), tw(5, 13)]
    assert sorted([state_window] + merged_state_windows) == [tw(0, 3), first_state_window]
    assert windows.get_state_window(tw(0, 13)) == state_window
    assert windows.windows() == [tw(0, 13)]


def test_new_window_covering_an_existing_window():
    windows, merge = session_set(), RecordingMergeFunction()
    assert windows.add_window(tw(1, 2), merge) == tw(1, 2)
    assert windows.add_window(tw(0, 3), merge) == tw(0, 3)
    assert merge.calls == [(tw(0, 3), [tw(1, 2)], tw(1, 2), [])]
    assert windows.get_state_window(tw(0, 3)) == tw(1, 2)


def test_adding_identical_windows_does_not_merge():
    windows, merge = session_set(), RecordingMergeFunction()
    assert windows.add_window(tw(1, 2), merge) == tw(1, 2)
    assert windows.add_window(tw(1, 2), merge) == tw(1, 2)
    assert not merge.merged
    assert windows.get_state_window(tw(1, 2)) == tw(1, 2)


def test_a_new_window_equal_to_a_merged_window_keeps_its_state_window():
    # [5, 15) and [0, 10) merge into [0, 15) whose state window is [5, 15); a new window that
    # is exactly [0, 15) (a dynamic gap of 15) must not replace that state window.
    assigner = EventTimeSessionWindows.with_dynamic_gap(lambda gap: gap)
    windows, merge = MergingWindowSet(assigner), RecordingMergeFunction()
    windows.add_window(tw(5, 15), merge)
    assert windows.add_window(tw(0, 10), merge) == tw(0, 15)
    merge.reset()
    assert windows.add_window(tw(0, 15), merge) == tw(0, 15) and not merge.merged
    assert windows.get_state_window(tw(0, 15)) == tw(5, 15)


def test_merge_function_may_be_a_plain_callable():
    calls = []
    windows = session_set()
    windows.add_window(tw(0, 3), lambda *args: calls.append(args))
    windows.add_window(tw(2, 5), lambda *args: calls.append(args))
    assert calls == [(tw(0, 5), [tw(0, 3)], tw(0, 3), [])]


class MergesTheTwoEarliest(MergingWindowAssigner):
    """A misbehaving assigner: once three windows are in flight it merges the two earliest,
    whether the new window is one of them or not."""

    def assign_windows(self, element, timestamp, context):
        return [tw(timestamp, timestamp + 3)]

    def get_default_trigger(self, env=None):
        raise AssertionError("not used")

    def is_event_time(self):
        return True

    def merge_windows(self, windows, callback):
        windows = sorted(windows)
        if len(windows) >= 3:
            callback.merge(windows[:2], windows[0].cover(windows[1]))


def test_non_eager_merging_keeps_every_added_window_in_flight():
    windows, merge = MergingWindowSet(MergesTheTwoEarliest()), RecordingMergeFunction()
    assert windows.add_window(tw(10, 12), merge) == tw(10, 12)
    assert windows.add_window(tw(0, 2), merge) == tw(0, 2)
    # the two earlier windows merge; the new one stays on its own
    assert windows.add_window(tw(20, 22), merge) == tw(20, 22)
    [(result, merged, state_window, merged_state_windows)] = merge.calls
    assert (result, merged) == (tw(0, 12), [tw(0, 2), tw(10, 12)])
    assert sorted([state_window] + merged_state_windows) == [tw(0, 2), tw(10, 12)]
    assert windows.get_state_window(tw(20, 22)) == tw(20, 22)
    assert windows.get_state_window(tw(0, 12)) == state_window
    # now the new window is one of the two earliest: it ends up in the merge result
    merge.reset()
    assert windows.add_window(tw(-5, -2), merge) == tw(-5, 12)
    assert merge.calls == [(tw(-5, 12), [tw(0, 12)], state_window, [])]
    assert sorted(windows.windows()) == [tw(-5, 12), tw(20, 22)]


def test_retiring_an_unknown_window_is_an_error():
    windows = session_set()
    with pytest.raises(FlinkPyError, match=r"TimeWindow\{start=0, end=3\} is not in in-flight"):
        windows.retire_window(tw(0, 3))


def test_persist_and_restore_through_map_state():
    state = FakeMapState()
    windows, merge = session_set(state=state), RecordingMergeFunction()
    windows.persist()
    assert state.writes == 0  # unchanged: nothing written
    windows.add_window(tw(0, 3), merge)
    windows.add_window(tw(2, 5), merge)
    windows.add_window(tw(10, 13), merge)
    windows.persist()
    assert state.data == {tw(0, 5): tw(0, 3), tw(10, 13): tw(10, 13)}

    restored = session_set(state=state)
    assert restored.get_state_window(tw(0, 5)) == tw(0, 3)
    writes = state.writes
    restored.persist()
    assert state.writes == writes
    restored.retire_window(tw(10, 13))
    restored.persist()
    assert state.data == {tw(0, 5): tw(0, 3)}


def test_session_operator_simulation_with_out_of_order_elements():
    """The way a window operator uses the set: contents live in state windows, merges move
    them; the sessions and their contents come out as in Flink."""
    assigner = EventTimeSessionWindows.with_gap(Time.milliseconds(5))
    windows = MergingWindowSet(assigner)
    contents: Dict[TimeWindow, List[int]] = {}

    def merge_state(merge_result, merged_windows, state_window_result, merged_state_windows):
        for state_window in merged_state_windows:
            contents.setdefault(state_window_result, []).extend(contents.pop(state_window))

    for timestamp in (1, 10, 4, 30, 9, 33, 20):
        for window in assigner.assign_windows(timestamp, timestamp, None):
            actual = windows.add_window(window, merge_state)
            contents.setdefault(windows.get_state_window(actual), []).append(timestamp)

    sessions = {window: sorted(contents[windows.get_state_window(window)])
                for window in windows.windows()}
    assert sessions == {tw(1, 15): [1, 4, 9, 10], tw(20, 25): [20], tw(30, 38): [30, 33]}
    assert sorted(contents) == sorted(windows.get_state_window(w) for w in windows.windows())
