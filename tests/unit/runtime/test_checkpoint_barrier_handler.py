"""The checkpoint barrier handlers: aligned, at-least-once tracker, unaligned."""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.io.checkpoint_barrier_handler import (
    AlignedCheckpointBarrierHandler, CheckpointBarrierTracker,
    UnalignedCheckpointBarrierHandler, create_barrier_handler)
from flink_py.runtime.network.events import CancelCheckpointMarker, CheckpointBarrier


def barrier(checkpoint_id: int) -> CheckpointBarrier:
    return CheckpointBarrier(checkpoint_id, 1000 + checkpoint_id, CheckpointOptions())


def unaligned_barrier(checkpoint_id: int) -> CheckpointBarrier:
    return CheckpointBarrier(checkpoint_id, 1000 + checkpoint_id,
                             CheckpointOptions.for_checkpoint(unaligned=True))


class Events:
    def __init__(self) -> None:
        self.log: List[Tuple[str, Any]] = []

    def trigger(self, b: CheckpointBarrier) -> None:
        self.log.append(("snapshot", b.checkpoint_id))

    def abort(self, checkpoint_id: int, reason: str) -> None:
        assert str(checkpoint_id) in reason
        self.log.append(("abort", checkpoint_id))

    def resume(self, channels: List[int]) -> None:
        self.log.append(("resume", channels))

    def channel_state(self, checkpoint_id: int, in_flight: dict) -> None:
        self.log.append(("channels", checkpoint_id, in_flight))


def aligned(n: int = 3) -> Tuple[AlignedCheckpointBarrierHandler, Events]:
    events = Events()
    return AlignedCheckpointBarrierHandler(n, events.trigger, events.abort,
                                           events.resume), events


def test_aligned_handler_blocks_each_channel_until_every_barrier_arrived() -> None:
    handler, events = aligned()
    handler.process_barrier(barrier(1), 2)
    handler.process_barrier(barrier(1), 0)
    assert handler.blocked == [True, False, True]
    assert events.log == []
    handler.process_barrier(barrier(1), 1)
    assert handler.blocked == [False, False, False]
    assert events.log == [("snapshot", 1), ("resume", [0, 2])]


def test_aligned_handler_with_one_channel_snapshots_at_once_without_blocking() -> None:
    handler, events = aligned(1)
    handler.process_barrier(barrier(4), 0)
    assert events.log == [("snapshot", 4)]
    assert handler.blocked == [False]


def test_a_newer_barrier_aborts_the_alignment_in_progress() -> None:
    handler, events = aligned()
    handler.process_barrier(barrier(1), 0)
    handler.process_barrier(barrier(2), 1)
    assert events.log == [("resume", [0]), ("abort", 1)]
    assert handler.blocked == [False, True, False]
    handler.process_barrier(barrier(1), 2)  # late barrier of the aborted checkpoint
    assert handler.blocked == [False, True, False]
    handler.process_barrier(barrier(2), 0)
    handler.process_barrier(barrier(2), 2)
    assert events.log[-2:] == [("snapshot", 2), ("resume", [0, 1])]


def test_a_cancel_marker_aborts_the_alignment_and_its_later_barriers_are_ignored() -> None:
    handler, events = aligned()
    handler.process_barrier(barrier(1), 0)
    handler.process_cancellation_marker(CancelCheckpointMarker(1), 1)
    assert events.log == [("resume", [0]), ("abort", 1)]
    handler.process_barrier(barrier(1), 2)
    assert handler.blocked == [False, False, False]
    assert events.log == [("resume", [0]), ("abort", 1)]


def test_a_cancel_marker_of_a_checkpoint_not_seen_yet_aborts_it_once() -> None:
    handler, events = aligned()
    handler.process_cancellation_marker(CancelCheckpointMarker(3), 0)
    handler.process_cancellation_marker(CancelCheckpointMarker(3), 1)
    assert events.log == [("abort", 3)]


def test_end_of_partition_counts_as_every_later_barrier_delivered() -> None:
    handler, events = aligned()
    handler.process_end_of_partition(1)
    handler.process_barrier(barrier(1), 0)
    assert events.log == []
    handler.process_end_of_partition(2)  # completes the alignment
    assert events.log == [("snapshot", 1), ("resume", [0])]
    handler.process_barrier(barrier(2), 0)
    assert events.log[-1] == ("snapshot", 2)


def test_channel_out_of_range_is_an_error_naming_it() -> None:
    handler, _ = aligned(2)
    with pytest.raises(ValueError, match="channel 5 out of range"):
        handler.process_barrier(barrier(1), 5)


def test_tracker_never_blocks_and_snapshots_when_every_barrier_was_seen() -> None:
    events = Events()
    tracker = CheckpointBarrierTracker(2, events.trigger, events.abort)
    tracker.process_barrier(barrier(1), 0)
    assert tracker.blocked == [False, False]
    tracker.process_barrier(barrier(2), 0)
    assert events.log == []
    tracker.process_barrier(barrier(2), 1)  # checkpoint 2 completes first: 1 is overtaken
    assert events.log == [("abort", 1), ("snapshot", 2)]
    tracker.process_barrier(barrier(1), 1)
    assert events.log == [("abort", 1), ("snapshot", 2)]


