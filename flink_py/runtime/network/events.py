"""Events that travel between buffers in a channel, in order with the data."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flink_py.runtime.checkpoint.options import CheckpointOptions


class StreamEvent:
    """Base of in-band events (watermarks, watermark statuses, checkpoint barriers, end of
    partition)."""

    __slots__ = ()


class Watermark(StreamEvent):
    """Event time has reached ``timestamp``: no record with a smaller timestamp follows."""

    __slots__ = ("timestamp",)

    def __init__(self, timestamp: int) -> None:
        self.timestamp = timestamp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Watermark) and other.timestamp == self.timestamp

    def __hash__(self) -> int:
        return hash(("Watermark", self.timestamp))

    def __repr__(self) -> str:
        return f"Watermark({self.timestamp})"

    def __reduce__(self):
        return (Watermark, (self.timestamp,))


class WatermarkStatus(StreamEvent):
    """Whether a channel is IDLE or ACTIVE (Flink's ``WatermarkStatus``).

    A channel whose producer marked itself IDLE (no records for its idle timeout) does not
    hold back its consumer's watermark; it rejoins when it turns ACTIVE again. Use the two
    instances ``WatermarkStatus.IDLE`` and ``WatermarkStatus.ACTIVE`` (unpickling keeps them
    unique, so ``is`` comparisons hold across processes).
    """

    __slots__ = ("status",)

    IDLE_STATUS = -1
    ACTIVE_STATUS = 0

    IDLE: "WatermarkStatus"
    ACTIVE: "WatermarkStatus"

    def __init__(self, status: int) -> None:
        if status not in (WatermarkStatus.IDLE_STATUS, WatermarkStatus.ACTIVE_STATUS):
            raise ValueError(f"a WatermarkStatus is -1 (IDLE) or 0 (ACTIVE), got {status!r}")
        self.status = status

    def is_idle(self) -> bool:
        return self.status == WatermarkStatus.IDLE_STATUS

    def is_active(self) -> bool:
        return self.status == WatermarkStatus.ACTIVE_STATUS

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WatermarkStatus) and other.status == self.status

    def __hash__(self) -> int:
        return hash(("WatermarkStatus", self.status))

    def __repr__(self) -> str:
        return "WatermarkStatus(IDLE)" if self.is_idle() else "WatermarkStatus(ACTIVE)"

    def __reduce__(self):
        return (_watermark_status, (self.status,))


WatermarkStatus.IDLE = WatermarkStatus(WatermarkStatus.IDLE_STATUS)
WatermarkStatus.ACTIVE = WatermarkStatus(WatermarkStatus.ACTIVE_STATUS)


def _watermark_status(status: int) -> WatermarkStatus:
    return WatermarkStatus.IDLE if status == WatermarkStatus.IDLE_STATUS else \
        WatermarkStatus.ACTIVE


class EndOfPartition(StreamEvent):
    """The producer has finished: nothing more comes through this channel."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EndOfPartition"

    def __reduce__(self):
        return (EndOfPartition, ())


END_OF_PARTITION = EndOfPartition()


class CheckpointBarrier(StreamEvent):
    """Checkpoint ``checkpoint_id`` (triggered at ``timestamp``) passes here: everything
    before it in this channel belongs to the checkpoint, nothing after it does."""

    __slots__ = ("checkpoint_id", "timestamp", "options")

    def __init__(self, checkpoint_id: int, timestamp: int, options: CheckpointOptions) -> None:
        self.checkpoint_id = checkpoint_id
        self.timestamp = timestamp
        self.options = options

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CheckpointBarrier) and (
            other.checkpoint_id, other.timestamp, other.options) == (
            self.checkpoint_id, self.timestamp, self.options)

    def __hash__(self) -> int:
        return hash(("CheckpointBarrier", self.checkpoint_id, self.timestamp))

    def __repr__(self) -> str:
        return f"CheckpointBarrier({self.checkpoint_id} @ {self.timestamp}, {self.options})"

    def __reduce__(self):
        return (CheckpointBarrier, (self.checkpoint_id, self.timestamp, self.options))


class CancelCheckpointMarker(StreamEvent):
    """Checkpoint ``checkpoint_id`` was aborted upstream: stop aligning for it."""

    __slots__ = ("checkpoint_id",)

    def __init__(self, checkpoint_id: int) -> None:
        self.checkpoint_id = checkpoint_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CancelCheckpointMarker) and (
            other.checkpoint_id == self.checkpoint_id)

    def __hash__(self) -> int:
        return hash(("CancelCheckpointMarker", self.checkpoint_id))

    def __repr__(self) -> str:
        return f"CancelCheckpointMarker({self.checkpoint_id})"

    def __reduce__(self):
        return (CancelCheckpointMarker, (self.checkpoint_id,))

