"""RecordWriter: routes an operator's output buffers into its result partition's channels.

Records are gathered per channel until ``records_per_buffer`` are pending (then sent), or
until the task flushes (buffer timeout, an event, end of input). A buffer is ``(values,
timestamps)``; behind a partitioner that routes by key (``carries_keys``) it is ``(values,
timestamps, keys)``, the keys the records were routed by, so that the keyed consumer does
not call the key selector a second time (in its process or, pickled with the buffer, in
another). Events are sent in order
after the pending data of every channel, except a priority event (an unaligned checkpoint's
barrier), which overtakes them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from flink_py.runtime.network.events import StreamEvent, Watermark, WatermarkStatus
from flink_py.runtime.network.partitioners import StreamPartitioner


class RecordWriter:
    """One producer subtask's writer for one JobEdge."""

    def __init__(self, partitioner: StreamPartitioner, channels: List[Any],
                 records_per_buffer: int) -> None:
        self.partitioner = partitioner
        self.channels = channels  # objects with add(item): Subpartition or a remote channel
        self.records_per_buffer = records_per_buffer
        self._pending: List[list] = [[] for _ in channels]
        self._pending_ts: List[Optional[list]] = [None for _ in channels]
        self._pending_keys: List[list] = [[] for _ in channels]
        self.has_pending = False
        if partitioner.carries_keys:
            self.emit = self._emit_with_keys  # type: ignore[method-assign]

    def emit(self, values: list, timestamps: Optional[list]) -> None:
        size = self.records_per_buffer
        pending = self._pending
        for channel, vals, tss in self.partitioner.route(values, timestamps):
            buf = pending[channel]
            if not buf:
                if len(vals) >= size:
                    self.channels[channel].add((vals, tss))
                    continue
                pending[channel] = list(vals)
                self._pending_ts[channel] = None if tss is None else list(tss)
                self.has_pending = True
                continue
            buf_ts = self._pending_ts[channel]
            if (buf_ts is None) != (tss is None):
                self._send(channel)
                pending[channel] = list(vals)
                self._pending_ts[channel] = None if tss is None else list(tss)
                self.has_pending = True
                continue
            buf.extend(vals)
            if buf_ts is not None:
                buf_ts.extend(tss)  # type: ignore[arg-type]
            if len(buf) >= size:
                self._send(channel)
            else:
                self.has_pending = True

    def _emit_with_keys(self, values: list, timestamps: Optional[list]) -> None:
        """``emit`` behind a partitioner that ``carries_keys``."""
        size = self.records_per_buffer
        pending = self._pending
        for channel, vals, tss, keys in self.partitioner.route_with_keys(  # type: ignore
                values, timestamps):
            buf = pending[channel]
            if not buf:
                if len(vals) >= size:
                    self.channels[channel].add((vals, tss, keys))
                    continue
                pending[channel] = vals  # the partitioner's fresh lists: ours to extend
                self._pending_ts[channel] = tss
                self._pending_keys[channel] = keys
                self.has_pending = True
                continue
            buf_ts = self._pending_ts[channel]
            if (buf_ts is None) != (tss is None):
                self._send(channel)
                pending[channel] = vals
                self._pending_ts[channel] = tss
                self._pending_keys[channel] = keys
                self.has_pending = True
                continue
            buf.extend(vals)
            self._pending_keys[channel].extend(keys)
            if buf_ts is not None:
                buf_ts.extend(tss)  # type: ignore[arg-type]
            if len(buf) >= size:
                self._send(channel)
            else:
                self.has_pending = True

    def _buffer(self, channel: int) -> tuple:
        if self.partitioner.carries_keys:
            return (self._pending[channel], self._pending_ts[channel],
                    self._pending_keys[channel])
        return (self._pending[channel], self._pending_ts[channel])

    def _send(self, channel: int) -> None:
        if self._pending[channel]:
            self.channels[channel].add(self._buffer(channel))
            self._pending[channel] = []
            self._pending_ts[channel] = None
            self._pending_keys[channel] = []

    def flush(self) -> None:
        if self.has_pending:
            for channel in range(len(self.channels)):
                self._send(channel)
            self.has_pending = False

    def broadcast_event(self, event: StreamEvent) -> None:
        self.flush()
        for channel in self.channels:
            channel.add(event)

    def broadcast_priority_event(self, event: StreamEvent) -> Dict[int, list]:
        """Sends ``event`` ahead of everything not yet consumed (an unaligned checkpoint's
        barrier overtakes the queued and the pending buffers); returns, per channel, the
        data buffers it overtook, oldest first. Those stay where they are and follow it."""
        overtaken: Dict[int, list] = {}
        for channel, subpartition in enumerate(self.channels):
            buffers = subpartition.add_priority_event(event)
            if self._pending[channel]:
                # still ours: the writer goes on extending the pending lists
                buffers.append(tuple(None if part is None else list(part)
                                     for part in self._buffer(channel)))
            if buffers:
                overtaken[channel] = buffers
        return overtaken

    def emit_watermark(self, timestamp: int) -> None:
        self.broadcast_event(Watermark(timestamp))

    def emit_watermark_status(self, status: WatermarkStatus) -> None:
        self.broadcast_event(status)
