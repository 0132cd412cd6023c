"""Event time: ``WatermarkStrategy``, ``TimestampAssigner`` and watermark generators.

As ``pyflink.common.watermark_strategy`` for the strategy and the assigner; the generator
interface PyFlink leaves to Java (``org.apache.flink.api.common.eventtime``) is here in
Python: :class:`WatermarkGenerator` (``on_event`` / ``on_periodic_emit``) writing to a
:class:`WatermarkOutput`, the built-in :class:`BoundedOutOfOrdernessWatermarks`,
:class:`AscendingTimestampsWatermarks`, :class:`NoWatermarksGenerator` and the idleness
wrapper :class:`WatermarksWithIdleness`.

A strategy is a recipe: each parallel instance of the operator that applies it (a source
given to ``from_source``, or ``assign_timestamps_and_watermarks``) creates its own generator
and assigner from it when it opens (``runtime/operators/timestamps.py``).

Example::

    >>> strategy = (WatermarkStrategy
    ...             .for_bounded_out_of_orderness(Duration.of_seconds(5))
    ...             .with_timestamp_assigner(lambda event, record_timestamp: event[1]))
    >>> generator = strategy.create_watermark_generator()
    >>> out = []
    >>> class Collect(WatermarkOutput):
    ...     def emit_watermark(self, watermark): out.append(watermark.get_timestamp())
    ...     def mark_idle(self): out.append("idle")
    >>> generator.on_event(("a", 12_000), 12_000, Collect())
    >>> generator.on_periodic_emit(Collect())
    >>> out
    [6999]
"""

from __future__ import annotations

import abc
import copy
import inspect
import time
from typing import Any, Callable, Optional, Union

from flink_py.common.time import Duration
from flink_py.errors import InvalidProgramError

__all__ = [
    "AscendingTimestampsWatermarks", "BoundedOutOfOrdernessWatermarks", "NoWatermarksGenerator",
    "RecordTimestampAssigner", "TimestampAssigner", "Watermark", "WatermarkGenerator",
    "WatermarkAlignmentParams", "WatermarkOutput", "WatermarkStrategy", "WatermarksWithIdleness",
]

#: Java's Long.MIN_VALUE: the "record timestamp" of a record that has none
NO_TIMESTAMP = -(2 ** 63)
_MAX_TIMESTAMP = 2 ** 63 - 1


class Watermark:
    """Event time has reached ``timestamp`` (ms): no more records with a smaller timestamp.

    The value a :class:`WatermarkGenerator` emits (Flink's ``eventtime.Watermark``).
    """

    __slots__ = ("timestamp",)

    MAX_WATERMARK: "Watermark"

    def __init__(self, timestamp: int) -> None:
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise InvalidProgramError(
                f"a Watermark's timestamp must be an int (ms since the epoch), got "
                f"{timestamp!r} ({type(timestamp).__name__})")
        self.timestamp = timestamp

    def get_timestamp(self) -> int:
        return self.timestamp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Watermark) and other.timestamp == self.timestamp

    def __hash__(self) -> int:
        return hash(self.timestamp)

    def __repr__(self) -> str:
        return f"Watermark @ {self.timestamp}"


Watermark.MAX_WATERMARK = Watermark(_MAX_TIMESTAMP)


class WatermarkOutput(abc.ABC):
    """Where a :class:`WatermarkGenerator` emits watermarks and idleness."""

    @abc.abstractmethod
    def emit_watermark(self, watermark: Watermark) -> None:
        """Emits ``watermark`` (ignored unless larger than the last one); also marks the
        output active."""

    @abc.abstractmethod
    def mark_idle(self) -> None:
        """Marks the output idle: downstream operators stop waiting for its watermarks."""

    def mark_active(self) -> None:
        """Marks the output active again (emitting a watermark does this too)."""


class WatermarkGenerator(abc.ABC):
    """Generates watermarks from the events it sees or periodically.

    *Punctuated* generators emit in ``on_event``; *periodic* ones remember what they saw and
    emit in ``on_periodic_emit``, called every ``pipeline.auto-watermark-interval``
    (``ExecutionConfig.set_auto_watermark_interval``, 200 ms by default).
    """

    @abc.abstractmethod
    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        """Called for every record, with its (assigned) timestamp."""

    @abc.abstractmethod
    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        """Called periodically; may emit a watermark."""


