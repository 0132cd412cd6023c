"""Event timestamps and watermarks from a WatermarkStrategy, at run time.

``TimestampsAndWatermarksOperator`` (``assign_timestamps_and_watermarks``, Flink's operator of
the same name) gives every record the timestamp the strategy's assigner extracts, shows the
records to the strategy's WatermarkGenerator and forwards the watermarks the generator emits,
each only if it is larger than the last (never backwards, never repeated). Periodic
generators are asked every ``pipeline.auto-watermark-interval`` ms through the task's
ProcessingTimeService (0 disables this); an idle generator marks the output IDLE (a
``WatermarkStatus`` downstream valves honour) until its next watermark. Watermarks from
upstream are dropped, except the final ``MAX_WATERMARK`` that ends a bounded input; in BATCH
mode only that final watermark is emitted, as in Flink.

``SourceWithWatermarks`` applies a strategy inside a source (``env.from_source``), as Flink's
SourceOperator does: records get timestamps and watermarks as they leave the source, and a
strategy ``with_watermark_alignment`` pauses the source while it is too far ahead of its
group (watermark_alignment.py).

Buffers are processed a whole at a time: timestamps are assigned by one comprehension and
checked by one pass over their types; the built-in generators take the buffer's largest
timestamp. Only a custom generator sees records one by one (``on_event``); a watermark it
emits there splits the buffer, so that the watermark follows exactly the records before it.
"""

from __future__ import annotations

import itertools
import operator as _operator
from typing import Any, Callable, List, Optional, Tuple

from flink_py.common.watermark_strategy import (
    NO_TIMESTAMP, NoWatermarksGenerator, RecordTimestampAssigner, Watermark, WatermarkOutput,
    WatermarkStrategy)
from flink_py.runtime.network.events import WatermarkStatus
from flink_py.runtime.operators.base import (
    MAX_WATERMARK, MIN_WATERMARK, Output, StreamingRuntimeContext, StreamOperator)
from flink_py.runtime.operators.sources import SourceTaskContext, StreamSource
from flink_py.runtime.operators.watermark_alignment import (
    SourceWatermarkAlignment, alignment_for)

__all__ = [
    "AutoWatermarkInterval", "SourceWithWatermarks", "TimestampsAndWatermarksOperator",
    "TimestampsAndWatermarksOperatorFactory",
]

DEFAULT_AUTO_WATERMARK_INTERVAL_MS = 200

#: the types of a buffer of well-formed timestamps
_INT_ONLY = {int}


class _WatermarkEmitter(WatermarkOutput):
    """The WatermarkOutput a generator writes to (Flink's ``WatermarkEmitter``).

    Forwards a watermark only if it is larger than the last one, marking the output active
    first if it was idle. While ``deferred`` is a list (a custom generator's ``on_event`` is
    running) emissions are queued there, to be sent once the records before them are out.
    """

    __slots__ = ("_operator", "current_watermark", "idle", "deferred")

    def __init__(self, operator: "TimestampsAndWatermarksOperator") -> None:
        self._operator = operator
        self.current_watermark = MIN_WATERMARK
        self.idle = False
        self.deferred: Optional[List[Tuple[bool, Any]]] = None

    def emit_watermark(self, watermark: Any) -> None:
        if type(watermark) is Watermark:
            timestamp = watermark.timestamp
        elif isinstance(watermark, int) and not isinstance(watermark, bool):
            timestamp = watermark
        else:
            raise TypeError(
                f"emit_watermark expects a Watermark, got {type(watermark).__name__} "
                f"{watermark!r}")
        if timestamp <= self.current_watermark:
            return
        self.current_watermark = timestamp
        self.mark_active()
        self._send(True, timestamp)

    def mark_idle(self) -> None:
        if not self.idle:
            self.idle = True
            self._send(False, WatermarkStatus.IDLE)

    def mark_active(self) -> None:
        if self.idle:
            self.idle = False
            self._send(False, WatermarkStatus.ACTIVE)

    def _send(self, is_watermark: bool, value: Any) -> None:
        if self.deferred is not None:
            self.deferred.append((is_watermark, value))
        elif is_watermark:
            self._operator._forward_watermark(value)
        else:
            self._operator._forward_watermark_status(value)

    def send_deferred(self) -> None:
        deferred, self.deferred = self.deferred, []
        for is_watermark, value in deferred or ():
            if is_watermark:
                self._operator._forward_watermark(value)
            else:
                self._operator._forward_watermark_status(value)


