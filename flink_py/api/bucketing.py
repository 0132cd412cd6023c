"""The contracts of the file sink, as in ``pyflink.datastream.connectors.file_system``:
which bucket a record goes to (:class:`BucketAssigner`) and when a part file rolls
(:class:`RollingPolicy`), with the built-in ones.

They sit below the runtime because the FileSink operator calls them;
:mod:`flink_py.datastream.connectors.file_system` re-exports them.
"""

from __future__ import annotations

from typing import Any, Optional

from flink_py.common.time import Duration
from flink_py.errors import InvalidProgramError

_MIB = 1024 * 1024


def _millis(value: Any, what: str) -> int:
    """A positive interval in milliseconds, given as an int or a Duration."""
    if isinstance(value, Duration):
        value = value.to_milliseconds()
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidProgramError(
            f"{what} must be a positive number of milliseconds (an int) or a Duration, got "
            f"{value!r}")
    return value


class BucketAssigner:
    """Decides the bucket (the sub-directory of the base path) a record is written to.

    The FileSink writes to many buckets at a time; for every record it asks its
    BucketAssigner for the bucket id, ``""`` being the base path itself. As in PyFlink, the
    assigners are the ones built in: :meth:`base_path_bucket_assigner` and
    :meth:`date_time_bucket_assigner` (the default), which depend only on the processing
    time, so the sink asks them once per buffer of records.
    """

    #: whether the bucket depends only on the time, not on the record (asked once per buffer)
    element_independent = False

    class Context:
        """What a BucketAssigner may look at besides the record (Flink's
        ``BucketAssigner.Context``)."""

        __slots__ = ("_operator", "_processing_time", "_timestamp")

        def __init__(self, operator: Any) -> None:
            self._operator = operator
            self._processing_time = 0
            self._timestamp: Optional[int] = None

        def current_processing_time(self) -> int:
            return self._processing_time

        def current_watermark(self) -> int:
            return self._operator.current_watermark

        def timestamp(self) -> Optional[int]:
            return self._timestamp

    def get_bucket_id(self, element: Any, context: "BucketAssigner.Context") -> str:
        """The id of the bucket ``element`` goes to (its directory under the base path)."""
        raise NotImplementedError

    @staticmethod
    def base_path_bucket_assigner() -> "BucketAssigner":
        """A BucketAssigner that does no bucketing: every file is written to the base path."""
        return BasePathBucketAssigner()

    @staticmethod
    def date_time_bucket_assigner(format_str: str = "yyyy-MM-dd--HH",
                                  timezone_id: Optional[str] = None) -> "BucketAssigner":
        """A BucketAssigner naming buckets by the current processing time.

        Buckets are ``<base path>/<date-time>``, the date-time being the processing time
        formatted with ``format_str``, a Java ``DateTimeFormatter`` pattern: the default
        ``"yyyy-MM-dd--HH"`` makes one bucket per hour.

        :param format_str: the pattern of the bucket ids.
        :param timezone_id: a zone such as ``"UTC"``, ``"America/Los_Angeles"``,
            ``"GMT-08:00"`` or ``"PST"``; None for the system's time zone.
        :return: the bucket assigner.
        """
        return DateTimeBucketAssigner(format_str, timezone_id)


class BasePathBucketAssigner(BucketAssigner):
    """Writes every file to the base path (bucket id ``""``)."""

    element_independent = True

    def get_bucket_id(self, element: Any, context: BucketAssigner.Context) -> str:
        return ""

    def __repr__(self) -> str:
        return "BasePathBucketAssigner"


class DateTimeBucketAssigner(BucketAssigner):
    """Names buckets by the processing time, formatted with a Java date-time pattern."""

    element_independent = True

    def __init__(self, format_str: str = "yyyy-MM-dd--HH",
                 timezone_id: Optional[str] = None) -> None:
        from flink_py.common.date_time_format import (
            compile_pattern, resolve_zone)
        self.format_str = format_str
        self.timezone_id = timezone_id
        # bad input fails here; the compiled pattern is rebuilt where the sink runs
        self._format: Any = compile_pattern(format_str, resolve_zone(timezone_id))

    def get_bucket_id(self, element: Any, context: BucketAssigner.Context) -> str:
        format_millis = self._format
        if format_millis is None:
            from flink_py.common.date_time_format import (
                compile_pattern, resolve_zone)
            format_millis = self._format = compile_pattern(
                self.format_str, resolve_zone(self.timezone_id))
        return format_millis(context.current_processing_time())

    def __getstate__(self) -> dict:
        # the compiled pattern is rebuilt where the sink runs
        return {"format_str": self.format_str, "timezone_id": self.timezone_id,
                "_format": None}

    def __repr__(self) -> str:
        return f"DateTimeBucketAssigner({self.format_str!r}, {self.timezone_id!r})"


