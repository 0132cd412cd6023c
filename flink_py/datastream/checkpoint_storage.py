"""Checkpoint storage (PyFlink's ``pyflink.datastream.checkpoint_storage``): where
checkpoints are persisted.

* :class:`JobManagerCheckpointStorage`: in the JobManager's memory (small state, tests).
* :class:`FileSystemCheckpointStorage`: files under ``<dir>/<job-id>/chk-<n>/``; state
  smaller than the threshold stays inline in the ``_metadata``.

A storage is a value that writes itself into the job's configuration under Flink's keys
(``execution.checkpointing.storage``, ``execution.checkpointing.dir``, ...); the runtime
builds the storage from those keys, as when they come from ``config.yaml``.

Example::

    >>> from flink_py.common.configuration import Configuration
    >>> conf = Configuration()
    >>> FileSystemCheckpointStorage("file:///tmp/checkpoints")._configure(conf)
    >>> sorted(conf.to_dict().items())
    [('execution.checkpointing.dir', 'file:///tmp/checkpoints'), ('execution.checkpointing.storage', 'filesystem')]
"""

from __future__ import annotations

import os
from typing import Any, Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import InvalidProgramError

__all__ = ["CheckpointStorage", "JobManagerCheckpointStorage", "FileSystemCheckpointStorage",
           "CustomCheckpointStorage"]

#: Flink's FsStateBackend/FileSystemCheckpointStorage MAX_FILE_STATE_THRESHOLD (1 MiB).
MAX_FILE_STATE_THRESHOLD = 1024 * 1024
#: Flink's JobManagerCheckpointStorage DEFAULT_MAX_STATE_SIZE (5 MiB).
DEFAULT_MAX_STATE_SIZE = 5 * 1024 * 1024


def _path(path: Any, what: str) -> str:
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise InvalidProgramError(f"{what} must be a non-empty path string, got {path!r}")
    return path


class CheckpointStorage:
    """Checkpoint storage defines how the checkpoints of a job are stored, for fault
    tolerance, scaling and restore: its base class."""

    def _configure(self, configuration: Configuration) -> None:
        """Writes this storage into ``configuration`` under Flink's keys."""
        raise NotImplementedError

    @staticmethod
    def _from_configuration(configuration: Configuration) -> Optional["CheckpointStorage"]:
        """The storage the configuration describes, or None if it names none."""
        kind = configuration.get(options.CHECKPOINT_STORAGE)
        directory = configuration.get(options.CHECKPOINTS_DIRECTORY)
        if kind is None and directory is None:
            return None
        kind = (kind or ("filesystem" if directory else "jobmanager")).strip().lower()
        if kind == "jobmanager":
            return JobManagerCheckpointStorage(
                directory, configuration.get_optional(options.JOBMANAGER_STORAGE_MAX_STATE_SIZE))
        if kind == "filesystem":
            if directory is None:
                raise InvalidProgramError(
                    f"'{options.CHECKPOINT_STORAGE.key}: filesystem' needs a checkpoint "
                    f"directory in '{options.CHECKPOINTS_DIRECTORY.key}'")
            return FileSystemCheckpointStorage(
                directory, configuration.get_optional(options.FS_SMALL_FILE_THRESHOLD),
                configuration.get_optional(options.FS_WRITE_BUFFER_SIZE))
        return CustomCheckpointStorage(kind)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(vars(self).items()))))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k.lstrip('_')}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class JobManagerCheckpointStorage(CheckpointStorage):
    """Checkpoints in the JobManager's memory: for small state (tests, experiments). A
    checkpoint path, when given, is where externalized checkpoints' metadata goes.

    :param checkpoint_path: optional directory for the checkpoint metadata.
    :param max_state_size: the largest state (bytes) a subtask may checkpoint; 5 MiB when
        not given.
    """

    #: the default largest state a subtask may checkpoint (5 MiB)
    DEFAULT_MAX_STATE_SIZE = DEFAULT_MAX_STATE_SIZE

    def __init__(self, checkpoint_path: Optional[str] = None,
                 max_state_size: Optional[int] = None) -> None:
        if max_state_size is not None and (
                isinstance(max_state_size, bool) or not isinstance(max_state_size, int)
                or max_state_size <= 0):
            raise InvalidProgramError(
                f"The maximum state size must be a positive int (bytes), got {max_state_size!r}")
        self._checkpoint_path = (None if checkpoint_path is None
                                 else _path(checkpoint_path, "The checkpoint path"))
        self._max_state_size = DEFAULT_MAX_STATE_SIZE if max_state_size is None \
            else max_state_size

    def get_checkpoint_path(self) -> Optional[str]:
        """The directory checkpoint metadata is written to, or None."""
        return self._checkpoint_path

    def get_max_state_size(self) -> int:
        """The largest state (bytes) a subtask may checkpoint to this storage."""
        return self._max_state_size

    def get_savepoint_path(self) -> Optional[str]:
        """None: savepoints go to ``execution.checkpointing.savepoint-dir`` or the directory
        given when triggering."""
        return None

    def _configure(self, configuration: Configuration) -> None:
        configuration.set(options.CHECKPOINT_STORAGE, "jobmanager")
        configuration.remove_config(options.CHECKPOINTS_DIRECTORY)
        if self._checkpoint_path is not None:
            configuration.set(options.CHECKPOINTS_DIRECTORY, self._checkpoint_path)
        configuration.set(options.JOBMANAGER_STORAGE_MAX_STATE_SIZE, self._max_state_size)