class _WithInputActivityClock:
    """The runtime context, as a generator supplier sees it, with another input activity
    clock (Flink's ``WatermarkGeneratorSupplier.Context.getInputActivityClock``)."""

    def __init__(self, context: Any, clock: Callable[[], int]) -> None:
        self._context = context
        self._clock = clock

    def get_input_activity_clock(self) -> Callable[[], int]:
        return self._clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class TimestampsAndWatermarksOperator(StreamOperator):
    """Assigns timestamps and generates watermarks with a WatermarkStrategy.

    :param name: The operator's name ("Timestamps/Watermarks" for
        ``assign_timestamps_and_watermarks``).
    :param watermark_strategy: The strategy; each instance creates its own assigner and
        generator from it in ``open``.
    :param auto_watermark_interval_ms: How often periodic generators are asked for a
        watermark (``pipeline.auto-watermark-interval``); 0 disables periodic emission.
    """

    #: the clock idleness is measured with, if not the wall clock (set before ``open``: a
    #: source's watermark alignment stops it while the source is paused)
    input_activity_clock: Optional[Callable[[], int]] = None

    def __init__(self, name: str, watermark_strategy: WatermarkStrategy,
                 auto_watermark_interval_ms: int = DEFAULT_AUTO_WATERMARK_INTERVAL_MS) -> None:
        super().__init__(name)
        self.watermark_strategy = watermark_strategy
        self.auto_watermark_interval_ms = auto_watermark_interval_ms
        self._timer: Any = None
        self._finished = False

    def open(self) -> None:
        strategy = self.watermark_strategy
        ctx = self.runtime_context
        # BATCH mode needs no progress: only the final watermark of the input (Flink's
        # emitProgressiveWatermarks).
        progressive = ctx is None or ctx.runtime_mode != "BATCH"
        generator_context = (ctx if self.input_activity_clock is None
                             else _WithInputActivityClock(ctx, self.input_activity_clock))
        try:
            assigner = strategy.create_timestamp_assigner(ctx)
            self.generator = (strategy.create_watermark_generator(generator_context)
                              if progressive else NoWatermarksGenerator())
        except Exception as exc:
            raise self.user_error(exc, "creating the timestamp assigner / watermark generator")
        self._extract = (None if type(assigner) is RecordTimestampAssigner
                         else assigner.extract_timestamp)
        #: the built-in generators take a whole buffer's timestamps at once
        self._on_events = getattr(self.generator, "_on_events", None)
        self._on_event = self.generator.on_event
        self.emitter = _WatermarkEmitter(self)
        self._finished = False
        if progressive and self.auto_watermark_interval_ms > 0:
            self._schedule_periodic_emit()

    # -- records ------------------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        extract = self._extract
        if extract is not None:
            try:
                if timestamps is None:
                    timestamps = [extract(v, NO_TIMESTAMP) for v in values]
                else:
                    timestamps = [extract(v, t) for v, t in zip(values, timestamps)]
            except Exception as exc:
                raise self.user_error(exc, "timestamp assigner")
            if set(map(type, timestamps)) != _INT_ONLY:
                timestamps = self._checked_timestamps(values, timestamps)
        on_events = self._on_events
        if on_events is not None:  # a built-in generator: it emits only periodically
            self.output.emit(values, timestamps)
            try:
                on_events(timestamps)
            except Exception as exc:
                raise self.user_error(exc, "watermark generator")
            return
        self._process_record_by_record(values, timestamps)

    def _process_record_by_record(self, values: list, timestamps: Optional[list]) -> None:
        """A custom generator: ``on_event`` per record; what it emits splits the buffer."""
        on_event = self._on_event
        emitter = self.emitter
        emit = self.output.emit
        deferred: List[Tuple[bool, Any]] = []
        emitter.deferred = deferred
        start = 0
        try:
            stamps = timestamps if timestamps is not None else itertools.repeat(NO_TIMESTAMP)
            for i, (value, timestamp) in enumerate(zip(values, stamps)):
                try:
                    on_event(value, timestamp, emitter)
                except Exception as exc:
                    raise self.user_error(exc, "on_event() of the watermark generator")
                if deferred:
                    emit(values[start:i + 1],
                         None if timestamps is None else timestamps[start:i + 1])
                    start = i + 1
                    emitter.send_deferred()
                    deferred = emitter.deferred  # type: ignore[assignment]
        finally:
            emitter.deferred = None
        if start == 0:
            emit(values, timestamps)
        elif start < len(values):
            emit(values[start:], None if timestamps is None else timestamps[start:])

    def _checked_timestamps(self, values: list, timestamps: list) -> list:
        """Accepts int-like timestamps (``numpy.int64``...); anything else is an error."""
        checked = []
        for value, timestamp in zip(values, timestamps):
            if type(timestamp) is not int:
                if isinstance(timestamp, bool) or not hasattr(timestamp, "__index__"):
                    raise self.user_error(TypeError(
                        f"returned {timestamp!r} ({type(timestamp).__name__}) for record "
                        f"{value!r}; an event timestamp must be an int (milliseconds since "
                        f"the epoch)"), "timestamp assigner")
                timestamp = _operator.index(timestamp)
            checked.append(timestamp)
        return checked

    # -- watermarks ---------------------------------------------------------------------------

    def process_watermark(self, watermark: int) -> None:
        """Upstream watermarks are dropped (this operator makes its own), except the final
        one: it ends the input and must not be held back."""
        if watermark == MAX_WATERMARK:
            self.emitter.emit_watermark(MAX_WATERMARK)

    def process_watermark_status(self, status: Any) -> None:
        """Upstream idleness is dropped too: this operator's generator decides it."""

    #: told of every watermark and idleness forwarded (a source's watermark alignment)
    watermark_listener: Optional[SourceWatermarkAlignment] = None

    def _forward_watermark(self, timestamp: int) -> None:
        self.current_watermark = timestamp
        self.output.emit_watermark(timestamp)
        if self.watermark_listener is not None:
            self.watermark_listener.on_watermark_emitted(timestamp)

    def _forward_watermark_status(self, status: Any) -> None:
        self.output.emit_watermark_status(status)
        if self.watermark_listener is not None:
            self.watermark_listener.on_idle(status is WatermarkStatus.IDLE)

    def _schedule_periodic_emit(self) -> None:
        service = self.processing_time_service
        if service is None:  # not run by a task (a test that drives the operator itself)
            return
        self._timer = service.register_timer(
            service.get_current_processing_time() + self.auto_watermark_interval_ms,
            self._on_processing_time)

    def _on_processing_time(self, timestamp: int) -> None:
        self._timer = None
        if self._finished:
            return
        self.periodic_emit()
        self._schedule_periodic_emit()

    def periodic_emit(self) -> None:
        """Asks the generator for its periodic watermark (what the timer does)."""
        try:
            self.generator.on_periodic_emit(self.emitter)
        except Exception as exc:
            raise self.user_error(exc, "on_periodic_emit() of the watermark generator")

    def finish(self) -> None:
        self._cancel_timer()
        self._finished = True
        self.periodic_emit()  # the last periodic watermark (Flink does the same)

    def close(self) -> None:
        self._cancel_timer()
        self._finished = True

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class SourceWithWatermarks(StreamSource):
    """A source whose records get timestamps and watermarks from a WatermarkStrategy as they
    leave it (``env.from_source``; Flink's SourceOperator applies the strategy itself).

    The task drives it as any source: ``run``, ``cancel``, ``bounded``, and the final
    watermark sent through ``output`` at the end all reach the wrapped source or the
    TimestampsAndWatermarksOperator behind it. Errors name the source.
    """

    def __init__(self, source: StreamSource, watermark_strategy: WatermarkStrategy,
                 auto_watermark_interval_ms: int = DEFAULT_AUTO_WATERMARK_INTERVAL_MS) -> None:
        super().__init__(source.name)
        self.source = source
        self.bounded = source.bounded
        self.watermarks = TimestampsAndWatermarksOperator(
            source.name, watermark_strategy, auto_watermark_interval_ms)
        self._mailbox: Any = None
        #: the source's watermark alignment, if its strategy has one (made in open)
        self.alignment: Optional[SourceWatermarkAlignment] = None

    def attach_mailbox(self, mailbox: Any) -> None:
        """The task's mailbox: watermark alignment pauses the source through it."""
        self._mailbox = mailbox

    def setup(self, runtime_context: StreamingRuntimeContext, output: Output,
              keyed_state_backend: Any = None) -> None:
        self.source.name = self.watermarks.name = self.name  # the name the user set
        self.watermarks.setup(runtime_context, output, keyed_state_backend)
        watermarks = self.watermarks
        into_watermarks = Output(watermarks.process_batch, output.side_outputs,
                                 watermarks.process_watermark,
                                 watermarks.process_watermark_status)
        self.source.setup(runtime_context, into_watermarks, keyed_state_backend)
        super().setup(runtime_context, into_watermarks, keyed_state_backend)

    def open(self) -> None:
        for operator in (self.watermarks, self.source):
            operator.processing_time_service = self.processing_time_service
        self.alignment = alignment_for(self.watermarks.watermark_strategy._alignment, self,
                                       self._mailbox)
        if self.alignment is not None:
            # while paused for alignment the source reads nothing: that is not idleness
            self.watermarks.input_activity_clock = self.alignment.input_activity_clock
            self.watermarks.watermark_listener = self.alignment
        self.watermarks.open()
        self.source.open()
        if self.alignment is not None:
            self.alignment.start()

    # The wrapped source holds the state (its read position): checkpoints are its.

    def initialize_state(self, subtask_state: Any = None,
                         keyed_state_backend: Any = None) -> None:
        # the OperatorChain told the wrapper whether the task restores
        self.source.task_restored = self.task_restored
        self.source.restored_checkpoint_id = self.restored_checkpoint_id
        self.source.initialize_state(subtask_state, keyed_state_backend)

    def restored_reader_position(self) -> Any:
        return self.source.restored_reader_position()

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Callable[[], Any]:
        return self.source.snapshot_state(checkpoint_id, timestamp, options, factory)

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        self.source.notify_checkpoint_complete(checkpoint_id)

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        self.source.notify_checkpoint_aborted(checkpoint_id)

    def run(self, ctx: SourceTaskContext) -> None:
        self.source.run(ctx)

    # The task polls, seeks and drains the wrapped source itself (see StreamSource).
    @property
    def legacy(self) -> bool:  # type: ignore[override]
        return self.source.legacy

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        return self.source.emit_next(ctx, max_records)

    def run_function(self, source_context: Any) -> None:
        self.source.run_function(source_context)  # type: ignore[attr-defined]

    def source_output(self) -> Output:
        return self.source.output

    def reader_position(self) -> Any:
        return self.source.reader_position()

    def seek(self, position: Any) -> None:
        self.source.seek(position)

    def cancel(self) -> None:
        self.source.cancel()

    def finish(self) -> None:
        self.source.finish()
        self.watermarks.finish()
        if self.alignment is not None:
            self.alignment.finish()  # reports MAX: it holds its group back no more

    def close(self) -> None:
        if self.alignment is not None:
            self.alignment.close()
        errors: List[BaseException] = []
        for operator in (self.source, self.watermarks):
            try:
                operator.close()
            except Exception as exc:  # both must get their close() call
                errors.append(exc)
        if errors:
            raise errors[0]


