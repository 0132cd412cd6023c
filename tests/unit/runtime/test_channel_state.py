"""Output-side unaligned checkpoints: the priority barrier overtakes queued buffers, which are
written as result-subpartition state; and recovered channel state on restore (re-sent output,
input filtered by key group)."""

from __future__ import annotations

import functools
import pickle
from typing import Any, List

import pytest

from flink_py.common.key_groups import (
    KeyGroupAssigner, KeyGroupRange, pyflink_key_by_hash_code)
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.network.events import CheckpointBarrier, Watermark
from flink_py.runtime.network.local import Subpartition
from flink_py.runtime.network.partitioners import (
    BroadcastPartitioner, KeyGroupStreamPartitioner, RebalancePartitioner)
from flink_py.runtime.network.record_writer import RecordWriter
from flink_py.runtime.state.checkpoint_streams import MemoryCheckpointStreamFactory
from flink_py.runtime.state.handles import OperatorSubtaskState
from flink_py.runtime.state.keyed_state_backend import DEFAULT_KEY_HASH
from flink_py.runtime.tasks.channel_state import (
    read_buffers, recovered_input, resend_recovered_output,
    write_input_channel_state, write_result_subpartition_state)

BARRIER = CheckpointBarrier(3, 0, CheckpointOptions.for_checkpoint(unaligned=True))


def _drain(sub: Subpartition) -> List[Any]:
    items = []
    while len(sub):
        items.append(sub.poll()[0])
    return items


def test_a_priority_barrier_overtakes_the_queued_buffers_of_a_full_subpartition() -> None:
    sub = Subpartition(capacity=3)
    sub.add(([1], None))
    sub.add(Watermark(5))
    sub.add((b"serialized",))  # a tuple is a buffer whatever its content
    overtaken = sub.add_priority_event(BARRIER)  # full: it must not wait
    assert overtaken == [([1], None), (b"serialized",)]
    assert _drain(sub) == [BARRIER, ([1], None), Watermark(5), (b"serialized",)]


def test_a_priority_event_on_a_released_subpartition_cancels_the_producer() -> None:
    sub = Subpartition(capacity=1)
    sub.release()
    with pytest.raises(CancelTaskException):
        sub.add_priority_event(BARRIER)


def test_the_writer_reports_queued_and_pending_buffers_per_channel_and_keeps_them() -> None:
    channels = [Subpartition(10), Subpartition(10)]
    partitioner = RebalancePartitioner()
    partitioner.setup(2, 128)
    writer = RecordWriter(partitioner, channels, records_per_buffer=3)
    writer.emit([1, 2, 3, 4, 5], None)  # full buffers go out, a partial one stays pending
    queued = [list(_items) for _items in (channels[0]._items, channels[1]._items)]
    overtaken = writer.broadcast_priority_event(BARRIER)
    pending = [c for c in range(2) if writer._pending[c]]
    assert len(pending) == 1
    for channel in range(2):
        expected = queued[channel] + ([(writer._pending[channel], None)]
                                      if channel in pending else [])
        assert overtaken.get(channel, []) == expected
    assert sum(len(values) for per in overtaken.values() for values, _ in per) == 5
    writer.emit([6], None)  # after the barrier: not part of the overtaken buffers
    writer.flush()
    for channel in range(2):
        items = _drain(channels[channel])
        assert items[0] is BARRIER
        assert [v for values, _ in items[1:] for v in values] == sorted(
            [v for values, _ in items[1:] for v in values])
    assert sum(len(values) for per in overtaken.values() for values, _ in per) == 5


def test_written_output_state_is_resent_to_the_same_subpartitions() -> None:
    partitioner = RebalancePartitioner()
    partitioner.setup(2, 128)
    old = RecordWriter(partitioner, [Subpartition(10), Subpartition(10)], 100)
    factory = MemoryCheckpointStreamFactory()
    # a buffer serialized for a remote consumer is written decoded
    handles = write_result_subpartition_state(
        factory, [{0: [([1, 2], [10, 20])], 1: [pickle.dumps(([3], None))]}], [old])
    assert [(h.partition_index, h.subpartition_index, h.num_subpartitions, h.ship_strategy)
            for h in handles] == [(0, 0, 2, "REBALANCE"), (0, 1, 2, "REBALANCE")]
    assert read_buffers(handles[1]) == [([3], None)]
    new_channels = [Subpartition(10), Subpartition(10)]
    new = RecordWriter(partitioner.copy(), new_channels, 100)
    new.partitioner.setup(2, 128)
    assert resend_recovered_output(OperatorSubtaskState(result_subpartition_state=handles),
                                   [new]) == 2
    assert _drain(new_channels[0]) == [([1, 2], [10, 20])]
    assert _drain(new_channels[1]) == [([3], None)]