class BoundedOutOfOrdernessWatermarks(WatermarkGenerator):
    """A periodic generator for records at most ``max_out_of_orderness`` late.

    The watermark is ``max_timestamp - out_of_orderness - 1``: the largest timestamp seen,
    less the bound, less one (a watermark ``t`` promises no more records with a timestamp
    ``<= t``).
    """

    def __init__(self, max_out_of_orderness: Duration) -> None:
        self.out_of_orderness_millis = _millis(max_out_of_orderness, "max_out_of_orderness",
                                               allow_zero=True)
        # Starts so that the first periodic watermark is NO_TIMESTAMP (not emitted).
        self.max_timestamp = NO_TIMESTAMP + self.out_of_orderness_millis + 1

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        if event_timestamp > self.max_timestamp:
            self.max_timestamp = event_timestamp

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        output.emit_watermark(Watermark(self.max_timestamp - self.out_of_orderness_millis - 1))

    def _on_events(self, timestamps: Optional[list]) -> None:
        """``on_event`` for a whole buffer of timestamps (never emits)."""
        if timestamps:
            largest = max(timestamps)
            if largest > self.max_timestamp:
                self.max_timestamp = largest


class AscendingTimestampsWatermarks(BoundedOutOfOrdernessWatermarks):
    """For timestamps that never decrease: bounded out-of-orderness of 0."""

    def __init__(self) -> None:
        super().__init__(Duration.of_millis(0))


class NoWatermarksGenerator(WatermarkGenerator):
    """Generates no watermarks (processing-time programs)."""

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        pass

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        pass

    def _on_events(self, timestamps: Optional[list]) -> None:
        pass


class WatermarksWithIdleness(WatermarkGenerator):
    """Wraps a generator: marks the output idle when no records came for ``idle_timeout``.

    Idleness is checked on the periodic emission (Flink's ``WatermarksWithIdleness``): the
    output is marked idle at the first periodic emission more than ``idle_timeout`` after the
    first one that saw no new records; the wrapped generator's next watermark makes it
    active again.

    :param clock: monotonic nanoseconds (for tests); ``time.monotonic_ns`` by default.
    """

    def __init__(self, watermarks: WatermarkGenerator, idle_timeout: Duration,
                 clock: Optional[Callable[[], int]] = None) -> None:
        self.watermarks = watermarks
        self.max_idle_time_nanos = _millis(idle_timeout, "idle_timeout") * 1_000_000
        self._clock = clock or time.monotonic_ns
        self._counter = 0
        self._last_counter = 0
        self._start_of_inactivity_nanos: Optional[int] = None
        self._is_idle_now = False
        self._inner_on_events = getattr(watermarks, "_on_events", None)
        if self._inner_on_events is None:
            # A custom generator sees every record itself: no batch form.
            self._on_events = None  # type: ignore[assignment]

    def on_event(self, event: Any, event_timestamp: int, output: WatermarkOutput) -> None:
        self.watermarks.on_event(event, event_timestamp, output)
        self._counter += 1
        self._is_idle_now = False

    def on_periodic_emit(self, output: WatermarkOutput) -> None:
        if self._check_if_idle():
            if not self._is_idle_now:
                output.mark_idle()
                self._is_idle_now = True
        else:
            self.watermarks.on_periodic_emit(output)

    def _on_events(self, timestamps: Optional[list]) -> None:
        self._inner_on_events(timestamps)
        self._counter += 1
        self._is_idle_now = False

    def _check_if_idle(self) -> bool:
        if self._counter != self._last_counter:
            self._last_counter = self._counter
            self._start_of_inactivity_nanos = None
            return False
        if self._start_of_inactivity_nanos is None:
            self._start_of_inactivity_nanos = self._clock()
            return False
        return self._clock() - self._start_of_inactivity_nanos > self.max_idle_time_nanos


class WatermarkAlignmentParams:
    """What ``with_watermark_alignment`` configured (Flink's ``WatermarkAlignmentParams``).

    :param watermark_group: the group whose sources are aligned with each other.
    :param max_allowed_watermark_drift_ms: how far (ms) a source's watermark may run ahead
        of the group's smallest before the source pauses.
    :param update_interval_ms: how often (ms) a source reports its watermark and learns the
        group's smallest.
    """

    __slots__ = ("watermark_group", "max_allowed_watermark_drift_ms", "update_interval_ms")

    #: Flink's default update interval (``WatermarkAlignmentParams``): 1 s
    DEFAULT_UPDATE_INTERVAL_MS = 1000

    def __init__(self, watermark_group: str, max_allowed_watermark_drift_ms: int,
                 update_interval_ms: int = DEFAULT_UPDATE_INTERVAL_MS) -> None:
        self.watermark_group = watermark_group
        self.max_allowed_watermark_drift_ms = max_allowed_watermark_drift_ms
        self.update_interval_ms = update_interval_ms

    def __repr__(self) -> str:
        return (f"WatermarkAlignmentParams(group {self.watermark_group!r}, max drift "
                f"{self.max_allowed_watermark_drift_ms} ms, update interval "
                f"{self.update_interval_ms} ms)")


