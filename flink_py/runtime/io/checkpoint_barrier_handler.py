"""CheckpointBarrierHandler: when a task with several input channels takes its snapshot.

Flink's barrier handlers, as pure state: no I/O, no locks, no threads. The task's input
processor calls them, on the task's mailbox thread, for every CheckpointBarrier,
CancelCheckpointMarker and EndOfPartition that arrives (and, during an unaligned checkpoint,
for every data buffer), and they answer through callbacks:

- ``trigger_checkpoint(barrier)``: take the snapshot now and forward the barrier;
- ``abort_checkpoint(checkpoint_id, reason)``: this task gives up on that checkpoint;
- ``resume_channels(channels)`` (aligned only): these channels are no longer blocked; the
  items queued behind their barrier may be read again;
- ``channel_state_complete(checkpoint_id, in_flight)`` (unaligned only): every channel has
  delivered the barrier; ``in_flight`` holds, per channel, the buffers that arrived before its
  barrier but after the snapshot.

Three strategies:

``AlignedCheckpointBarrierHandler`` (EXACTLY_ONCE): a channel that delivered the barrier of
checkpoint n is *blocked* (the task leaves its later items queued) until every channel has
delivered it; then the snapshot is taken and the channels resume. The snapshot so reflects
exactly the records before the barrier on every channel. A barrier of a newer checkpoint, or a
CancelCheckpointMarker, aborts the alignment in progress.

``CheckpointBarrierTracker`` (AT_LEAST_ONCE): nothing is blocked; the snapshot is taken when
every channel has delivered the barrier, so records after the barrier on a fast channel may be
in it too (they are replayed on restore: at least once).

``UnalignedCheckpointBarrierHandler`` (EXACTLY_ONCE, unaligned): the first barrier of an
unaligned checkpoint triggers the snapshot at once and is forwarded ahead of the data; the buffers that arrive on the other
channels before their barrier are recorded as channel state (InputChannelStateHandle) and
re-processed first on restore. On the output side the barrier is a priority event: it overtakes the
buffers queued in the producer's subpartitions, which the producer records as its
result-subpartition state; a remote channel lets it overtake the consumer's queue too, and
the buffers it overtook there (``process_barrier``'s ``overtaken``) are recorded here as
that channel's state. A barrier whose options are not unaligned (a savepoint) is aligned.

An EndOfPartition on a channel counts as that channel having delivered every later barrier.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Set

from flink_py.runtime.network.events import CancelCheckpointMarker, CheckpointBarrier

__all__ = [
    "AlignedCheckpointBarrierHandler", "CheckpointBarrierHandler", "CheckpointBarrierTracker",
    "UnalignedCheckpointBarrierHandler", "create_barrier_handler",
]

TriggerCheckpoint = Callable[[CheckpointBarrier], None]
AbortCheckpoint = Callable[[int, str], None]


def _ignore(*_args: object) -> None:
    """Default for callbacks a caller does not need."""


class CheckpointBarrierHandler:
    """The protocol of every strategy, and the bookkeeping of ended channels."""

    def __init__(self, num_channels: int, trigger_checkpoint: TriggerCheckpoint,
                 abort_checkpoint: AbortCheckpoint = _ignore) -> None:
        if num_channels < 1:
            raise ValueError(f"a barrier handler needs at least one channel, got {num_channels}")
        self.num_channels = num_channels
        self._trigger = trigger_checkpoint
        self._abort = abort_checkpoint
        self._ended: List[bool] = [False] * num_channels
        #: per channel: its later items must stay queued (only aligned checkpoints block)
        self.blocked: List[bool] = [False] * num_channels
        #: whether data buffers must be shown to ``process_buffer`` (unaligned, in progress)
        self.recording = False
        #: the newest checkpoint this handler has seen a barrier or a cancel marker of
        self.latest_checkpoint_id = -1

    def _check(self, channel: int) -> None:
        if not 0 <= channel < self.num_channels:
            raise ValueError(
                f"channel {channel} out of range: the handler has {self.num_channels} channels")

    def _complete(self, seen: Set[int]) -> bool:
        ended = self._ended
        return all(ended[c] or c in seen for c in range(self.num_channels))

    def process_barrier(self, barrier: CheckpointBarrier, channel: int,
                        overtaken: Optional[list] = None) -> None:
        """``barrier`` arrived on ``channel``; ``overtaken``: the data buffers it overtook in
        the channel's own queue (a remote channel's, for a priority barrier), which are
        delivered after it."""
        raise NotImplementedError

    def process_cancellation_marker(self, marker: CancelCheckpointMarker, channel: int) -> None:
        raise NotImplementedError

    def process_end_of_partition(self, channel: int) -> None:
        self._check(channel)
        self._ended[channel] = True
        if self.blocked[channel]:
            self.blocked[channel] = False

    def process_buffer(self, buffer: object, channel: int) -> None:
        """A data buffer arrived on ``channel`` (called only while ``recording``)."""


class AlignedCheckpointBarrierHandler(CheckpointBarrierHandler):
    """Aligns barriers, blocking the channels that delivered theirs (EXACTLY_ONCE).

    Example::

        >>> from flink_py.runtime.checkpoint.options import CheckpointOptions
        >>> out = []
        >>> handler = AlignedCheckpointBarrierHandler(
        ...     2, lambda b: out.append(("snapshot", b.checkpoint_id)),
        ...     lambda i, why: out.append(("abort", i)), lambda chs: out.append(("resume", chs)))
        >>> handler.process_barrier(CheckpointBarrier(1, 0, CheckpointOptions()), 0)
        >>> handler.blocked, out
        ([True, False], [])
        >>> handler.process_barrier(CheckpointBarrier(1, 0, CheckpointOptions()), 1)
        >>> handler.blocked, out
        ([False, False], [('snapshot', 1), ('resume', [0])])
    """

    def __init__(self, num_channels: int, trigger_checkpoint: TriggerCheckpoint,
                 abort_checkpoint: AbortCheckpoint = _ignore,
                 resume_channels: Callable[[List[int]], None] = _ignore) -> None:
        super().__init__(num_channels, trigger_checkpoint, abort_checkpoint)
        self._resume = resume_channels
        self._seen: Set[int] = set()
        self._aligning = False
        #: the barrier of the alignment in progress (an EndOfPartition may complete it)
        self._barrier: Optional[CheckpointBarrier] = None

    @property
    def aligning(self) -> bool:
        """Whether an alignment is in progress (some channel is blocked)."""
        return self._aligning

    def _unblock(self) -> None:
        blocked = [c for c in range(self.num_channels) if self.blocked[c]]
        self.blocked = [False] * self.num_channels
        self._seen = set()
        self._aligning = False
        if blocked:
            self._resume(blocked)

    def process_barrier(self, barrier: CheckpointBarrier, channel: int,
                        overtaken: Optional[list] = None) -> None:
        self._check(channel)
        checkpoint_id = barrier.checkpoint_id
        if checkpoint_id > self.latest_checkpoint_id:
            if self._aligning:
                aborted = self.latest_checkpoint_id
                self._unblock()
                self._abort(aborted, f"checkpoint {aborted} was superseded by checkpoint "
                                     f"{checkpoint_id} before its barriers were aligned")
            self.latest_checkpoint_id = checkpoint_id
            self._aligning = True
            self._barrier = barrier
        elif checkpoint_id < self.latest_checkpoint_id or not self._aligning:
            return  # an older checkpoint, or one already taken or aborted here
        self._seen.add(channel)
        if self._complete(self._seen):
            self._finish_alignment(barrier)
        else:
            self.blocked[channel] = True

    def _finish_alignment(self, barrier: CheckpointBarrier) -> None:
        # The snapshot first: the items queued behind the barriers belong after it.
        blocked = [c for c in range(self.num_channels) if self.blocked[c]]
        self.blocked = [False] * self.num_channels
        self._seen = set()
        self._aligning = False
        self._trigger(barrier)
        if blocked:
            self._resume(blocked)

    def process_cancellation_marker(self, marker: CancelCheckpointMarker, channel: int) -> None:
        self._check(channel)
        checkpoint_id = marker.checkpoint_id
        if checkpoint_id < self.latest_checkpoint_id or (
                checkpoint_id == self.latest_checkpoint_id and not self._aligning):
            return
        if self._aligning:
            self._unblock()
        self.latest_checkpoint_id = checkpoint_id
        self._abort(checkpoint_id, f"checkpoint {checkpoint_id} was cancelled upstream "
                                   f"(CancelCheckpointMarker on channel {channel})")

    def abort_alignment(self, newer_checkpoint_id: int) -> None:
        """A newer checkpoint started elsewhere (an unaligned one): give up the alignment."""
        if self._aligning and newer_checkpoint_id > self.latest_checkpoint_id:
            aborted = self.latest_checkpoint_id
            self._unblock()
            self._abort(aborted, f"checkpoint {aborted} was superseded by checkpoint "
                                 f"{newer_checkpoint_id} before its barriers were aligned")

    def process_end_of_partition(self, channel: int) -> None:
        super().process_end_of_partition(channel)
        if self._aligning and self._complete(self._seen):
            assert self._barrier is not None
            self._finish_alignment(self._barrier)


class CheckpointBarrierTracker(CheckpointBarrierHandler):
    """Counts barriers without blocking anything (AT_LEAST_ONCE).

    Example::

        >>> from flink_py.runtime.checkpoint.options import CheckpointOptions
        >>> out = []
        >>> tracker = CheckpointBarrierTracker(2, lambda b: out.append(b.checkpoint_id))
        >>> tracker.process_barrier(CheckpointBarrier(1, 0, CheckpointOptions()), 1)
        >>> tracker.blocked, out
        ([False, False], [])
        >>> tracker.process_end_of_partition(0); out
        [1]
    """

    def __init__(self, num_channels: int, trigger_checkpoint: TriggerCheckpoint,
                 abort_checkpoint: AbortCheckpoint = _ignore) -> None:
        super().__init__(num_channels, trigger_checkpoint, abort_checkpoint)
        #: checkpoint id -> (its barrier, the channels that delivered it), oldest first
        self._pending: Dict[int, tuple] = {}
        self._latest_triggered = -1

    def process_barrier(self, barrier: CheckpointBarrier, channel: int,
                        overtaken: Optional[list] = None) -> None:
        self._check(channel)
        checkpoint_id = barrier.checkpoint_id
        if checkpoint_id <= self._latest_triggered:
            return
        self.latest_checkpoint_id = max(self.latest_checkpoint_id, checkpoint_id)
        entry = self._pending.get(checkpoint_id)
        if entry is None:
            entry = self._pending[checkpoint_id] = (barrier, set())
        entry[1].add(channel)
        self._trigger_completed()

    def _trigger_completed(self) -> None:
        complete = [i for i, (_, seen) in self._pending.items() if self._complete(seen)]
        if not complete:
            return
        newest = max(complete)
        barrier = self._pending[newest][0]
        for checkpoint_id in sorted(i for i in self._pending if i <= newest):
            del self._pending[checkpoint_id]
            if checkpoint_id < newest:
                self._abort(checkpoint_id, f"checkpoint {checkpoint_id} was overtaken by "
                                           f"checkpoint {newest}")
        self._latest_triggered = newest
        self._trigger(barrier)

    def process_cancellation_marker(self, marker: CancelCheckpointMarker, channel: int) -> None:
        self._check(channel)
        checkpoint_id = marker.checkpoint_id
        if checkpoint_id <= self._latest_triggered:
            return
        self.latest_checkpoint_id = max(self.latest_checkpoint_id, checkpoint_id)
        for older in sorted(i for i in self._pending if i < checkpoint_id):
            del self._pending[older]
            self._abort(older, f"checkpoint {older} was overtaken by the cancelled "
                               f"checkpoint {checkpoint_id}")
        self._pending.pop(checkpoint_id, None)
        self._latest_triggered = checkpoint_id
        self._abort(checkpoint_id, f"checkpoint {checkpoint_id} was cancelled upstream "
                                   f"(CancelCheckpointMarker on channel {channel})")

    def process_end_of_partition(self, channel: int) -> None:
        super().process_end_of_partition(channel)
        self._trigger_completed()


class UnalignedCheckpointBarrierHandler(CheckpointBarrierHandler):
    """Snapshots at the first barrier; records the buffers still in flight on other channels.

    Example::

        >>> from flink_py.runtime.checkpoint.options import CheckpointOptions
        >>> out = []
        >>> handler = UnalignedCheckpointBarrierHandler(
        ...     2, lambda b: out.append(("snapshot", b.checkpoint_id)),
        ...     channel_state_complete=lambda i, state: out.append(("channels", i, state)))
        >>> unaligned = CheckpointOptions.for_checkpoint(unaligned=True)
        >>> handler.process_barrier(CheckpointBarrier(1, 0, unaligned), 0); out
        [('snapshot', 1)]
        >>> handler.process_buffer("in flight", 1)
        >>> handler.process_barrier(CheckpointBarrier(1, 0, unaligned), 1); out[-1]
        ('channels', 1, {1: ['in flight']})
    """

    def __init__(self, num_channels: int, trigger_checkpoint: TriggerCheckpoint,
                 abort_checkpoint: AbortCheckpoint = _ignore,
                 channel_state_complete: Callable[[int, Dict[int, list]], None] = _ignore,
                 resume_channels: Callable[[List[int]], None] = _ignore) -> None:
        super().__init__(num_channels, trigger_checkpoint, abort_checkpoint)
        self._channel_state_complete = channel_state_complete
        self._seen: Set[int] = set()
        self._in_flight: Dict[int, list] = {}
        # Barriers that are not unaligned (savepoints: Flink never takes them unaligned) are
        # aligned by this one; its ``blocked`` list is ours.
        self._aligned = AlignedCheckpointBarrierHandler(
            num_channels, trigger_checkpoint, abort_checkpoint, resume_channels)
        self.blocked = self._aligned.blocked

    def process_barrier(self, barrier: CheckpointBarrier, channel: int,
                        overtaken: Optional[list] = None) -> None:
        self._check(channel)
        checkpoint_id = barrier.checkpoint_id
        if not barrier.options.unaligned:
            if checkpoint_id > self.latest_checkpoint_id and self.recording:
                self._abort_in_progress(f"checkpoint {self.latest_checkpoint_id} was "
                                        f"superseded by checkpoint {checkpoint_id} before "
                                        f"its channel state was complete")
            self.latest_checkpoint_id = max(self.latest_checkpoint_id, checkpoint_id)
            self._aligned.process_barrier(barrier, channel)
            self.blocked = self._aligned.blocked
            return
        self._aligned.abort_alignment(checkpoint_id)
        self.blocked = self._aligned.blocked
        if checkpoint_id > self.latest_checkpoint_id:
            if self.recording:
                self._abort_in_progress(f"checkpoint {self.latest_checkpoint_id} was "
                                        f"superseded by checkpoint {checkpoint_id} before "
                                        f"its channel state was complete")
            self.latest_checkpoint_id = checkpoint_id
            self._seen = {channel}
            self._in_flight = {}
            self.recording = True
            self._trigger(barrier)
            self._record_overtaken(channel, overtaken)
            self._complete_if_done()
        elif checkpoint_id == self.latest_checkpoint_id and self.recording:
            self._seen.add(channel)
            self._record_overtaken(channel, overtaken)
            self._complete_if_done()

    def _record_overtaken(self, channel: int, overtaken: Optional[list]) -> None:
        # before the barrier upstream, after the snapshot here: channel state, after what
        # this channel delivered since the snapshot
        if overtaken and self.recording:
            self._in_flight.setdefault(channel, []).extend(overtaken)

    def _complete_if_done(self) -> None:
        if self.recording and self._complete(self._seen):
            self.recording = False
            in_flight, self._in_flight = self._in_flight, {}
            self._seen = set()
            self._channel_state_complete(self.latest_checkpoint_id, in_flight)

    def _abort_in_progress(self, reason: str) -> None:
        self.recording = False
        self._seen = set()
        self._in_flight = {}
        self._abort(self.latest_checkpoint_id, reason)

    def process_buffer(self, buffer: object, channel: int) -> None:
        if self.recording and channel not in self._seen and not self._ended[channel]:
            self._in_flight.setdefault(channel, []).append(buffer)

    def process_cancellation_marker(self, marker: CancelCheckpointMarker, channel: int) -> None:
        self._check(channel)
        checkpoint_id = marker.checkpoint_id
        if self._aligned.aligning:
            self._aligned.process_cancellation_marker(marker, channel)
            self.blocked = self._aligned.blocked
            self.latest_checkpoint_id = max(self.latest_checkpoint_id,
                                            self._aligned.latest_checkpoint_id)
            return
        if checkpoint_id < self.latest_checkpoint_id or (
                checkpoint_id == self.latest_checkpoint_id and not self.recording):
            return
        reason = (f"checkpoint {checkpoint_id} was cancelled upstream "
                  f"(CancelCheckpointMarker on channel {channel})")
        if self.recording and checkpoint_id == self.latest_checkpoint_id:
            self._abort_in_progress(reason)
            return
        if self.recording:
            self._abort_in_progress(f"checkpoint {self.latest_checkpoint_id} was superseded "
                                    f"by the cancelled checkpoint {checkpoint_id}")
        self.latest_checkpoint_id = checkpoint_id
        self._abort(checkpoint_id, reason)

    def process_end_of_partition(self, channel: int) -> None:
        super().process_end_of_partition(channel)
        self._aligned.process_end_of_partition(channel)
        self.blocked = self._aligned.blocked
        self._complete_if_done()


def create_barrier_handler(num_channels: int, exactly_once: bool, unaligned: bool,
                           trigger_checkpoint: TriggerCheckpoint,
                           abort_checkpoint: AbortCheckpoint = _ignore,
                           resume_channels: Callable[[List[int]], None] = _ignore,
                           channel_state_complete: Optional[
                               Callable[[int, Dict[int, list]], None]] = None
                           ) -> CheckpointBarrierHandler:
    """The handler for a task's checkpointing mode (``execution.checkpointing.mode`` and
    ``execution.checkpointing.unaligned.enabled``)."""
    if not exactly_once:
        return CheckpointBarrierTracker(num_channels, trigger_checkpoint, abort_checkpoint)
    if unaligned:
        return UnalignedCheckpointBarrierHandler(
            num_channels, trigger_checkpoint, abort_checkpoint,
            channel_state_complete or _ignore, resume_channels)
    return AlignedCheckpointBarrierHandler(num_channels, trigger_checkpoint, abort_checkpoint,
                                           resume_channels)
