"""StatusWatermarkValve: one input's watermark from the watermarks of its channels.

Flink's ``StatusWatermarkValve``: the input's watermark is the minimum over its *aligned*
channels and never goes backwards. A channel is aligned while it is active and its watermark
has caught up with the input's last watermark; a channel that turns IDLE stops holding the
watermark back, and one that turns ACTIVE again rejoins once its watermark reaches the
input's (so the input's watermark never moves backwards). When every channel is idle the
input is idle: it flushes the largest watermark any channel reached (no channel is left to
hold it back) and emits IDLE; the first channel to turn active again makes it ACTIVE.

Pure state: no I/O, no locks; the task calls it on its own thread for every Watermark and
WatermarkStatus event that arrives.
"""

from __future__ import annotations

from typing import Any, Callable, List

from flink_py.runtime.network.events import WatermarkStatus

MIN_WATERMARK = -(2 ** 63)


class StatusWatermarkValve:
    """Combines the watermarks and watermark statuses of the channels of one input.

    Example::

        >>> out = []
        >>> valve = StatusWatermarkValve(2, out.append, out.append)
        >>> valve.input_watermark(5, 0); valve.input_watermark(3, 1); out
        [3]
        >>> valve.input_watermark_status(WatermarkStatus.IDLE, 1); out
        [3, 5]
    """

    def __init__(self, num_channels: int, emit_watermark: Callable[[int], None],
                 emit_watermark_status: Callable[[WatermarkStatus], None]) -> None:
        if num_channels < 1:
            raise ValueError(f"a valve needs at least one channel, got {num_channels}")
        self._emit_watermark = emit_watermark
        self._emit_watermark_status = emit_watermark_status
        self._watermarks: List[int] = [MIN_WATERMARK] * num_channels
        self._active: List[bool] = [True] * num_channels
        self._aligned: List[bool] = [True] * num_channels
        self.last_output_watermark = MIN_WATERMARK
        self.idle = False

    def input_watermark(self, watermark: int, channel: int) -> None:
        """A watermark arrived on ``channel`` (ignored while the channel or the valve is idle,
        or if it is not larger than the channel's last one)."""
        if self.idle or not self._active[channel] or watermark <= self._watermarks[channel]:
            return
        self._watermarks[channel] = watermark
        if not self._aligned[channel] and watermark >= self.last_output_watermark:
            self._aligned[channel] = True
        self._output_min_of_aligned()

    def input_watermark_status(self, status: Any, channel: int) -> None:
        """``channel`` turned IDLE or ACTIVE."""
        if status.is_idle() and self._active[channel]:
            self._active[channel] = False
            self._aligned[channel] = False
            if not any(self._active):
                # No channel can advance any more: flush the largest watermark reached (only
                # needed if the channel that just went idle was the one holding it back).
                if self._watermarks[channel] == self.last_output_watermark:
                    largest = max(self._watermarks)
                    if largest > self.last_output_watermark:
                        self.last_output_watermark = largest
                        self._emit_watermark(largest)
                self.idle = True
                self._emit_watermark_status(WatermarkStatus.IDLE)
            elif self._watermarks[channel] == self.last_output_watermark:
                self._output_min_of_aligned()
        elif status.is_active() and not self._active[channel]:
            self._active[channel] = True
            if self._watermarks[channel] >= self.last_output_watermark:
                self._aligned[channel] = True
            if self.idle:
                self.idle = False
                self._emit_watermark_status(WatermarkStatus.ACTIVE)

    def _output_min_of_aligned(self) -> None:
        aligned = [w for w, a in zip(self._watermarks, self._aligned) if a]
        if aligned:
            new_min = min(aligned)
            if new_min > self.last_output_watermark:
                self.last_output_watermark = new_min
                self._emit_watermark(new_min)