class RollingPolicy:
    """When a bucket closes its in-progress part file and starts a new one.

    The sink asks the policy before writing each record (:meth:`should_roll_on_event`), when
    its bucket check timer fires (:meth:`should_roll_on_processing_time`) and, in Flink, on
    checkpoints (:meth:`should_roll_on_checkpoint`). The part-file argument has
    ``get_bucket_id()``, ``get_creation_time()``, ``get_size()`` and
    ``get_last_update_time()`` (Flink's ``PartFileInfo``).
    """

    #: the file size above which should_roll_on_event is True (None: never); the sink uses
    #: it to decide for a whole buffer of records at once
    _max_part_size: Optional[int] = None

    def should_roll_on_checkpoint(self, part_file_state: Any) -> bool:
        return False

    def should_roll_on_event(self, part_file_state: Any, element: Any) -> bool:
        limit = self._max_part_size
        return limit is not None and part_file_state.get_size() > limit

    def should_roll_on_processing_time(self, part_file_state: Any, current_time: int) -> bool:
        return False

    @staticmethod
    def default_rolling_policy(part_size: int = 128 * _MIB, rollover_interval: int = 60 * 1000,
                               inactivity_interval: int = 60 * 1000
                               ) -> "DefaultRollingPolicy":
        """The default policy: a part file rolls when

        - it is larger than ``part_size`` bytes (128 MiB by default), checked per record,
        - it is older than ``rollover_interval`` ms (60 s by default), or
        - it has not been written to for ``inactivity_interval`` ms (60 s by default);

        the two time conditions are checked every bucket check interval
        (``with_bucket_check_interval``, 60 s by default).

        :param part_size: the maximum part file size before rolling, in bytes.
        :param rollover_interval: the maximum time a part file stays open, in ms.
        :param inactivity_interval: the time without writes after which it rolls, in ms.
        :return: the policy.
        """
        return DefaultRollingPolicy(part_size, rollover_interval, inactivity_interval)

    @staticmethod
    def on_checkpoint_rolling_policy() -> "OnCheckpointRollingPolicy":
        """A policy that rolls only on checkpoints (flink_py has none yet: one part file per
        bucket and subtask, finished when the input ends)."""
        return OnCheckpointRollingPolicy()


class DefaultRollingPolicy(RollingPolicy):
    """Rolls on size, age or inactivity (see :meth:`RollingPolicy.default_rolling_policy`)."""

    def __init__(self, part_size: int = 128 * _MIB, rollover_interval: int = 60 * 1000,
                 inactivity_interval: int = 60 * 1000) -> None:
        if isinstance(part_size, bool) or not isinstance(part_size, int) or part_size <= 0:
            raise InvalidProgramError(
                f"part_size must be a positive number of bytes (an int), got {part_size!r}")
        self.part_size = part_size
        self.rollover_interval = _millis(rollover_interval, "rollover_interval")
        self.inactivity_interval = _millis(inactivity_interval, "inactivity_interval")

    @property
    def _max_part_size(self) -> int:  # type: ignore[override]
        return self.part_size

    def should_roll_on_checkpoint(self, part_file_state: Any) -> bool:
        return part_file_state.get_size() > self.part_size

    def should_roll_on_processing_time(self, part_file_state: Any, current_time: int) -> bool:
        return (current_time - part_file_state.get_creation_time() >= self.rollover_interval
                or current_time - part_file_state.get_last_update_time()
                >= self.inactivity_interval)

    def get_max_part_size(self) -> int:
        return self.part_size

    def get_rollover_interval(self) -> int:
        return self.rollover_interval

    def get_inactivity_interval(self) -> int:
        return self.inactivity_interval

    def __repr__(self) -> str:
        return (f"DefaultRollingPolicy(part_size={self.part_size}, rollover_interval="
                f"{self.rollover_interval}, inactivity_interval={self.inactivity_interval})")


class OnCheckpointRollingPolicy(RollingPolicy):
    """Rolls only on checkpoints."""

    def should_roll_on_checkpoint(self, part_file_state: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return "OnCheckpointRollingPolicy"