def _keyed_writer(parallelism: int) -> RecordWriter:
    partitioner = KeyGroupStreamPartitioner(lambda x: x % 10)
    partitioner.setup(parallelism, 128)
    return RecordWriter(partitioner, [Subpartition(100) for _ in range(parallelism)], 1000)


def test_output_state_for_rescaled_consumers_is_routed_again_by_the_partitioner() -> None:
    old = _keyed_writer(2)
    factory = MemoryCheckpointStreamFactory()
    records = list(range(40))
    handles = write_result_subpartition_state(factory, [{0: [(records, None)]}], [old])
    new = _keyed_writer(3)
    resend_recovered_output(OperatorSubtaskState(result_subpartition_state=handles), [new])
    assigner = KeyGroupAssigner(128, 3, functools.partial(pyflink_key_by_hash_code,
                                                          pickled=True))
    received = []
    for channel, sub in enumerate(new.channels):
        for values, _, keys in _drain(sub):  # a keyed exchange's buffers carry the keys
            assert all(assigner.subtask_of(v % 10) == channel for v in values)
            assert keys == [v % 10 for v in values]
            received.extend(values)
    assert sorted(received) == records


def test_broadcast_output_state_goes_to_the_consumers_that_took_over_the_old_one() -> None:
    partitioner = BroadcastPartitioner()
    partitioner.setup(2, 128)
    old = RecordWriter(partitioner, [Subpartition(10), Subpartition(10)], 100)
    handles = write_result_subpartition_state(
        MemoryCheckpointStreamFactory(), [{0: [(["a"], None)], 1: [(["b"], None)]}], [old])
    new = RecordWriter(BroadcastPartitioner(), [Subpartition(10) for _ in range(3)], 100)
    new.partitioner.setup(3, 128)
    resend_recovered_output(OperatorSubtaskState(result_subpartition_state=handles), [new])
    assert [_drain(sub) for sub in new.channels] == [
        [(["a"], None)], [(["b"], None)], [(["a"], None)]]


class _KeyedHead:
    """What the filter needs of a keyed head operator."""

    def __init__(self) -> None:
        self.key_selector = lambda x: x % 10
        self.key_hash_function = DEFAULT_KEY_HASH


def test_recovered_keyed_input_keeps_only_the_records_of_the_subtasks_key_groups() -> None:
    factory = MemoryCheckpointStreamFactory()
    records = list(range(100))
    timestamps = [r * 10 for r in records]
    handles = write_input_channel_state(
        factory, {0: [(records, timestamps)], 1: [(records, None)]}, [(0, "HASH"), (0, "HASH")])
    assert [(h.input_index, h.channel_index, h.ship_strategy) for h in handles] == [
        (0, 0, "HASH"), (0, 1, "HASH")]
    state = OperatorSubtaskState(input_channel_state=handles)
    hash_function = DEFAULT_KEY_HASH
    assigner = KeyGroupAssigner(128, 3, hash_function)
    kept_total = []
    for subtask in range(3):
        key_groups = KeyGroupRange.of_operator(128, 3, subtask)
        recovered = recovered_input(state, _KeyedHead(), 128, key_groups)
        kept = [v for _, buffers in recovered for values, _ in buffers for v in values]
        assert all(assigner.subtask_of(v % 10) == subtask for v in kept)
        for _, buffers in recovered:
            for values, stamps in buffers:
                assert stamps is None or stamps == [v * 10 for v in values]
        kept_total.extend(kept)
    assert sorted(kept_total) == sorted(records * 2)


def test_keyed_input_into_a_head_without_a_key_selector_is_kept_by_one_new_subtask() -> None:
    # written by the old subtask owning key groups 64..127, given to the new subtasks 1 and 2
    # of three (43..85 and 86..127): only the one owning key group 64 keeps it
    handles = write_input_channel_state(MemoryCheckpointStreamFactory(), {0: [([1], None)]},
                                        [(0, "HASH")], first_key_group=64)
    state = OperatorSubtaskState(input_channel_state=handles)
    kept = [recovered_input(state, object(), 128, KeyGroupRange.of_operator(128, 3, subtask))
            for subtask in (1, 2)]
    assert kept == [[(0, [([1], None)])], []]
    # a non-keyed exchange is neither filtered nor dropped
    handles = write_input_channel_state(MemoryCheckpointStreamFactory(), {2: [([1], None)]},
                                        [(0, "HASH"), (0, "HASH"), (1, "REBALANCE")], 64)
    assert recovered_input(OperatorSubtaskState(input_channel_state=handles), object(), 128,
                           KeyGroupRange.of(0, 0)) == [(1, [([1], None)])]