class FileSystemCheckpointStorage(CheckpointStorage):
    """Checkpoints as files in a directory: ``<dir>/<job-id>/chk-<n>/_metadata`` with the
    state files beside it (``shared/``, ``taskowned/``).

    :param checkpoint_path: the directory (``file:///...`` or a plain path).
    :param file_state_size_threshold: state smaller than this (bytes) is stored inline in
        the metadata; -1 or None: the default (20 KiB); at most 1 MiB.
    :param write_buffer_size: the write buffer size (bytes) of the file streams; -1 or None:
        the default (4096).
    """

    #: the largest state kept inline in the metadata rather than in files (1 MiB)
    MAX_FILE_STATE_THRESHOLD = MAX_FILE_STATE_THRESHOLD

    def __init__(self, checkpoint_path: Optional[str] = None,
                 file_state_size_threshold: Optional[int] = None,
                 write_buffer_size: Optional[int] = -1) -> None:
        if checkpoint_path is None:
            raise InvalidProgramError("checkpoint_path must not be None")
        self._checkpoint_path = _path(checkpoint_path, "The checkpoint path")
        threshold = -1 if file_state_size_threshold is None else file_state_size_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int) or not (
                -1 <= threshold <= MAX_FILE_STATE_THRESHOLD):
            raise InvalidProgramError(
                f"The threshold for file state size must be in [-1, {MAX_FILE_STATE_THRESHOLD}]"
                f", where '-1' means use the default value; got {file_state_size_threshold!r}")
        buffer = -1 if write_buffer_size is None else write_buffer_size
        if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < -1:
            raise InvalidProgramError(
                f"The write buffer size must be not less than '-1', where '-1' means use the "
                f"default value; got {write_buffer_size!r}")
        # -1: the configured default (kept raw, so that equal arguments compare equal)
        self._threshold = threshold
        self._write_buffer_size = buffer

    def get_checkpoint_path(self) -> str:
        """The directory checkpoints are written to."""
        return self._checkpoint_path

    def get_savepoint_path(self) -> Optional[str]:
        """None: savepoints go to ``execution.checkpointing.savepoint-dir`` or the directory
        given when triggering."""
        return None

    def get_min_file_size_threshold(self) -> int:
        """State smaller than this (bytes) is stored inline in the checkpoint's metadata."""
        return (options.FS_SMALL_FILE_THRESHOLD.default if self._threshold == -1
                else self._threshold)

    def get_write_buffer_size(self) -> int:
        """The write buffer size (bytes) of the checkpoint file streams: at least the
        inline threshold, as Flink's."""
        size = (options.FS_WRITE_BUFFER_SIZE.default if self._write_buffer_size == -1
                else self._write_buffer_size)
        return max(size, self.get_min_file_size_threshold())

    def _configure(self, configuration: Configuration) -> None:
        configuration.set(options.CHECKPOINT_STORAGE, "filesystem")
        configuration.set(options.CHECKPOINTS_DIRECTORY, self._checkpoint_path)
        if self._threshold != -1:
            configuration.set(options.FS_SMALL_FILE_THRESHOLD, self._threshold)
        if self._write_buffer_size != -1:
            configuration.set(options.FS_WRITE_BUFFER_SIZE, self._write_buffer_size)


class CustomCheckpointStorage(CheckpointStorage):
    """A checkpoint storage named by its factory (``execution.checkpointing.storage`` set to
    anything but ``jobmanager`` or ``filesystem``); the runtime decides whether it knows it.

    :param name: the storage's name or factory.
    """

    def __init__(self, name: str) -> None:
        self._name = _path(name, "The checkpoint storage name")

    def _configure(self, configuration: Configuration) -> None:
        configuration.set(options.CHECKPOINT_STORAGE, self._name)
