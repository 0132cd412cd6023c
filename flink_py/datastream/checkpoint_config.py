"""``CheckpointConfig`` (PyFlink's ``pyflink.datastream.checkpoint_config``): every
checkpointing setting of a job.

As Flink 2's, it is a view on the environment's
:class:`~flink_py.common.configuration.Configuration`: each setter writes Flink's
``execution.checkpointing.*`` key, so ``get_checkpoint_config().set_checkpoint_timeout(60000)``
and ``execution.checkpointing.timeout: 1 min`` in ``config.yaml`` or ``-D`` are the same
setting, and the JobGraph carries it to the JobMaster in ``job_configuration``.

Example::

    >>> from flink_py.common.configuration import Configuration
    >>> config = CheckpointConfig(Configuration())
    >>> config.is_checkpointing_enabled()
    False
    >>> config.set_checkpoint_interval(5000).set_checkpointing_mode(
    ...     CheckpointingMode.AT_LEAST_ONCE).get_checkpoint_interval()
    5000
    >>> sorted(config._configuration.to_dict().items())
    [('execution.checkpointing.interval', '5 s'), ('execution.checkpointing.mode', 'AT_LEAST_ONCE')]
"""

from __future__ import annotations

import datetime
import os
import re
from typing import Any, Optional, Union

from flink_py.common import config_options as options
from flink_py.common.checkpointing_mode import CheckpointingMode
from flink_py.common.deprecation import warn_flink_1x
from flink_py.common.configuration import Configuration
from flink_py.common.time import Duration
from flink_py.datastream.checkpoint_storage import CheckpointStorage, FileSystemCheckpointStorage
from flink_py.datastream.externalized_checkpoint_retention import ExternalizedCheckpointRetention
from flink_py.errors import InvalidProgramError

__all__ = ["CheckpointConfig", "ExternalizedCheckpointCleanup"]

#: Flink's CheckpointConfig.MINIMAL_CHECKPOINT_TIME: the shortest interval and timeout (ms).
MINIMAL_CHECKPOINT_TIME = 10

#: PyFlink 1.x's name of the retention enum (without NO_EXTERNALIZED_CHECKPOINTS there).
ExternalizedCheckpointCleanup = ExternalizedCheckpointRetention

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProgramError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    return value


def _millis(value: Any, what: str) -> int:
    """An int of ms, or a timedelta/Duration (as Flink 2's Duration overloads)."""
    if isinstance(value, datetime.timedelta):
        return value // datetime.timedelta(milliseconds=1)
    if isinstance(value, Duration):
        return value.to_milliseconds()
    return _int(value, what)


