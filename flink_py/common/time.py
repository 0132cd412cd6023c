"""PyFlink's time values (``pyflink.common.time``): :class:`Duration`, :class:`Time`,
:class:`Instant`.

PyFlink's classes wrap ``java.time`` objects through py4j; these are plain Python values
(integer nanoseconds / milliseconds) with the same constructors and accessors, so a PyFlink
script that builds them ports unchanged.
"""

from __future__ import annotations

from functools import total_ordering

__all__ = ["Duration", "Time", "Instant"]

_NANOS_PER_MILLI = 1_000_000
_NANOS_PER_SECOND = 1_000_000_000
_MILLIS_PER_SECOND = 1000


def _require_int(value: object, what: str) -> int:
    # bool is an int subclass; Duration.of_seconds(True) is a bug, not one second.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {value!r} ({type(value).__name__})")
    return value


@total_ordering
class Duration:
    """A time-based amount of time, such as '34.5 seconds' (``java.time.Duration``).

    Held as an integer number of nanoseconds, so every ``of_*`` factory is exact. Conversions
    to coarser units truncate towards negative infinity, as Java's ``Duration.toMillis()`` does.

    Example::

        >>> Duration.of_seconds(10).to_milliseconds()
        10000
        >>> Duration.of_millis(1500)
        Duration.of_millis(1500)
    """

    __slots__ = ("_nanos",)

    def __init__(self, nanos: int = 0) -> None:
        """Creates a duration of ``nanos`` nanoseconds; prefer the ``of_*`` factories.

        :param nanos: The length of the duration in nanoseconds.
        """
        self._nanos = _require_int(nanos, "Duration nanos")

    @staticmethod
    def of_days(days: int) -> "Duration":
        """Obtains a duration of ``days`` standard 24-hour days."""
        return Duration(_require_int(days, "days") * 86_400 * _NANOS_PER_SECOND)

    @staticmethod
    def of_hours(hours: int) -> "Duration":
        """Obtains a duration of ``hours`` hours."""
        return Duration(_require_int(hours, "hours") * 3_600 * _NANOS_PER_SECOND)

    @staticmethod
    def of_minutes(minutes: int) -> "Duration":
        """Obtains a duration of ``minutes`` minutes."""
        return Duration(_require_int(minutes, "minutes") * 60 * _NANOS_PER_SECOND)

    @staticmethod
    def of_seconds(seconds: int) -> "Duration":
        """Obtains a duration of ``seconds`` seconds."""
        return Duration(_require_int(seconds, "seconds") * _NANOS_PER_SECOND)

    @staticmethod
    def of_millis(millis: int) -> "Duration":
        """Obtains a duration of ``millis`` milliseconds."""
        return Duration(_require_int(millis, "millis") * _NANOS_PER_MILLI)

    @staticmethod
    def of_nanos(nanos: int) -> "Duration":
        """Obtains a duration of ``nanos`` nanoseconds."""
        return Duration(_require_int(nanos, "nanos"))

    def to_milliseconds(self) -> int:
        """Returns the length in whole milliseconds (floor, as Java's ``toMillis``).

        :return: The duration in milliseconds.
        """
        return self._nanos // _NANOS_PER_MILLI

    def to_millis(self) -> int:
        """Alias of :meth:`to_milliseconds`, named after Java's ``Duration.toMillis``."""
        return self._nanos // _NANOS_PER_MILLI

    def to_nanos(self) -> int:
        """Returns the length in nanoseconds."""
        return self._nanos

    def get_seconds(self) -> int:
        """Returns the whole seconds part (floor), as Java's ``Duration.getSeconds``."""
        return self._nanos // _NANOS_PER_SECOND

    def get_nano(self) -> int:
        """Returns the nanosecond adjustment (0..999,999,999), as Java's ``getNano``."""
        return self._nanos % _NANOS_PER_SECOND

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and self._nanos == other._nanos

    def __lt__(self, other: "Duration") -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self._nanos < other._nanos

    def __hash__(self) -> int:
        return hash(self._nanos)

    def __repr__(self) -> str:
        if self._nanos % _NANOS_PER_MILLI == 0:
            return f"Duration.of_millis({self._nanos // _NANOS_PER_MILLI})"
        return f"Duration.of_nanos({self._nanos})"


