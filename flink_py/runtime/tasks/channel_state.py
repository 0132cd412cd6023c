"""Channel state: an unaligned checkpoint's in-flight buffers, written and recovered.

Flink's ``ChannelStateWriter`` and ``SequentialChannelStateReader`` in their simplest form. A
task writes, per input channel, the buffers that arrived before that channel's barrier but
after the snapshot (``InputChannelStateHandle``), and per output subpartition the buffers its
barrier overtook (``ResultSubpartitionStateHandle``). Each handle holds the pickled list of
``(values, timestamps)`` buffers, oldest first.

On restore the task first processes its recovered input (Flink's ``RecoveredInputChannel``),
then re-sends its recovered output, then reads new input:

- input of a keyed exchange (``HASH``) restored at another parallelism holds records of key
  groups the subtask no longer owns (the assignment gives a handle to every new subtask whose
  key-group range overlaps the old one): the records are filtered by key group, the key
  recomputed with the head operator's key selector (Flink's ``RecordFilter`` in the
  ``DemultiplexingRecordDeserializer``); a head without a key selector (a plain sink after a
  ``key_by``) has no state placed by key, so one of those subtasks takes the whole handle;
- output goes back into the same subpartition when the partition still has as many
  subpartitions (same consumers), and is otherwise routed again by the partitioner, as if
  emitted now; a ``BROADCAST`` subpartition's buffers go to every new consumer that took over
  the old consumer's state (``new % old == old index``).
"""

from __future__ import annotations

import pickle
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from flink_py.common.key_groups import KeyGroupAssigner, KeyGroupRange
from flink_py.errors import FlinkPyError
from flink_py.runtime.network import buffer_codec
from flink_py.runtime.network.record_writer import RecordWriter
from flink_py.runtime.state.checkpoint_streams import CheckpointedStateScope
from flink_py.runtime.state.handles import (
    InputChannelStateHandle, OperatorSubtaskState, ResultSubpartitionStateHandle)

__all__ = [
    "ChannelStateError", "key_group_filter", "read_buffers", "recovered_input",
    "resend_recovered_output", "write_input_channel_state", "write_result_subpartition_state",
]

Buffer = Tuple[list, Optional[list]]


class ChannelStateError(FlinkPyError):
    """Recovered channel state that does not fit the restored task."""


def _buffer(item: Any) -> Buffer:
    """A queued item as a ``(values, timestamps)`` buffer (a remote-bound one is bytes; the
    keys a keyed exchange's buffer carries are not state: the consumer keys them again)."""
    if type(item) is bytes:
        item = buffer_codec.loads(item)
    return item if len(item) == 2 else (item[0], item[1])


def _write(factory: Any, buffers: List[Any]) -> Any:
    stream = factory.create_checkpoint_state_output_stream(CheckpointedStateScope.EXCLUSIVE)
    stream.write(pickle.dumps([_buffer(b) for b in buffers], protocol=5))
    return stream.close_and_get_handle()


def read_buffers(handle: Any) -> List[Buffer]:
    """The buffers of an input-channel or result-subpartition state handle."""
    return pickle.loads(handle.delegate.read_bytes())


def write_input_channel_state(factory: Any, in_flight: Dict[int, list],
                              channels: Sequence[Tuple[int, str]], first_key_group: int = -1
                              ) -> List[InputChannelStateHandle]:
    """Writes the recorded buffers of each input channel.

    :param in_flight: per channel index, its buffers.
    :param channels: per channel index, ``(input index of the head, ship strategy)``.
    :param first_key_group: the first key group of the writing subtask.
    """
    handles = []
    for channel, buffers in sorted(in_flight.items()):
        if buffers:
            input_index, ship_strategy = channels[channel]
            handles.append(InputChannelStateHandle(input_index, channel,
                                                   _write(factory, buffers), ship_strategy,
                                                   first_key_group))
    return handles