def test_tracker_aborts_on_cancel_marker_and_completes_on_end_of_partition() -> None:
    events = Events()
    tracker = CheckpointBarrierTracker(3, events.trigger, events.abort)
    tracker.process_barrier(barrier(1), 0)
    tracker.process_cancellation_marker(CancelCheckpointMarker(1), 1)
    assert events.log == [("abort", 1)]
    tracker.process_barrier(barrier(2), 0)
    tracker.process_end_of_partition(1)
    tracker.process_end_of_partition(2)
    assert events.log == [("abort", 1), ("snapshot", 2)]


def unaligned(n: int = 3) -> Tuple[UnalignedCheckpointBarrierHandler, Events]:
    events = Events()
    return UnalignedCheckpointBarrierHandler(n, events.trigger, events.abort,
                                             events.channel_state), events


def test_unaligned_handler_snapshots_at_the_first_barrier_and_records_in_flight_buffers() -> None:
    handler, events = unaligned()
    handler.process_buffer("before", 1)  # no checkpoint in progress: not recorded
    handler.process_barrier(unaligned_barrier(1), 0)
    assert events.log == [("snapshot", 1)]
    assert handler.recording and handler.blocked == [False, False, False]
    handler.process_buffer("after barrier on 0", 0)
    handler.process_buffer("b1", 1)
    handler.process_buffer("c1", 2)
    handler.process_barrier(unaligned_barrier(1), 1)
    handler.process_buffer("after barrier on 1", 1)
    handler.process_buffer("c2", 2)
    handler.process_barrier(unaligned_barrier(1), 2)
    assert events.log[-1] == ("channels", 1, {1: ["b1"], 2: ["c1", "c2"]})
    assert not handler.recording


def test_buffers_a_priority_barrier_overtook_in_its_channel_are_channel_state() -> None:
    handler, events = unaligned(2)
    handler.process_barrier(unaligned_barrier(1), 0, ["overtaken on 0"])  # the first
    assert events.log == [("snapshot", 1)]
    handler.process_buffer("b1", 1)
    handler.process_barrier(unaligned_barrier(1), 1, ["overtaken on 1"])
    assert events.log[-1] == ("channels", 1, {0: ["overtaken on 0"],
                                              1: ["b1", "overtaken on 1"]})
    # a barrier of a checkpoint no longer recorded: what it overtook is not recorded
    handler.process_barrier(unaligned_barrier(1), 0, ["late"])
    assert events.log[-1] == ("channels", 1, {0: ["overtaken on 0"],
                                              1: ["b1", "overtaken on 1"]})


def test_unaligned_checkpoint_is_aborted_by_a_newer_barrier_or_a_cancel_marker() -> None:
    handler, events = unaligned(2)
    handler.process_barrier(unaligned_barrier(1), 0)
    handler.process_barrier(unaligned_barrier(2), 1)
    assert events.log == [("snapshot", 1), ("abort", 1), ("snapshot", 2)]
    handler.process_cancellation_marker(CancelCheckpointMarker(2), 0)
    assert events.log[-1] == ("abort", 2)
    assert not handler.recording


def test_unaligned_channel_state_completes_when_the_other_channel_ends() -> None:
    handler, events = unaligned(2)
    handler.process_barrier(unaligned_barrier(1), 0)
    handler.process_buffer("x", 1)
    handler.process_end_of_partition(1)
    assert events.log == [("snapshot", 1), ("channels", 1, {1: ["x"]})]


def test_a_savepoint_barrier_is_aligned_even_when_checkpoints_are_unaligned() -> None:
    events = Events()
    handler = UnalignedCheckpointBarrierHandler(2, events.trigger, events.abort,
                                                events.channel_state, events.resume)
    savepoint = CheckpointBarrier(1, 0, CheckpointOptions.for_savepoint("/tmp/savepoints"))
    handler.process_barrier(savepoint, 0)
    assert handler.blocked == [True, False] and not handler.recording
    assert events.log == []
    handler.process_barrier(savepoint, 1)
    assert events.log == [("snapshot", 1), ("resume", [0])]
    assert handler.blocked == [False, False]
    handler.process_barrier(unaligned_barrier(2), 1)  # checkpoints stay unaligned
    assert events.log[-1] == ("snapshot", 2) and handler.recording


def test_an_unaligned_barrier_aborts_a_savepoint_alignment_in_progress() -> None:
    events = Events()
    handler = UnalignedCheckpointBarrierHandler(2, events.trigger, events.abort,
                                                events.channel_state, events.resume)
    handler.process_barrier(CheckpointBarrier(1, 0, CheckpointOptions.for_savepoint(None)), 0)
    handler.process_barrier(unaligned_barrier(2), 1)
    assert events.log == [("resume", [0]), ("abort", 1), ("snapshot", 2)]
    assert handler.blocked == [False, False]


def test_create_barrier_handler_picks_the_strategy_of_the_mode() -> None:
    events = Events()
    assert isinstance(create_barrier_handler(2, False, False, events.trigger),
                      CheckpointBarrierTracker)
    assert isinstance(create_barrier_handler(2, True, True, events.trigger),
                      UnalignedCheckpointBarrierHandler)
    assert isinstance(create_barrier_handler(2, True, False, events.trigger),
                      AlignedCheckpointBarrierHandler)
