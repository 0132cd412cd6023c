"""Events that travel between buffers in a channel, in order with the data."""

from __future__ import annotations


class StreamEvent:
    """Base of in-band events (watermarks, end of partition; barriers later)."""

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


class EndOfPartition(StreamEvent):
    """The producer has finished: nothing more comes through this channel."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EndOfPartition"

    def __reduce__(self):
        return (EndOfPartition, ())


END_OF_PARTITION = EndOfPartition()
