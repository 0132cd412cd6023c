"""StreamInputProcessor: one decode point for buffers and events, alignment keeps items queued."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.io.checkpoint_barrier_handler import AlignedCheckpointBarrierHandler
from flink_py.runtime.io.input_processor import StreamInputProcessor
from flink_py.runtime.network.events import (
    END_OF_PARTITION, CheckpointBarrier, Watermark)
from flink_py.runtime.network.local import InputInbox, Subpartition


class Head:
    """A one-input head operator that logs what reaches it."""

    def __init__(self) -> None:
        self.log: List[Any] = []

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        self.log.append(("records", list(values)))

    def process_watermark(self, watermark: int) -> None:
        self.log.append(("watermark", watermark))

    def process_watermark_status(self, status: Any) -> None:
        self.log.append(("status", status))

    def end_input(self, input_index: int = 0) -> None:
        self.log.append(("end", input_index))


def _setup(channels: int = 2) -> Tuple[StreamInputProcessor, List[Subpartition], InputInbox,
                                        Head, List[Any]]:
    inbox = InputInbox()
    subs = [Subpartition(10) for _ in range(channels)]
    head = Head()
    snapshots: List[Any] = []

    def handler(n: int, resume: Any) -> AlignedCheckpointBarrierHandler:
        return AlignedCheckpointBarrierHandler(
            n, lambda b: snapshots.append((b.checkpoint_id, list(head.log))),
            lambda i, why: snapshots.append(("abort", i)), resume)
    processor = StreamInputProcessor([(0, sub) for sub in subs], head, inbox, handler)
    for index, sub in enumerate(subs):
        sub.connect(inbox, index)
    return processor, subs, inbox, head, snapshots


def _drain(processor: StreamInputProcessor, inbox: InputInbox) -> None:
    """Runs the default action for every notification, as the mailbox loop would."""
    while not processor.finished:
        channel, _ = inbox.take(0.0)
        if channel < 0:
            return
        processor.run_default_action(channel)


def test_buffers_watermarks_and_end_of_partition_are_decoded_in_order() -> None:
    processor, subs, inbox, head, _ = _setup()
    subs[0].add(([1, 2], None))
    subs[0].add(Watermark(5))
    subs[1].add(Watermark(7))
    subs[0].add(END_OF_PARTITION)
    subs[1].add(END_OF_PARTITION)
    _drain(processor, inbox)
    assert processor.finished
    assert head.log[0] == ("records", [1, 2])
    assert ("watermark", 5) in head.log
    assert head.log[-1] == ("end", 0)


def test_a_channel_blocked_by_alignment_keeps_its_items_queued_until_aligned() -> None:
    processor, subs, inbox, head, snapshots = _setup()
    barrier = CheckpointBarrier(1, 0, CheckpointOptions())
    subs[0].add(([1], None))
    subs[0].add(barrier)
    subs[0].add(([2], None))  # after the barrier: not in the snapshot
    _drain(processor, inbox)
    assert head.log == [("records", [1])]
    assert processor.barrier_handler.blocked == [True, False]
    subs[1].add(([10], None))
    subs[1].add(barrier)
    _drain(processor, inbox)
    assert snapshots == [(1, [("records", [1]), ("records", [10])])]
    assert head.log[-1] == ("records", [2])  # the blocked channel resumed


def test_a_direct_hand_off_to_a_blocked_channel_is_refused() -> None:
    processor, subs, inbox, head, _ = _setup()
    subs[0].add(CheckpointBarrier(1, 0, CheckpointOptions()))
    assert processor.try_process_directly(0, ([1], None)) is False  # the barrier blocks it
    assert head.log == []
    assert processor.try_process_directly(1, ([2], None)) is True
    assert head.log == [("records", [2])]