@total_ordering
class Time:
    """A time interval for windowing, in milliseconds (PyFlink's ``Time``).

    Example::

        >>> Time.seconds(5).to_milliseconds()
        5000
    """

    __slots__ = ("_milliseconds",)

    def __init__(self, milliseconds: int) -> None:
        """:param milliseconds: The length of the interval in milliseconds."""
        self._milliseconds = _require_int(milliseconds, "milliseconds")

    @staticmethod
    def milliseconds(milliseconds: int) -> "Time":
        """Creates a new :class:`Time` of ``milliseconds`` milliseconds."""
        return Time(milliseconds)

    @staticmethod
    def seconds(seconds: int) -> "Time":
        """Creates a new :class:`Time` of ``seconds`` seconds."""
        return Time(_require_int(seconds, "seconds") * 1000)

    @staticmethod
    def minutes(minutes: int) -> "Time":
        """Creates a new :class:`Time` of ``minutes`` minutes."""
        return Time(_require_int(minutes, "minutes") * 60_000)

    @staticmethod
    def hours(hours: int) -> "Time":
        """Creates a new :class:`Time` of ``hours`` hours."""
        return Time(_require_int(hours, "hours") * 3_600_000)

    @staticmethod
    def days(days: int) -> "Time":
        """Creates a new :class:`Time` of ``days`` days."""
        return Time(_require_int(days, "days") * 86_400_000)

    def to_milliseconds(self) -> int:
        """Converts the time interval to milliseconds.

        :return: The time interval in milliseconds.
        """
        return self._milliseconds

    def to_duration(self) -> Duration:
        """Returns the interval as a :class:`Duration`."""
        return Duration.of_millis(self._milliseconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Time) and self._milliseconds == other._milliseconds

    def __lt__(self, other: "Time") -> bool:
        if not isinstance(other, Time):
            return NotImplemented
        return self._milliseconds < other._milliseconds

    def __hash__(self) -> int:
        return hash(self._milliseconds)

    def __str__(self) -> str:
        return f"{self._milliseconds} ms"

    def __repr__(self) -> str:
        return f"Time.milliseconds({self._milliseconds})"


@total_ordering
class Instant:
    """An instantaneous point on the time-line (``java.time.Instant``): seconds plus nanos.

    ``nanos`` is always in ``0..999_999_999``; instants before the epoch have negative
    ``seconds``, exactly as in Java.

    Example::

        >>> Instant.of_epoch_milli(-1)
        Instant<-1, 999000000>
        >>> Instant.of_epoch_milli(-1).to_epoch_milli()
        -1
    """

    __slots__ = ("seconds", "nanos")

    def __init__(self, seconds: int, nanos: int) -> None:
        """:param seconds: Seconds since the epoch. :param nanos: Nanosecond adjustment."""
        _require_int(seconds, "seconds")
        _require_int(nanos, "nanos")
        if not 0 <= nanos < _NANOS_PER_SECOND:
            raise ValueError(f"Instant nanos must be in 0..999999999, got {nanos}")
        self.seconds = seconds
        self.nanos = nanos

    @staticmethod
    def of_epoch_milli(epoch_milli: int) -> "Instant":
        """Obtains an instant from milliseconds since 1970-01-01T00:00:00Z."""
        secs, millis = divmod(_require_int(epoch_milli, "epoch_milli"), _MILLIS_PER_SECOND)
        return Instant(secs, millis * _NANOS_PER_MILLI)

    def to_epoch_milli(self) -> int:
        """Converts this instant to milliseconds since the epoch (floor of sub-millis).

        Java's ``Instant.toEpochMilli`` semantics; PyFlink's Python port of it has a typo
        (``1000_1000``) that gives wrong results for pre-epoch instants, which we do not copy.
        """
        return (self.seconds * _NANOS_PER_SECOND + self.nanos) // _NANOS_PER_MILLI

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Instant)
            and self.seconds == other.seconds
            and self.nanos == other.nanos
        )

    def __lt__(self, other: "Instant") -> bool:
        if not isinstance(other, Instant):
            return NotImplemented
        return (self.seconds, self.nanos) < (other.seconds, other.nanos)

    def __hash__(self) -> int:
        return hash((self.seconds, self.nanos))

    def __repr__(self) -> str:
        return f"Instant<{self.seconds}, {self.nanos}>"