def write_result_subpartition_state(factory: Any,
                                    overtaken: Sequence[Dict[int, list]],
                                    writers: Sequence[RecordWriter]
                                    ) -> List[ResultSubpartitionStateHandle]:
    """Writes the buffers each writer's barrier overtook (``overtaken[i]`` for writer i)."""
    handles = []
    for partition, (per_channel, writer) in enumerate(zip(overtaken, writers)):
        for subpartition, buffers in sorted(per_channel.items()):
            handles.append(ResultSubpartitionStateHandle(
                partition, subpartition, _write(factory, buffers), len(writer.channels),
                writer.partitioner.ship_strategy))
    return handles


def key_group_filter(head: Any, input_index: int, max_parallelism: int,
                     key_groups: KeyGroupRange) -> Optional[Callable[[Any], bool]]:
    """Whether a record of the head's keyed input ``input_index`` belongs to ``key_groups``
    (None if that input is not keyed)."""
    selectors = getattr(head, "key_selectors", None)
    selector = selectors[input_index] if selectors is not None else getattr(
        head, "key_selector", None)
    hash_function = getattr(head, "key_hash_function", None)
    if selector is None or hash_function is None:
        return None
    assigner = KeyGroupAssigner(max_parallelism, 1, hash_function=hash_function)
    key_group_of = assigner.key_group_of
    return lambda record: key_group_of(selector(record)) in key_groups


def recovered_input(state: Optional[OperatorSubtaskState], head: Any, max_parallelism: int,
                    key_groups: KeyGroupRange) -> List[Tuple[int, List[Buffer]]]:
    """The recovered input buffers of a task, per handle ``(input index, buffers)``, the
    records of a keyed exchange limited to this subtask's key groups."""
    if state is None:
        return []
    recovered = []
    for handle in state.input_channel_state:
        keep = None
        if handle.ship_strategy == "HASH":
            keep = key_group_filter(head, handle.input_index, max_parallelism, key_groups)
            if keep is None and handle.first_key_group >= 0 and \
                    not key_groups.contains(handle.first_key_group):
                continue  # not keyed here: the subtask owning the writer's first group has it
        buffers = read_buffers(handle)
        if keep is not None:
            buffers = [_filter(buffer, keep) for buffer in buffers]
            buffers = [b for b in buffers if b[0]]
        if buffers:
            recovered.append((handle.input_index, buffers))
    return recovered


def _filter(buffer: Buffer, keep: Callable[[Any], bool]) -> Buffer:
    values, timestamps = buffer
    if timestamps is None:
        return [v for v in values if keep(v)], None
    kept = [(v, t) for v, t in zip(values, timestamps) if keep(v)]
    return [v for v, _ in kept], [t for _, t in kept]


def resend_recovered_output(state: Optional[OperatorSubtaskState],
                            writers: Sequence[RecordWriter]) -> int:
    """Re-sends the recovered output buffers before any new output; returns how many."""
    if state is None or not state.result_subpartition_state:
        return 0
    sent = 0
    for handle in state.result_subpartition_state:
        if not 0 <= handle.partition_index < len(writers):
            raise ChannelStateError(
                f"recovered output of result partition {handle.partition_index}, but the task "
                f"has {len(writers)} result partitions")
        writer = writers[handle.partition_index]
        channels = writer.channels
        buffers = read_buffers(handle)
        if handle.ship_strategy == "BROADCAST":
            targets = [c for c in range(len(channels))
                       if c % max(handle.num_subpartitions, 1) == handle.subpartition_index]
            for buffer in buffers:
                for channel in targets:
                    channels[channel].add(buffer)
        elif handle.num_subpartitions == len(channels):
            for buffer in buffers:
                channels[handle.subpartition_index].add(buffer)
        else:  # the consumers were rescaled: the partitioner places each record again
            for values, timestamps in buffers:
                writer.emit(values, timestamps)
        sent += len(buffers)
    for writer in writers:
        writer.flush()
    return sent