class CheckpointConfig:
    """Configuration that captures all checkpointing related settings.

    :data:`DEFAULT_MODE`: the default checkpoint mode: exactly once.

    :data:`DEFAULT_TIMEOUT`: the default timeout of a checkpoint attempt: 10 minutes.

    :data:`DEFAULT_MIN_PAUSE_BETWEEN_CHECKPOINTS`: the default minimum pause to be made
    between checkpoints: none.

    :data:`DEFAULT_MAX_CONCURRENT_CHECKPOINTS`: the default limit of concurrently happening
    checkpoints: one.

    :param configuration: the configuration to read and write (shared, not copied).
    """

    DEFAULT_MODE = CheckpointingMode.EXACTLY_ONCE

    DEFAULT_TIMEOUT = 10 * 60 * 1000

    DEFAULT_MIN_PAUSE_BETWEEN_CHECKPOINTS = 0

    DEFAULT_MAX_CONCURRENT_CHECKPOINTS = 1

    def __init__(self, configuration: Optional[Configuration] = None) -> None:
        self._configuration = configuration if configuration is not None else Configuration()
        self._checkpoint_storage: Optional[CheckpointStorage] = None

    # ------------------------------------------------------------------ interval and mode

    def is_checkpointing_enabled(self) -> bool:
        """Checks whether checkpointing is enabled (an interval greater than 0 is set).

        :return: True if checkpointing is enabled, false otherwise.
        """
        return self.get_checkpoint_interval() > 0

    def get_checkpointing_mode(self) -> CheckpointingMode:
        """Gets the checkpointing mode (exactly-once vs. at-least-once).

        :return: The :class:`CheckpointingMode`.
        """
        return CheckpointingMode[self._configuration.get(options.CHECKPOINTING_MODE)]

    def get_checkpointing_consistency_mode(self) -> CheckpointingMode:
        """Flink 2's name of :meth:`get_checkpointing_mode`."""
        return self.get_checkpointing_mode()

    def set_checkpointing_mode(self, checkpointing_mode: CheckpointingMode
                               ) -> "CheckpointConfig":
        """Sets the checkpointing mode (:data:`CheckpointingMode.EXACTLY_ONCE` vs.
        :data:`CheckpointingMode.AT_LEAST_ONCE`).

        :param checkpointing_mode: The :class:`CheckpointingMode`.
        :return: This object.
        """
        if not isinstance(checkpointing_mode, CheckpointingMode):
            raise InvalidProgramError(
                f"set_checkpointing_mode expects a CheckpointingMode (EXACTLY_ONCE or "
                f"AT_LEAST_ONCE), got {checkpointing_mode!r}")
        self._configuration.set(options.CHECKPOINTING_MODE, checkpointing_mode.name)
        return self

    def set_checkpointing_consistency_mode(self, checkpointing_mode: CheckpointingMode
                                           ) -> "CheckpointConfig":
        """Flink 2's name of :meth:`set_checkpointing_mode`."""
        return self.set_checkpointing_mode(checkpointing_mode)

    def get_checkpoint_interval(self) -> int:
        """Gets the interval in which checkpoints are periodically scheduled.

        :return: The checkpoint interval, in milliseconds; -1 when checkpointing is off.
        """
        interval = self._configuration.get(options.CHECKPOINTING_INTERVAL)
        return -1 if interval is None or interval <= 0 else interval

    def set_checkpoint_interval(self, checkpoint_interval: int) -> "CheckpointConfig":
        """Sets the interval in which checkpoints are periodically scheduled (and so enables
        checkpointing).

        Checkpoint triggering may be delayed by the settings
        :func:`set_max_concurrent_checkpoints` and :func:`set_min_pause_between_checkpoints`.

        :param checkpoint_interval: The checkpoint interval, in milliseconds (at least 10).
        :return: This object.
        """
        interval = _millis(checkpoint_interval, "The checkpoint interval")
        if interval < MINIMAL_CHECKPOINT_TIME:
            raise InvalidProgramError(
                f"Checkpoint interval must be larger than or equal to {MINIMAL_CHECKPOINT_TIME}"
                f" ms, got {interval} ms")
        self._configuration.set(options.CHECKPOINTING_INTERVAL, interval)
        return self

    # ------------------------------------------------------------------ timing

    def get_checkpoint_timeout(self) -> int:
        """Gets the maximum time (ms) that a checkpoint may take before being discarded."""
        return self._configuration.get(options.CHECKPOINTING_TIMEOUT)

    def set_checkpoint_timeout(self, checkpoint_timeout: int) -> "CheckpointConfig":
        """Sets the maximum time that a checkpoint may take before being discarded.

        :param checkpoint_timeout: The checkpoint timeout, in milliseconds (at least 10).
        :return: This object.
        """
        timeout = _millis(checkpoint_timeout, "The checkpoint timeout")
        if timeout < MINIMAL_CHECKPOINT_TIME:
            raise InvalidProgramError(
                f"Checkpoint timeout must be larger than or equal to {MINIMAL_CHECKPOINT_TIME} "
                f"ms, got {timeout} ms")
        self._configuration.set(options.CHECKPOINTING_TIMEOUT, timeout)
        return self

    def get_min_pause_between_checkpoints(self) -> int:
        """Gets the minimal pause (ms) between the end of one checkpoint and the start of the
        next."""
        return self._configuration.get(options.MIN_PAUSE_BETWEEN_CHECKPOINTS)

    def set_min_pause_between_checkpoints(self, min_pause_between_checkpoints: int
                                          ) -> "CheckpointConfig":
        """Sets the minimal pause between checkpointing attempts.

        If the maximum number of concurrent checkpoints is one, this makes sure that at least
        this much time passes in which no checkpoint is in progress at all.

        :param min_pause_between_checkpoints: The minimal pause, in milliseconds (>= 0).
        :return: This object.
        """
        pause = _millis(min_pause_between_checkpoints, "The minimum pause between checkpoints")
        if pause < 0:
            raise InvalidProgramError(f"Pause value must be zero or positive, got {pause} ms")
        self._configuration.set(options.MIN_PAUSE_BETWEEN_CHECKPOINTS, pause)
        return self

    def get_max_concurrent_checkpoints(self) -> int:
        """Gets the maximum number of checkpoint attempts that may be in progress at once."""
        return self._configuration.get(options.MAX_CONCURRENT_CHECKPOINTS)

    def set_max_concurrent_checkpoints(self, max_concurrent_checkpoints: int
                                       ) -> "CheckpointConfig":
        """Sets the maximum number of checkpoint attempts that may be in progress at the same
        time: with *n*, no checkpoint is triggered while *n* are in flight.

        :param max_concurrent_checkpoints: at least 1.
        :return: This object.
        """
        if _int(max_concurrent_checkpoints, "The maximum number of concurrent checkpoints") < 1:
            raise InvalidProgramError(
                f"The maximum number of concurrent attempts must be at least one, got "
                f"{max_concurrent_checkpoints}")
        self._configuration.set(options.MAX_CONCURRENT_CHECKPOINTS, max_concurrent_checkpoints)
        return self

    # ------------------------------------------------------------------ failures

    def get_tolerable_checkpoint_failure_number(self) -> int:
        """The number of consecutive checkpoint failures tolerated before the job fails."""
        return self._configuration.get(options.TOLERABLE_FAILED_CHECKPOINTS)

    def set_tolerable_checkpoint_failure_number(self, tolerable_checkpoint_failure_number: int
                                                ) -> "CheckpointConfig":
        """Sets how many consecutive checkpoint failures are tolerated before the whole job
        is failed over; 0 (the default) fails it on the first.

        :param tolerable_checkpoint_failure_number: >= 0.
        :return: This object.
        """
        number = _int(tolerable_checkpoint_failure_number,
                      "The tolerable checkpoint failure number")
        if number < 0:
            raise InvalidProgramError(
                f"The tolerable failure checkpoint number must be non-negative, got {number}")
        self._configuration.set(options.TOLERABLE_FAILED_CHECKPOINTS, number)
        return self

    def is_fail_on_checkpointing_errors(self) -> bool:
        """Whether a checkpoint failure fails the job (deprecated in 2.0: see
        :meth:`get_tolerable_checkpoint_failure_number`)."""
        return self.get_tolerable_checkpoint_failure_number() == 0

    def set_fail_on_checkpointing_errors(self, fail_on_checkpointing_errors: bool
                                         ) -> "CheckpointConfig":
        """Deprecated in 2.0: True tolerates no failed checkpoint, False any number (see
        :meth:`set_tolerable_checkpoint_failure_number`)."""
        return self.set_tolerable_checkpoint_failure_number(
            0 if fail_on_checkpointing_errors else 2 ** 31 - 1)

    # ------------------------------------------------------------------ retention

    def set_externalized_checkpoint_retention(
            self, retention_mode: ExternalizedCheckpointRetention) -> "CheckpointConfig":
        """Sets what happens to retained checkpoints when the job is cancelled; any mode but
        ``NO_EXTERNALIZED_CHECKPOINTS`` enables externalized checkpoints.

        :param retention_mode: an :class:`ExternalizedCheckpointRetention`.
        :return: This object.
        """
        if not isinstance(retention_mode, ExternalizedCheckpointRetention):
            raise InvalidProgramError(
                f"set_externalized_checkpoint_retention expects an "
                f"ExternalizedCheckpointRetention, got {retention_mode!r}")
        self._configuration.set(options.EXTERNALIZED_CHECKPOINT_RETENTION, retention_mode.name)
        return self

    def enable_externalized_checkpoints(self, cleanup_mode: ExternalizedCheckpointRetention
                                        ) -> "CheckpointConfig":
        """PyFlink 1.x's name of :meth:`set_externalized_checkpoint_retention`."""
        warn_flink_1x("enable_externalized_checkpoints",
                      "use set_externalized_checkpoint_retention(ExternalizedCheckpointRetention"
                      ".RETAIN_ON_CANCELLATION)")
        return self.set_externalized_checkpoint_retention(cleanup_mode)

    def get_externalized_checkpoint_retention(self) -> ExternalizedCheckpointRetention:
        """The cleanup behaviour for externalized checkpoints."""
        return ExternalizedCheckpointRetention[
            self._configuration.get(options.EXTERNALIZED_CHECKPOINT_RETENTION)]

    def get_externalized_checkpoint_cleanup(self) -> Optional[ExternalizedCheckpointRetention]:
        """PyFlink 1.x: the cleanup mode, or None when checkpoints are not externalized."""
        retention = self.get_externalized_checkpoint_retention()
        return (None if retention is ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS
                else retention)

    def is_externalized_checkpoints_enabled(self) -> bool:
        """Returns whether checkpoints are retained (externalized) after the job ends."""
        return (self.get_externalized_checkpoint_retention()
                is not ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS)

    def is_prefer_checkpoint_for_recovery(self) -> bool:
        """PyFlink 1.x; always False (Flink removed the setting in 1.14: a job recovers from
        the latest completed checkpoint or savepoint)."""
        return False

    def set_prefer_checkpoint_for_recovery(self, prefer_checkpoint_for_recovery: bool
                                           ) -> "CheckpointConfig":
        """PyFlink 1.x; accepted and ignored (a documented no-op, as in Flink since 1.14)."""
        if not isinstance(prefer_checkpoint_for_recovery, bool):
            raise InvalidProgramError(
                f"prefer_checkpoint_for_recovery must be a bool, got "
                f"{prefer_checkpoint_for_recovery!r}")
        return self

    # ------------------------------------------------------------------ unaligned

    def is_unaligned_checkpoints_enabled(self) -> bool:
        """Returns whether unaligned checkpoints are enabled."""
        return self._configuration.get(options.ENABLE_UNALIGNED)

    def enable_unaligned_checkpoints(self, enabled: bool = True) -> "CheckpointConfig":
        """Enables unaligned checkpoints: barriers overtake in-flight buffers, which become
        part of the checkpoint, so checkpoints stay short under backpressure. Only with
        :data:`CheckpointingMode.EXACTLY_ONCE`.

        :param enabled: ``True`` if checkpoints should be taken in unaligned mode.
        :return: This object.
        """
        if not isinstance(enabled, bool):
            raise InvalidProgramError(f"enabled must be a bool, got {enabled!r}")
        self._configuration.set(options.ENABLE_UNALIGNED, enabled)
        return self

    def disable_unaligned_checkpoints(self) -> "CheckpointConfig":
        """Disables unaligned checkpoints."""
        return self.enable_unaligned_checkpoints(False)

    def set_aligned_checkpoint_timeout(self, alignment_timeout: Union[Duration, int]
                                       ) -> "CheckpointConfig":
        """With unaligned checkpoints: 0 starts every checkpoint unaligned; more starts it
        aligned and switches to unaligned when the alignment takes longer than this.

        :param alignment_timeout: a Duration (or ms).
        :return: This object.
        """
        timeout = _millis(alignment_timeout, "The aligned checkpoint timeout")
        if timeout < 0:
            raise InvalidProgramError(
                f"The aligned checkpoint timeout must not be negative, got {timeout} ms")
        self._configuration.set(options.ALIGNED_CHECKPOINT_TIMEOUT, timeout)
        return self

    def get_aligned_checkpoint_timeout(self) -> Duration:
        """The alignment timeout (see :meth:`set_aligned_checkpoint_timeout`)."""
        return Duration.of_millis(self._configuration.get(options.ALIGNED_CHECKPOINT_TIMEOUT))

    def set_alignment_timeout(self, alignment_timeout: Union[Duration, int]
                              ) -> "CheckpointConfig":
        """Deprecated in 2.0: :meth:`set_aligned_checkpoint_timeout`."""
        return self.set_aligned_checkpoint_timeout(alignment_timeout)

    def get_alignment_timeout(self) -> Duration:
        """Deprecated in 2.0: :meth:`get_aligned_checkpoint_timeout`."""
        return self.get_aligned_checkpoint_timeout()

    def set_force_unaligned_checkpoints(self, force_unaligned_checkpoints: bool = True
                                        ) -> "CheckpointConfig":
        """Forces unaligned checkpoints even where they are otherwise not possible."""
        if not isinstance(force_unaligned_checkpoints, bool):
            raise InvalidProgramError(
                f"force_unaligned_checkpoints must be a bool, got {force_unaligned_checkpoints!r}")
        self._configuration.set(options.FORCE_UNALIGNED, force_unaligned_checkpoints)
        return self

    def is_force_unaligned_checkpoints(self) -> bool:
        """Whether unaligned checkpoints are forced."""
        return self._configuration.get(options.FORCE_UNALIGNED)

    # ------------------------------------------------------------------ storage

    def set_checkpoint_storage(self, storage: Union[CheckpointStorage, str]
                               ) -> "CheckpointConfig":
        """Sets where checkpoints are stored: a
        :class:`~flink_py.datastream.checkpoint_storage.CheckpointStorage`, or a directory
        (Java's ``setCheckpointStorage(String)``: a :class:`FileSystemCheckpointStorage`).

        :return: This object.
        """
        if isinstance(storage, (str, os.PathLike)):
            storage = FileSystemCheckpointStorage(os.fspath(storage))
        if not isinstance(storage, CheckpointStorage):
            raise InvalidProgramError(
                f"set_checkpoint_storage expects a CheckpointStorage (JobManagerCheckpointStorage"
                f" or FileSystemCheckpointStorage), got {storage!r}")
        storage._configure(self._configuration)
        self._checkpoint_storage = storage
        return self

    def set_checkpoint_storage_dir(self, checkpoint_path: str) -> "CheckpointConfig":
        """Checkpoints to files in this directory (a :class:`FileSystemCheckpointStorage`).

        :return: This object.
        """
        return self.set_checkpoint_storage(FileSystemCheckpointStorage(checkpoint_path))

    def get_checkpoint_storage(self) -> Optional[CheckpointStorage]:
        """The checkpoint storage set or configured, or None (the cluster's default)."""
        configured = CheckpointStorage._from_configuration(self._configuration)
        if self._checkpoint_storage is not None and configured is not None:
            probe = Configuration()
            self._checkpoint_storage._configure(probe)
            if all(self._configuration.get_string(k) == v for k, v in probe.to_dict().items()):
                return self._checkpoint_storage  # still what the configuration says
        return configured

    # ------------------------------------------------------------------ Flink 1.x spellings

    def __getattr__(self, name: str) -> Any:
        # The seeds' camelCase spellings (setCheckpointInterval, isCheckpointingEnabled, ...)
        # map to the snake_case methods; setCheckpointMode is the oldest name of the mode.
        if name.startswith("_") or not any(c.isupper() for c in name):
            raise AttributeError(name)
        snake = _CAMEL.sub("_", name).lower().replace("checkpoint_mode", "checkpointing_mode")
        if snake == name or not hasattr(type(self), snake):
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute {name!r}")
        return getattr(self, snake)