class AutoWatermarkInterval:
    """``pipeline.auto-watermark-interval`` of a job, read when the job graph is serialized.

    The operator factory holds the environment's ExecutionConfig while the program is being
    defined, so a ``set_auto_watermark_interval`` after ``assign_timestamps_and_watermarks``
    still counts; when the factory is shipped (``execute()``) only the number travels, as
    Flink ships the ExecutionConfig in the JobGraph.
    """

    def __init__(self, execution_config: Any) -> None:
        self._execution_config = execution_config
        self._millis: Optional[int] = None

    def get(self) -> int:
        if self._execution_config is not None:
            return int(self._execution_config.get_auto_watermark_interval())
        assert self._millis is not None
        return self._millis

    def __getstate__(self) -> dict:
        return {"_execution_config": None, "_millis": self.get()}


class TimestampsAndWatermarksOperatorFactory:
    """Makes the TimestampsAndWatermarksOperator of ``assign_timestamps_and_watermarks``, or
    (with ``source_factory``) a SourceWithWatermarks around the source it makes."""

    def __init__(self, name: str, watermark_strategy: WatermarkStrategy,
                 auto_watermark_interval: AutoWatermarkInterval,
                 source_factory: Any = None) -> None:
        self.name = name
        self.watermark_strategy = watermark_strategy
        self.auto_watermark_interval = auto_watermark_interval
        self.source_factory = source_factory

    def __call__(self) -> StreamOperator:
        interval = self.auto_watermark_interval.get()
        if self.source_factory is not None:
            return SourceWithWatermarks(self.source_factory(), self.watermark_strategy,
                                        interval)
        return TimestampsAndWatermarksOperator(self.name, self.watermark_strategy, interval)

