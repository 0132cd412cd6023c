"""StreamInputProcessor: the one place a task decodes what arrives on its input channels.

Each item of a channel is a data buffer ``(values, timestamps)`` or an event: Watermark and
WatermarkStatus (to the channel's StatusWatermarkValve), CheckpointBarrier and
CancelCheckpointMarker (to the CheckpointBarrierHandler), EndOfPartition (the channel ends;
the head's input ends with its last channel). It is the task's mailbox default action: the
task's thread runs it for a channel the inbox reports available, and a producer's thread that
owns the idle consumer's mailbox runs the same ``_process_item`` for the items it hands over.

A channel blocked by barrier alignment is not read: the notification is parked and re-posted
when the handler resumes the channel, so its items stay queued in order.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from flink_py.errors import FlinkPyError
from flink_py.runtime.io.checkpoint_barrier_handler import CheckpointBarrierHandler
from flink_py.runtime.network.events import (
    CancelCheckpointMarker, CheckpointBarrier, EndOfPartition, Watermark, WatermarkStatus)
from flink_py.runtime.network.local import InputInbox
from flink_py.runtime.io.sorting_input import sorting_input_for
from flink_py.runtime.io.watermark_valve import StatusWatermarkValve

__all__ = ["StreamInputProcessor"]

ProcessBatch = Callable[[list, Optional[list]], None]


class StreamInputProcessor:
    """Reads a task's input channels into its head operator (the mailbox default action).

    :param channels: per channel, ``(input index, subpartition)`` (a local Subpartition or a
        RemoteInputChannel: ``poll() -> (item, more)``; local ones also ``peek()``).
    :param head: the chain's head operator (one or two inputs).
    :param inbox: the task's inbox, to re-post parked channels.
    :param create_barrier_handler: builds the task's barrier handler given the number of
        channels and the callback that resumes blocked channels.
    """

    polled = False

    def __init__(self, channels: List[Tuple[int, Any]], head: Any, inbox: InputInbox,
                 create_barrier_handler: Callable[[int, Callable[[List[int]], None]],
                                                  CheckpointBarrierHandler]) -> None:
        self.channels = channels
        self.head = head
        self.inbox = inbox
        two_inputs = hasattr(head, "process_batch2")
        self._process: List[ProcessBatch] = (
            [head.process_batch1, head.process_batch2] if two_inputs
            else [head.process_batch, head.process_batch])
        # A buffer of a keyed exchange carries its records' keys (RecordWriter): a head that
        # takes them does not key each record again.
        with_keys = None if two_inputs else getattr(head, "process_batch_with_keys", None)
        self._process_with_keys: List[Optional[Callable[[list, Optional[list], list], None]]] \
            = [with_keys, with_keys]
        self._valves = self._watermark_valves(head, two_inputs, channels)
        inputs = sorted({i for i, _ in channels})
        self._open_per_input: Dict[int, int] = {
            i: sum(1 for j, _ in channels if j == i) for i in inputs}
        self._open_channels = len(channels)
        self.barrier_handler = create_barrier_handler(max(len(channels), 1), self._resume)
        self._parked: Set[int] = set()
        self.finished = not channels
        #: False while stopping with a savepoint: the upstream partitions then end without
        #: the head's input ending (``flink stop`` without drain finishes no operator)
        self.end_input_at_end_of_partition = True
        self._ended_inputs: Set[int] = set()
        #: BATCH: a keyed head's input is held back and replayed sorted by key at its end,
        #: the watermarks (and statuses) that arrived meanwhile after it
        self._sorting = sorting_input_for(head)
        self._held_events: List[Tuple[int, Any]] = []

    # -- the mailbox default action -----------------------------------------------------------

    def run_default_action(self, channel: int) -> None:
        """Takes and processes the next item of ``channel`` (the task's own thread)."""
        if self.barrier_handler.blocked[channel]:
            self._parked.add(channel)  # its items wait behind the barrier
            return
        sub = self.channels[channel][1]
        item, more = sub.poll()
        if more:
            self.inbox.channel_available(channel)
        if item is not None:  # None: released under us (cancellation follows) or taken
            self._process_item(channel, item)

    def try_process_directly(self, channel: int, buffer: tuple) -> bool:
        """On a producer's thread owning our mailbox: the queued items of ``channel`` first
        (FIFO, events included), then ``buffer``; False if ``buffer`` must be queued (the
        channel is or became blocked by an alignment)."""
        handler = self.barrier_handler
        if handler.blocked[channel]:
            return False
        sub = self.channels[channel][1]
        while True:
            head = sub.peek()
            if head is None:
                break
            item, _ = sub.poll()
            if item is None:
                break
            self._process_item(channel, item)
            if handler.blocked[channel]:
                return False
        self._process_item(channel, buffer)
        return True

    def flush_partial(self) -> None:
        """Network input holds nothing back."""

    # -- decoding -----------------------------------------------------------------------------

    def _process_item(self, channel: int, item: Any) -> None:
        kind = type(item)
        if self._sorting is not None and (kind is tuple or kind is Watermark
                                          or kind is WatermarkStatus):
            if kind is tuple:
                self._sorting.add(item[0], item[1])
            else:
                self._held_events.append((channel, item))
        elif kind is tuple:
            handler = self.barrier_handler
            if handler.recording:
                handler.process_buffer(item, channel)
            index = self.channels[channel][0]
            if len(item) == 3:
                with_keys = self._process_with_keys[index]
                if with_keys is not None:
                    with_keys(item[0], item[1], item[2])
                    return
            self._process[index](item[0], item[1])
        elif kind is Watermark:
            valve, index_in_input = self._valves[channel]
            valve.input_watermark(item.timestamp, index_in_input)
        elif kind is WatermarkStatus:
            valve, index_in_input = self._valves[channel]
            valve.input_watermark_status(item, index_in_input)
        elif kind is CheckpointBarrier:
            # a priority barrier may have overtaken buffers queued in a remote channel
            take_overtaken = getattr(self.channels[channel][1], "take_overtaken", None)
            overtaken = take_overtaken() if take_overtaken is not None else None
            self.barrier_handler.process_barrier(item, channel, overtaken)
        elif kind is CancelCheckpointMarker:
            self.barrier_handler.process_cancellation_marker(item, channel)
        elif kind is EndOfPartition:
            self._end_channel(channel)
        else:
            raise FlinkPyError(f"unexpected item in input channel {channel}: {item!r}; "
                               f"expected a buffer or a stream event")

    def _end_channel(self, channel: int) -> None:
        input_index = self.channels[channel][0]
        self._open_channels -= 1
        self._open_per_input[input_index] -= 1
        self.barrier_handler.process_end_of_partition(channel)
        if self._open_per_input[input_index] == 0 and self.end_input_at_end_of_partition \
                and input_index not in self._ended_inputs:
            self._ended_inputs.add(input_index)
            self._replay_sorted_input(input_index)
            self.head.end_input(input_index)
        if self._open_channels == 0:
            self.finished = True

    def _replay_sorted_input(self, input_index: int) -> None:
        sorting = self._sorting
        if sorting is None:
            return
        self._sorting = None  # what follows (the held events) is processed as it comes
        sorting.replay(self._process[input_index], self.head.fire_timers_of_current_key)
        held, self._held_events = self._held_events, []
        for channel, event in held:
            self._process_item(channel, event)

    def end_open_inputs(self) -> None:
        """``flink stop --drain`` at the savepoint's barriers: every input of the head that
        has not ended yet ends now (nothing but the end of the partitions follows)."""
        for input_index in sorted(self._open_per_input):
            if input_index not in self._ended_inputs:
                self._ended_inputs.add(input_index)
                self.head.end_input(input_index)

    def _resume(self, channels: List[int]) -> None:
        for channel in channels:
            if channel in self._parked:
                self._parked.discard(channel)
                self.inbox.channel_available(channel)

    def process_recovered_buffers(self, recovered: List[Tuple[int, List[Any]]]) -> None:
        """Restore: the buffers an unaligned checkpoint recorded, before any new input.

        :param recovered: per recorded channel, ``(input index of the head, its buffers)``
            (at another parallelism the channels are not this task's, only the input is).
        """
        for input_index, buffers in recovered:
            if input_index not in self._open_per_input:
                raise FlinkPyError(
                    f"recovered channel state names input {input_index}, but the head has "
                    f"inputs {sorted(self._open_per_input)}")
            process = self._process[input_index]
            for values, timestamps in buffers:
                process(values, timestamps)

    @staticmethod
    def _watermark_valves(head: Any, two_inputs: bool,
                          channels: List[Tuple[int, Any]]) -> List[Tuple[Any, int]]:
        """Per channel: (the StatusWatermarkValve of its input, its index in that input).

        An input's watermark is the minimum over its non-idle channels (see the valve); a
        two-input head then combines its two inputs' watermarks and statuses itself.
        """
        by_input: Dict[int, List[int]] = {}
        for channel, (input_index, _) in enumerate(channels):
            by_input.setdefault(input_index, []).append(channel)
        valves: List[Tuple[Any, int]] = [None] * len(channels)  # type: ignore[list-item]
        for input_index, members in by_input.items():
            if two_inputs:
                valve = StatusWatermarkValve(
                    len(members),
                    lambda ts, i=input_index: head.process_watermark_of_input(i, ts),
                    lambda st, i=input_index: head.process_watermark_status_of_input(i, st))
            else:
                valve = StatusWatermarkValve(len(members), head.process_watermark,
                                             head.process_watermark_status)
            for index_in_input, channel in enumerate(members):
                valves[channel] = (valve, index_in_input)
        return valves
