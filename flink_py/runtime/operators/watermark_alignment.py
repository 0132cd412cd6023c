"""Watermark alignment at a source (FLIP-182; Flink's SourceOperator with
``WatermarkStrategy.with_watermark_alignment``).

Every ``update_interval`` (a processing-time timer, so it runs as a mail between two reads)
the source reports its current watermark to its group's coordinator in the JobMaster
(runtime/jobmaster/watermark_alignment.py) through the task's operator-event gateway: the
last watermark it emitted, ``Long.MAX_VALUE`` while it is idle or once it finished, nothing
before its first watermark. The answer is the group's combined watermark; with the
source's maximal drift added it is the largest watermark the source may have
(``max_desired_watermark``, Flink's ``currentMaxDesiredWatermark``; no limit until the first
answer).

A source whose last emitted watermark is above that pauses: it holds its task's input
(``MailboxProcessor.hold_input``), so the mailbox stops calling the reader (or, for a
SourceFunction, stops draining its queue, which makes ``collect`` wait) and only runs mails,
without polling, until an answer lets it go on. The check runs after every emitted
watermark and every answer, as Flink's. Records already read when the watermark passes the
limit still go out: a source overshoots by at most what it reads in one
``pipeline.auto-watermark-interval``.

While paused, the source's input activity clock stands still (Flink's
``PausableRelativeClock``): a source waiting for its group is not idle (it would mark its
output idle downstream and report MAX), it was stopped.

Unlike Flink, the report is a call from the task's thread whose answer comes back with it
(Flink sends a ``ReportedWatermarkEvent`` and gets a ``WatermarkAlignmentEvent`` on the
coordinator's own timer): one round trip per update interval, which on a cluster is a local
gRPC call of about a millisecond.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from flink_py.common.watermark_strategy import WatermarkAlignmentParams
from flink_py.runtime.operators.base import MAX_WATERMARK, MIN_WATERMARK

__all__ = ["PausableRelativeClock", "SourceWatermarkAlignment", "alignment_for"]

#: no watermark emitted yet (Java's Long.MIN_VALUE)
_UNINITIALIZED = MIN_WATERMARK


class PausableRelativeClock:
    """Monotonic nanoseconds that do not advance while paused (Flink's
    ``PausableRelativeClock``): the input activity clock of an aligned source.

    >>> now = [0]
    >>> clock = PausableRelativeClock(lambda: now[0])
    >>> now[0] = 10; clock()
    10
    >>> clock.pause(); now[0] = 50; clock()
    10
    >>> clock.unpause(); now[0] = 60; clock()
    20
    """

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._clock = clock
        self._paused_at: Optional[int] = None
        self._paused_nanos = 0

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._clock()

    def unpause(self) -> None:
        if self._paused_at is not None:
            self._paused_nanos += self._clock() - self._paused_at
            self._paused_at = None

    def __call__(self) -> int:
        now = self._paused_at if self._paused_at is not None else self._clock()
        return now - self._paused_nanos


class SourceWatermarkAlignment:
    """The alignment of one parallel source instance: reports, limit, pause and resume.

    Runs on the task's mailbox thread only (the emitted watermarks, the timer mail).

    :param params: the strategy's alignment parameters.
    :param gateway: the task's operator-event gateway (``report_watermark``).
    :param reporter: (source operator id, subtask index): who reports.
    :param mailbox: the task's MailboxProcessor (``hold_input`` / ``release_input``).
    :param processing_time_service: the task's timer service, for the update timer.
    """

    def __init__(self, params: WatermarkAlignmentParams, gateway: Any, reporter: tuple,
                 mailbox: Any, processing_time_service: Any) -> None:
        self.params = params
        self._gateway = gateway
        self._reporter = reporter
        self._mailbox = mailbox
        self._timers = processing_time_service
        self._drift = params.max_allowed_watermark_drift_ms
        #: the last watermark the source emitted
        self.latest_watermark = _UNINITIALIZED
        self.idle = False
        #: the largest watermark the group allows this source (no limit before an answer)
        self.max_desired_watermark = MAX_WATERMARK
        self.paused = False
        #: the source's input activity clock (for idleness): stopped while paused
        self.input_activity_clock = PausableRelativeClock()
        self._timer: Any = None
        self._closed = False

    def start(self) -> None:
        """Schedules the first report, one update interval from now."""
        self._schedule()

    # -- what the source's watermark output tells -------------------------------------------

    def on_watermark_emitted(self, watermark: int) -> None:
        self.latest_watermark = watermark
        self.idle = False
        # the final watermark ends the input: nothing is left to hold back
        if watermark > self.max_desired_watermark and watermark != MAX_WATERMARK:
            self._pause()

    def on_idle(self, idle: bool) -> None:
        self.idle = idle

    # -- reports ------------------------------------------------------------------------------

    def _schedule(self) -> None:
        timers = self._timers
        self._timer = timers.register_timer(
            timers.get_current_processing_time() + self.params.update_interval_ms,
            self._on_update_timer)

    def _on_update_timer(self, timestamp: int) -> None:
        self._timer = None
        if self._closed:
            return
        self.report()
        self._schedule()

    def report(self, finished: bool = False) -> None:
        """Reports the current watermark (MAX when idle or ``finished``) and applies the
        answer: pauses or resumes the source."""
        if finished or self.idle:
            watermark = MAX_WATERMARK
        elif self.latest_watermark == _UNINITIALIZED:
            return  # Flink's SourceOperator: no report before the first watermark
        else:
            watermark = self.latest_watermark
        group_watermark = self._gateway.report_watermark(
            self.params.watermark_group, self._reporter, watermark)
        if finished:
            return
        self.max_desired_watermark = min(group_watermark + self._drift, MAX_WATERMARK)
        if self.latest_watermark > self.max_desired_watermark:
            self._pause()
        elif self.paused:
            self._resume()

    def _pause(self) -> None:
        if not self.paused:
            self.paused = True
            self._mailbox.hold_input(self)
            self.input_activity_clock.pause()

    def _resume(self) -> None:
        self.paused = False
        self._mailbox.release_input(self)
        self.input_activity_clock.unpause()

    def finish(self) -> None:
        """The source's input ended: it reports MAX, so it holds its group back no more."""
        self.close()
        self.report(finished=True)

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.paused:
            self._resume()

    def __repr__(self) -> str:
        return (f"SourceWatermarkAlignment({self._reporter}, group "
                f"{self.params.watermark_group!r}, latest {self.latest_watermark}, max desired "
                f"{self.max_desired_watermark}, {'paused' if self.paused else 'reading'})")


def alignment_for(params: Optional[WatermarkAlignmentParams], operator: Any,
                  mailbox: Any) -> Optional[SourceWatermarkAlignment]:
    """The alignment of source ``operator`` (a SourceWithWatermarks), or None when its
    strategy has none, or it does not run in a task (no gateway, mailbox or timers), or the
    job runs in BATCH mode (no progressive watermarks to align)."""
    ctx = operator.runtime_context
    if params is None or ctx is None or mailbox is None:
        return None
    gateway = getattr(ctx, "operator_event_gateway", None)
    if gateway is None or operator.processing_time_service is None \
            or getattr(ctx, "runtime_mode", "STREAMING") == "BATCH":
        return None
    reporter = (str(getattr(operator, "operator_id", operator.name)),
                ctx.get_index_of_this_subtask())
    return SourceWatermarkAlignment(params, gateway, reporter, mailbox,
                                    operator.processing_time_service)