class TimestampAssigner(abc.ABC):
    """Extracts an event timestamp (ms since the epoch) from a record."""

    @abc.abstractmethod
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        """Returns the timestamp of ``value``.

        :param value: The record.
        :param record_timestamp: The timestamp the record already carries, or
            ``-2**63`` (Java's ``Long.MIN_VALUE``) if it has none.
        :return: The new timestamp, an int (ms since the epoch).
        """


class RecordTimestampAssigner(TimestampAssigner):
    """Keeps the timestamp the record already has (the default of every strategy)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return record_timestamp


class IngestionTimeAssigner(TimestampAssigner):
    """Ingestion time: each record's timestamp is the wall-clock time (ms) at which it is
    assigned, as Flink's ``IngestionTimeAssigner``. With monotonous watermarks this is
    Flink's ingestion-time characteristic::

        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(
            IngestionTimeAssigner())
    """

    def __init__(self) -> None:
        self._last = -(2 ** 63)

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        now = time.time_ns() // 1_000_000
        # never backwards, even if the wall clock is set back: monotonous watermarks hold
        if now > self._last:
            self._last = now
        return self._last


class _FunctionTimestampAssigner(TimestampAssigner):
    """A TimestampAssigner around a callable ``(value, record_timestamp) -> int``."""

    def __init__(self, function: Callable[..., int], takes_record_timestamp: bool) -> None:
        self.function = function
        self.takes_record_timestamp = takes_record_timestamp
        # the function itself where it takes both arguments: one call less per record (the
        # method below stays for the ABC, and is what the instance attribute stands for)
        self.extract_timestamp = function if takes_record_timestamp else (  # type: ignore
            lambda value, record_timestamp: function(value))

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return self.function(value, record_timestamp)


GeneratorSupplier = Callable[..., WatermarkGenerator]


class WatermarkStrategy:
    """How a source (or ``assign_timestamps_and_watermarks``) makes timestamps and watermarks.

    A strategy is immutable: ``with_*`` return a new one.

    Example::

        strategy = (WatermarkStrategy
                    .for_bounded_out_of_orderness(Duration.of_seconds(5))
                    .with_timestamp_assigner(MyAssigner())
                    .with_idleness(Duration.of_minutes(1)))
    """

    #: set by ``with_watermark_alignment`` (a class default: strategies pickled before it)
    _alignment: Optional[WatermarkAlignmentParams] = None

    def __init__(self, generator_supplier: GeneratorSupplier,
                 timestamp_assigner: Optional[TimestampAssigner] = None,
                 idle_timeout: Optional[Duration] = None, description: str = "custom") -> None:
        """Prefer the ``for_*`` factories.

        :param generator_supplier: ``context -> WatermarkGenerator``, called once per parallel
            instance.
        """
        self._generator_supplier = generator_supplier
        self._timestamp_assigner = timestamp_assigner
        self._idle_timeout = idle_timeout
        self._description = description
        self._alignment = None

    # -- what the runtime calls ----------------------------------------------------------------

    def create_watermark_generator(self, context: Any = None) -> WatermarkGenerator:
        """A new generator for one parallel instance (wrapped for idleness if configured)."""
        generator = self._generator_supplier(context)
        if not isinstance(generator, WatermarkGenerator):
            raise InvalidProgramError(
                f"the watermark generator supplier of {self!r} returned "
                f"{type(generator).__name__} {generator!r}, expected a WatermarkGenerator "
                f"(with on_event and on_periodic_emit)")
        if self._idle_timeout is not None:
            # The context may bring the clock idleness is measured with (Flink's input
            # activity clock); the wall clock's monotonic nanoseconds otherwise.
            clock = getattr(context, "get_input_activity_clock", None)
            generator = WatermarksWithIdleness(generator, self._idle_timeout,
                                               clock() if clock is not None else None)
        return generator

    def create_timestamp_assigner(self, context: Any = None) -> TimestampAssigner:
        """The assigner; :class:`RecordTimestampAssigner` when none was given."""
        return self._timestamp_assigner or RecordTimestampAssigner()

    # -- builders ------------------------------------------------------------------------------

    def _copy(self, **changes: Any) -> "WatermarkStrategy":
        new = copy.copy(self)
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    def with_timestamp_assigner(self, timestamp_assigner: Union[TimestampAssigner, Callable]
                                ) -> "WatermarkStrategy":
        """A strategy that takes each record's timestamp from ``timestamp_assigner``.

        :param timestamp_assigner: a :class:`TimestampAssigner`, or a callable
            ``(value, record_timestamp) -> int`` (or ``value -> int``).
        :return: A new WatermarkStrategy.
        """
        if isinstance(timestamp_assigner, TimestampAssigner):
            assigner = timestamp_assigner
        elif isinstance(timestamp_assigner, type):
            raise InvalidProgramError(
                f"with_timestamp_assigner expects a TimestampAssigner instance or a callable, "
                f"got the class {timestamp_assigner.__name__} (did you forget to instantiate "
                f"it?)")
        elif callable(timestamp_assigner):
            assigner = _FunctionTimestampAssigner(
                timestamp_assigner, _positional_arity(timestamp_assigner, 2) >= 2)
        else:
            raise InvalidProgramError(
                f"with_timestamp_assigner expects a TimestampAssigner or a callable "
                f"(value, record_timestamp) -> int, got {type(timestamp_assigner).__name__} "
                f"{timestamp_assigner!r}")
        return self._copy(_timestamp_assigner=assigner)

    def with_idleness(self, idle_timeout: Duration) -> "WatermarkStrategy":
        """A strategy that marks its output idle after ``idle_timeout`` without records.

        Downstream operators then stop waiting for this input's watermarks; it rejoins with
        its next watermark. Idleness is detected on the periodic watermark emission.

        :param idle_timeout: The idle timeout, a positive Duration.
        :return: A new WatermarkStrategy.
        """
        _millis(idle_timeout, "idle_timeout")
        return self._copy(_idle_timeout=idle_timeout)

    def with_watermark_alignment(self, watermark_group: str,
                                 max_allowed_watermark_drift: Duration,
                                 update_interval: Optional[Duration] = None
                                 ) -> "WatermarkStrategy":
        """A strategy that keeps a source from running ahead of the others in its group.

        Every ``update_interval`` each parallel instance of a source given to ``from_source``
        with this strategy reports its current watermark to the group's coordinator in the
        JobMaster and learns the group's smallest (idle and finished sources do not count).
        An instance whose watermark is more than ``max_allowed_watermark_drift`` ahead of
        that stops reading, until an update lets it go on. The group may hold completely
        different sources (e.g. a file and a number sequence).

        Example::

            >>> strategy = (WatermarkStrategy
            ...     .for_bounded_out_of_orderness(Duration.of_seconds(20))
            ...     .with_watermark_alignment("alignment-group-1", Duration.of_seconds(20),
            ...                               Duration.of_seconds(1)))

        :param watermark_group: A group of sources to align watermarks.
        :param max_allowed_watermark_drift: Maximal drift, before we pause consuming from the
            source (a Duration, zero or more).
        :param update_interval: How often tasks notify the coordinator of their watermark
            and learn the group's; None for the default, 1 s.
        :return: A new WatermarkStrategy with watermark alignment configured.
        """
        if not isinstance(watermark_group, str) or not watermark_group:
            raise InvalidProgramError(
                f"watermark_group must be a non-empty string, got {watermark_group!r}")
        drift = _millis(max_allowed_watermark_drift, "max_allowed_watermark_drift",
                        allow_zero=True)
        interval = (WatermarkAlignmentParams.DEFAULT_UPDATE_INTERVAL_MS
                    if update_interval is None else _millis(update_interval, "update_interval"))
        return self._copy(_alignment=WatermarkAlignmentParams(watermark_group, drift,
                                                              interval))

    @staticmethod
    def for_monotonous_timestamps() -> "WatermarkStrategy":
        """Watermarks for ascending timestamps: the watermark is the largest timestamp seen
        minus one, emitted periodically."""
        return WatermarkStrategy(lambda context: AscendingTimestampsWatermarks(),
                                 description="monotonous timestamps")

    @staticmethod
    def for_bounded_out_of_orderness(max_out_of_orderness: Duration) -> "WatermarkStrategy":
        """Watermarks for records at most ``max_out_of_orderness`` out of order: the largest
        timestamp seen minus ``max_out_of_orderness`` minus one, emitted periodically."""
        millis = _millis(max_out_of_orderness, "max_out_of_orderness", allow_zero=True)
        return WatermarkStrategy(
            lambda context: BoundedOutOfOrdernessWatermarks(max_out_of_orderness),
            description=f"bounded out-of-orderness {millis} ms")

    @staticmethod
    def no_watermarks() -> "WatermarkStrategy":
        """No watermarks at all: for processing-time programs."""
        return WatermarkStrategy(_no_watermarks, description="no watermarks")

    @staticmethod
    def for_generator(generator_supplier: Any) -> "WatermarkStrategy":
        """A strategy with a custom :class:`WatermarkGenerator`, periodic or punctuated.

        :param generator_supplier: what makes one generator per parallel instance: a callable
            ``context -> WatermarkGenerator`` (as Flink's ``WatermarkGeneratorSupplier``), a
            no-argument callable such as the generator class itself, or an object with
            ``create_watermark_generator(context)``. A generator instance is also accepted:
            each parallel instance gets its own copy.
        :return: A new WatermarkStrategy.
        """
        supplier = _generator_supplier(generator_supplier)
        name = getattr(generator_supplier, "__name__", type(generator_supplier).__name__)
        return WatermarkStrategy(supplier, description=f"generator {name}")

    def _changes_nothing(self) -> bool:
        """Whether applying this strategy leaves a stream as it is (no watermarks, no
        assigner, no idleness): a source need not apply it."""
        return (self._generator_supplier is _no_watermarks and self._timestamp_assigner is None
                and self._idle_timeout is None and self._alignment is None)

    def __repr__(self) -> str:
        parts = [self._description]
        if self._timestamp_assigner is not None:
            parts.append("with timestamp assigner")
        if self._idle_timeout is not None:
            parts.append(f"idleness {self._idle_timeout.to_milliseconds()} ms")
        if self._alignment is not None:
            parts.append(f"aligned in group {self._alignment.watermark_group!r} (max drift "
                         f"{self._alignment.max_allowed_watermark_drift_ms} ms)")
        return f"WatermarkStrategy({', '.join(parts)})"


def _no_watermarks(context: Any) -> WatermarkGenerator:
    return NoWatermarksGenerator()


def _generator_supplier(supplier: Any) -> Callable[[Any], WatermarkGenerator]:
    if isinstance(supplier, WatermarkGenerator):
        prototype = supplier
        return lambda context: copy.deepcopy(prototype)
    create = getattr(supplier, "create_watermark_generator", None)
    if create is not None and callable(create):
        return create
    if callable(supplier):
        if isinstance(supplier, type):
            if not issubclass(supplier, WatermarkGenerator):
                raise InvalidProgramError(
                    f"for_generator expects a WatermarkGenerator supplier, got the class "
                    f"{supplier.__name__}, which is not a WatermarkGenerator")
            return lambda context: supplier()
        if _positional_arity(supplier, 1) >= 1:
            return supplier
        return lambda context: supplier()
    raise InvalidProgramError(
        f"for_generator expects a callable context -> WatermarkGenerator (or a "
        f"WatermarkGenerator), got {type(supplier).__name__} {supplier!r}")


def _positional_arity(function: Callable[..., Any], default: int) -> int:
    """How many positional arguments ``function`` takes (``default`` if it cannot be told;
    a ``*args`` counts as enough)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return default
    count = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return max(default, count)
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY,
                              inspect.Parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _millis(duration: Any, what: str, allow_zero: bool = False) -> int:
    """The milliseconds of a Duration argument; negative (or zero, unless allowed) is an
    error, as in Flink."""
    if not isinstance(duration, Duration):
        raise InvalidProgramError(
            f"{what} must be a Duration (e.g. Duration.of_seconds(5)), got "
            f"{type(duration).__name__} {duration!r}")
    millis = duration.to_milliseconds()
    if duration.to_nanos() < 0:
        raise InvalidProgramError(f"{what} must not be negative, got {duration!r}")
    if not allow_zero and duration.to_nanos() == 0:
        raise InvalidProgramError(f"{what} must be greater than zero, got {duration!r}")
    return millis
