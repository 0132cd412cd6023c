"""Checkpoint storage: where checkpoints and savepoints are written (Flink's CheckpointStorage,
CheckpointStorageAccess, CheckpointStorageLocation, FsCheckpointStreamFactory).

Two storages, chosen by ``execution.checkpointing.storage`` (unset: ``filesystem`` when
``execution.checkpointing.dir`` is set, else ``jobmanager``):

- ``jobmanager``: state travels inline in the handles of the acknowledgements and the
  coordinator keeps the metadata in memory; nothing is written for checkpoints. A stream
  larger than the maximum state size (Flink's 5 MB default) fails the snapshot.
- ``filesystem``: Flink's layout ``<dir>/<job-id>/chk-<n>/_metadata`` with the exclusive
  state files of checkpoint ``n`` beside it, ``<dir>/<job-id>/shared/`` for files that several
  checkpoints share (incremental RocksDB SSTs) and ``<dir>/<job-id>/taskowned/``. State
  smaller than ``execution.checkpointing.data-inline-threshold`` stays inline in the handle
  (and so in ``_metadata``).

Savepoints always go to files, with either storage: ``<target>/savepoint-<first 6 hex of the
job id>-<12 random hex>/`` holds the ``_metadata`` and every state file (a savepoint is
self-contained: it can be moved and is never deleted by the job).

There are two sides. The JobMaster's coordinator uses :class:`CheckpointStorageAccess`
(a location per checkpoint, metadata writes and reads, resolving a path given for a restore).
A task uses a :class:`CheckpointStorageWorkerView`, which is *rebuilt in the TaskManager from
the job configuration* (``create_checkpoint_storage_worker(job_id, configuration)``): the
layout is a pure function of the configuration, the job id and the checkpoint id, so nothing
but the ``CheckpointOptions`` of the barrier needs to travel, and a savepoint's directory
travels in ``CheckpointOptions.target_location``. The stream factories it returns are
picklable (they hold paths and a threshold only).
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import shutil
import uuid
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Union

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.runtime.checkpoint.metadata import CheckpointMetadata
from flink_py.runtime.checkpoint.metadata_serializer import (
    METADATA_FILE_NAME, CheckpointMetadataError, read_metadata_file, write_metadata_file)
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.state.checkpoint_streams import (
    CheckpointedStateScope, CheckpointStateOutputStream, CheckpointStreamFactory)
from flink_py.runtime.state.handles import (
    ByteStreamStateHandle, FileStateHandle, StreamStateHandle)

log = logging.getLogger(__name__)

CHECKPOINT_DIR_PREFIX = "chk-"
CHECKPOINT_SHARED_STATE_DIR = "shared"
CHECKPOINT_TASK_OWNED_STATE_DIR = "taskowned"
SAVEPOINT_DIR_PREFIX = "savepoint-"
#: JobManagerCheckpointStorage's DEFAULT_MAX_STATE_SIZE (5 MB)
DEFAULT_MAX_STATE_SIZE = 5 * 1024 * 1024
JOBMANAGER_STORAGE = "jobmanager"
FILESYSTEM_STORAGE = "filesystem"

__all__ = [
    "CheckpointStorageError", "CheckpointStorageLocation", "CheckpointStorageAccess",
    "JobManagerCheckpointStorageAccess", "FsCheckpointStorageAccess", "CompletedCheckpointPointer",
    "CheckpointStorageWorkerView", "CheckpointStreamFactoryProvider",
    "MemoryCheckpointStorageWorker", "FsCheckpointStorageWorker",
    "FsCheckpointStreamFactory", "MemoryLimitedCheckpointStreamFactory",
    "create_checkpoint_storage", "create_checkpoint_storage_worker", "resolve_storage_name",
    "to_local_path", "savepoint_directory_name",
]


class CheckpointStorageError(FlinkPyError):
    """Checkpoint storage is misconfigured, or a snapshot does not fit it."""


def to_local_path(path_or_uri: str) -> str:
    """A local path from a path or a ``file:`` URI (``file:/x``, ``file:///x``).

    >>> to_local_path("file:///tmp/chk"), to_local_path("file:/tmp/chk"), to_local_path("/a")
    ('/tmp/chk', '/tmp/chk', '/a')
    """
    if path_or_uri.startswith("file://"):
        path_or_uri = path_or_uri[len("file://"):]
    elif path_or_uri.startswith("file:"):
        path_or_uri = path_or_uri[len("file:"):]
    elif "://" in path_or_uri:
        raise CheckpointStorageError(
            f"Cannot use {path_or_uri!r} as a checkpoint or savepoint path: flink_py writes "
            f"to local (or locally mounted) file systems, expected a path or a file: URI.")
    return os.path.abspath(os.path.expanduser(path_or_uri))


def savepoint_directory_name(job_id: str) -> str:
    """Flink's ``savepoint-<first 6 hex of the job id>-<12 random hex>``."""
    return f"{SAVEPOINT_DIR_PREFIX}{job_id[:6]}-{secrets.token_hex(6)}"


# -- task side: streams -----------------------------------------------------------------------


class _MemoryLimitedOutputStream:
    """In-memory stream of ``jobmanager`` storage with Flink's maximum state size."""

    def __init__(self, max_size: int) -> None:
        self._buffer = io.BytesIO()
        self._max_size = max_size

    def write(self, data: bytes) -> int:
        written = self._buffer.write(data)
        if self._buffer.tell() > self._max_size:
            raise CheckpointStorageError(
                f"Size of the state is larger than the maximum permitted memory-backed "
                f"state. Size={self._buffer.tell()} , maxSize={self._max_size} . Consider "
                f"using a different checkpoint storage, like the FileSystemCheckpointStorage.")
        return written

    def tell(self) -> int:
        return self._buffer.tell()

    def close_and_get_handle(self) -> StreamStateHandle:
        return ByteStreamStateHandle(f"state-{uuid.uuid4().hex}", self._buffer.getvalue())


@dataclass(frozen=True)
class MemoryLimitedCheckpointStreamFactory:
    """``jobmanager`` storage: inline state, at most ``max_state_size`` bytes per stream."""

    max_state_size: int = DEFAULT_MAX_STATE_SIZE

    def create_checkpoint_state_output_stream(
            self, scope: CheckpointedStateScope) -> CheckpointStateOutputStream:
        return _MemoryLimitedOutputStream(self.max_state_size)


class _FsCheckpointOutputStream:
    """Keeps bytes in memory up to the inline threshold, then spills to a new file."""

    def __init__(self, directory: str, inline_threshold: int) -> None:
        self._directory = directory
        self._threshold = inline_threshold
        self._buffer: Optional[io.BytesIO] = io.BytesIO()
        self._file: Optional[io.BufferedWriter] = None
        self._path = ""
        self._position = 0

    def write(self, data: bytes) -> int:
        if self._file is None and self._position + len(data) > self._threshold:
            self._spill()
        if self._file is not None:
            self._file.write(data)
        else:
            assert self._buffer is not None
            self._buffer.write(data)
        self._position += len(data)
        return len(data)

    def _spill(self) -> None:
        os.makedirs(self._directory, exist_ok=True)
        self._path = os.path.join(self._directory, uuid.uuid4().hex)
        self._file = open(self._path, "wb")
        assert self._buffer is not None
        self._file.write(self._buffer.getvalue())
        self._buffer = None

    def tell(self) -> int:
        return self._position

    def close_and_get_handle(self) -> StreamStateHandle:
        if self._file is None:
            assert self._buffer is not None
            return ByteStreamStateHandle(f"state-{uuid.uuid4().hex}", self._buffer.getvalue())
        self._file.close()
        return FileStateHandle(self._path, self._position)


@dataclass(frozen=True)
class FsCheckpointStreamFactory:
    """``filesystem`` storage (and every savepoint): files below ``exclusive_directory``
    (EXCLUSIVE scope) or ``shared_directory`` (SHARED), inline below ``inline_threshold``.

    Holds only paths and a number, so it pickles to wherever a task runs."""

    exclusive_directory: str
    shared_directory: str
    inline_threshold: int

    def create_checkpoint_state_output_stream(
            self, scope: CheckpointedStateScope) -> CheckpointStateOutputStream:
        directory = (self.shared_directory if scope is CheckpointedStateScope.SHARED
                     else self.exclusive_directory)
        return _FsCheckpointOutputStream(directory, self.inline_threshold)


#: what a task's environment holds to get the stream factory of a checkpoint: the bound
#: ``resolve_checkpoint_storage_location`` of a :class:`CheckpointStorageWorkerView`
CheckpointStreamFactoryProvider = Callable[[int, CheckpointOptions], CheckpointStreamFactory]


class CheckpointStorageWorkerView:
    """A task's view of the storage: the stream factory of one checkpoint."""

    def resolve_checkpoint_storage_location(
            self, checkpoint_id: int, options: CheckpointOptions) -> CheckpointStreamFactory:
        raise NotImplementedError

    def _savepoint_factory(self, options: CheckpointOptions,
                           inline_threshold: int) -> CheckpointStreamFactory:
        if not options.target_location:
            raise CheckpointStorageError(
                "a savepoint barrier without a target location: the coordinator sets "
                "CheckpointOptions.target_location to the savepoint's directory")
        directory = to_local_path(options.target_location)
        return FsCheckpointStreamFactory(directory, directory, inline_threshold)


@dataclass(frozen=True)
class MemoryCheckpointStorageWorker(CheckpointStorageWorkerView):
    """The task side of ``jobmanager`` storage."""

    max_state_size: int = DEFAULT_MAX_STATE_SIZE
    inline_threshold: int = options.FS_SMALL_FILE_THRESHOLD.default

    def resolve_checkpoint_storage_location(
            self, checkpoint_id: int, options: CheckpointOptions) -> CheckpointStreamFactory:
        if options.checkpoint_type.is_savepoint:
            return self._savepoint_factory(options, self.inline_threshold)
        return MemoryLimitedCheckpointStreamFactory(self.max_state_size)


@dataclass(frozen=True)
class FsCheckpointStorageWorker(CheckpointStorageWorkerView):
    """The task side of ``filesystem`` storage: ``job_directory`` is ``<dir>/<job-id>``."""

    job_directory: str
    inline_threshold: int

    def resolve_checkpoint_storage_location(
            self, checkpoint_id: int, options: CheckpointOptions) -> CheckpointStreamFactory:
        if options.checkpoint_type.is_savepoint:
            return self._savepoint_factory(options, self.inline_threshold)
        return FsCheckpointStreamFactory(
            os.path.join(self.job_directory, f"{CHECKPOINT_DIR_PREFIX}{checkpoint_id}"),
            os.path.join(self.job_directory, CHECKPOINT_SHARED_STATE_DIR),
            self.inline_threshold)


# -- JobMaster side ---------------------------------------------------------------------------


class CheckpointStorageLocation:
    """Where one checkpoint or savepoint goes, as the coordinator sees it.

    ``directory`` is None for checkpoints of ``jobmanager`` storage (kept in memory)."""

    def __init__(self, checkpoint_id: int, directory: Optional[str],
                 is_savepoint: bool) -> None:
        self.checkpoint_id = checkpoint_id
        self.directory = directory
        self.is_savepoint = is_savepoint

    def write_metadata(self, metadata: CheckpointMetadata) -> Optional[str]:
        """Writes ``_metadata``; returns the external pointer (the directory) or None."""
        if self.directory is None:
            return None
        os.makedirs(self.directory, exist_ok=True)
        write_metadata_file(self.directory, metadata)
        return self.directory

    def dispose(self) -> None:
        """Deletes the directory and everything in it (a failed or discarded checkpoint)."""
        if self.directory is not None:
            remove_directory(self.directory)

    def __repr__(self) -> str:
        return (f"CheckpointStorageLocation({self.checkpoint_id}, {self.directory!r}, "
                f"savepoint={self.is_savepoint})")


def remove_directory(directory: str) -> None:
    """Deletes a directory tree; one that is already gone is no error (the goal is met).

    Files of the tree may be deleted concurrently (a checkpoint's discard on another I/O
    thread): the first pass ignores errors, a second pass reports what still cannot go.
    """
    shutil.rmtree(directory, ignore_errors=True)
    if os.path.exists(directory):
        try:
            shutil.rmtree(directory)
        except FileNotFoundError:
            pass


@dataclass(frozen=True)
class CompletedCheckpointPointer:
    """A resolved restore path: the metadata it holds and the directory it is in."""

    metadata: CheckpointMetadata
    external_pointer: str


class CheckpointStorageAccess:
    """The coordinator's side of checkpoint storage."""

    name = ""

    def __init__(self, job_id: str, default_savepoint_directory: Optional[str],
                 inline_threshold: int) -> None:
        self.job_id = job_id
        self.default_savepoint_directory = (
            to_local_path(default_savepoint_directory) if default_savepoint_directory
            else None)
        self.inline_threshold = inline_threshold

    @property
    def job_checkpoint_directory(self) -> Optional[str]:
        """``<dir>/<job-id>``, or None when checkpoints are not written to files."""
        return None

    def initialize_location_for_checkpoint(self, checkpoint_id: int
                                           ) -> CheckpointStorageLocation:
        raise NotImplementedError

    def checkpoint_location(self, checkpoint_id: int) -> CheckpointStorageLocation:
        """Where checkpoint ``checkpoint_id`` is written, without creating anything: what
        the coordinator disposes when a task wrote there after the checkpoint ended."""
        raise NotImplementedError

    def initialize_location_for_savepoint(self, checkpoint_id: int,
                                          target_directory: Optional[str]
                                          ) -> CheckpointStorageLocation:
        """A new ``savepoint-...`` directory under ``target_directory`` (else the default).

        :raises CheckpointStorageError: when neither is given.
        """
        base = target_directory or self.default_savepoint_directory
        if not base:
            raise CheckpointStorageError(
                "No savepoint directory configured. You can either specify a directory "
                "while triggering the savepoint or configure a cluster-wide default via key "
                f"'{options.SAVEPOINT_DIRECTORY.key}'.")
        directory = os.path.join(to_local_path(base), savepoint_directory_name(self.job_id))
        os.makedirs(directory, exist_ok=False)
        return CheckpointStorageLocation(checkpoint_id, directory, is_savepoint=True)

    def resolve_checkpoint(self, pointer: str) -> CompletedCheckpointPointer:
        """Loads the checkpoint or savepoint at ``pointer`` (its directory or its
        ``_metadata`` file, a path or a ``file:`` URI).

        :raises CheckpointMetadataError: naming the path if it is missing or corrupt.
        """
        path = to_local_path(pointer)
        if os.path.isdir(path):
            metadata_path = os.path.join(path, METADATA_FILE_NAME)
            directory = path
        elif os.path.isfile(path):
            metadata_path, directory = path, os.path.dirname(path)
        else:
            raise CheckpointMetadataError(
                f"Cannot find checkpoint or savepoint file/directory '{pointer}' on file "
                f"system 'file'.")
        return CompletedCheckpointPointer(read_metadata_file(metadata_path), directory)

    def discard_job_directory(self) -> None:
        """Deletes ``<dir>/<job-id>`` (the job ended and keeps no checkpoint)."""
        directory = self.job_checkpoint_directory
        if directory is not None:
            remove_directory(directory)

    def create_worker_view(self) -> CheckpointStorageWorkerView:
        """The task side of this storage (as a TaskManager builds it from the config)."""
        raise NotImplementedError


class JobManagerCheckpointStorageAccess(CheckpointStorageAccess):
    """``jobmanager`` storage: checkpoints in memory, savepoints in files."""

    name = JOBMANAGER_STORAGE

    def __init__(self, job_id: str, default_savepoint_directory: Optional[str] = None,
                 max_state_size: int = DEFAULT_MAX_STATE_SIZE,
                 inline_threshold: int = options.FS_SMALL_FILE_THRESHOLD.default) -> None:
        super().__init__(job_id, default_savepoint_directory, inline_threshold)
        self.max_state_size = max_state_size

    def initialize_location_for_checkpoint(self, checkpoint_id: int
                                           ) -> CheckpointStorageLocation:
        return self.checkpoint_location(checkpoint_id)

    def checkpoint_location(self, checkpoint_id: int) -> CheckpointStorageLocation:
        return CheckpointStorageLocation(checkpoint_id, None, is_savepoint=False)

    def create_worker_view(self) -> CheckpointStorageWorkerView:
        return MemoryCheckpointStorageWorker(self.max_state_size, self.inline_threshold)


class FsCheckpointStorageAccess(CheckpointStorageAccess):
    """``filesystem`` storage: ``<checkpoints_directory>/<job-id>/chk-<n>/``, ``shared/``,
    ``taskowned/``."""

    name = FILESYSTEM_STORAGE

    def __init__(self, job_id: str, checkpoints_directory: str,
                 default_savepoint_directory: Optional[str] = None,
                 inline_threshold: int = options.FS_SMALL_FILE_THRESHOLD.default) -> None:
        super().__init__(job_id, default_savepoint_directory, inline_threshold)
        self.checkpoints_directory = to_local_path(checkpoints_directory)
        self._job_directory = os.path.join(self.checkpoints_directory, job_id)
        self.shared_state_directory = os.path.join(self._job_directory,
                                                   CHECKPOINT_SHARED_STATE_DIR)
        self.task_owned_state_directory = os.path.join(self._job_directory,
                                                       CHECKPOINT_TASK_OWNED_STATE_DIR)
        for directory in (self.shared_state_directory, self.task_owned_state_directory):
            os.makedirs(directory, exist_ok=True)

    @property
    def job_checkpoint_directory(self) -> Optional[str]:
        return self._job_directory

    def initialize_location_for_checkpoint(self, checkpoint_id: int
                                           ) -> CheckpointStorageLocation:
        location = self.checkpoint_location(checkpoint_id)
        assert location.directory is not None
        os.makedirs(location.directory, exist_ok=True)
        return location

    def checkpoint_location(self, checkpoint_id: int) -> CheckpointStorageLocation:
        directory = os.path.join(self._job_directory, f"{CHECKPOINT_DIR_PREFIX}{checkpoint_id}")
        return CheckpointStorageLocation(checkpoint_id, directory, is_savepoint=False)

    def create_worker_view(self) -> CheckpointStorageWorkerView:
        return FsCheckpointStorageWorker(self._job_directory, self.inline_threshold)


# -- from the configuration -------------------------------------------------------------------


ConfigurationLike = Union[Configuration, Mapping[str, str]]


def _as_configuration(configuration: ConfigurationLike) -> Configuration:
    if isinstance(configuration, Configuration):
        return configuration
    return Configuration(dict(configuration))


def resolve_storage_name(configuration: ConfigurationLike) -> str:
    """``jobmanager`` or ``filesystem``, as ``execution.checkpointing.storage`` says (unset:
    ``filesystem`` when a checkpoint directory is configured)."""
    conf = _as_configuration(configuration)
    name = conf.get(options.CHECKPOINT_STORAGE)
    if name is None:
        return FILESYSTEM_STORAGE if conf.get(options.CHECKPOINTS_DIRECTORY) else \
            JOBMANAGER_STORAGE
    lowered = name.strip().lower()
    if lowered in (JOBMANAGER_STORAGE, "memory", "jobmanagercheckpointstorage"):
        return JOBMANAGER_STORAGE
    if lowered in (FILESYSTEM_STORAGE, "fs", "filesystemcheckpointstorage"):
        return FILESYSTEM_STORAGE
    raise CheckpointStorageError(
        f"Unknown checkpoint storage {name!r} ({options.CHECKPOINT_STORAGE.key}): expected "
        f"{JOBMANAGER_STORAGE} or {FILESYSTEM_STORAGE}.")


def create_checkpoint_storage(job_id: str, configuration: ConfigurationLike
                              ) -> CheckpointStorageAccess:
    """The coordinator's storage for a job, from its configuration (the job's settings
    layered over the cluster's)."""
    conf = _as_configuration(configuration)
    savepoint_directory = conf.get(options.SAVEPOINT_DIRECTORY)
    threshold = conf.get(options.FS_SMALL_FILE_THRESHOLD)
    if resolve_storage_name(conf) == JOBMANAGER_STORAGE:
        return JobManagerCheckpointStorageAccess(job_id, savepoint_directory,
                                                 inline_threshold=threshold)
    directory = conf.get(options.CHECKPOINTS_DIRECTORY)
    if not directory:
        raise CheckpointStorageError(
            f"Checkpoint storage {FILESYSTEM_STORAGE} needs a directory: set "
            f"'{options.CHECKPOINTS_DIRECTORY.key}'.")
    return FsCheckpointStorageAccess(job_id, directory, savepoint_directory, threshold)


def create_checkpoint_storage_worker(job_id: str, configuration: ConfigurationLike
                                     ) -> CheckpointStorageWorkerView:
    """A task's view of the job's storage, built where the task runs from the job's
    configuration (``TaskDeploymentDescriptor.job_configuration``); creates no directory."""
    conf = _as_configuration(configuration)
    threshold = conf.get(options.FS_SMALL_FILE_THRESHOLD)
    if resolve_storage_name(conf) == JOBMANAGER_STORAGE:
        return MemoryCheckpointStorageWorker(DEFAULT_MAX_STATE_SIZE, threshold)
    directory = conf.get(options.CHECKPOINTS_DIRECTORY)
    if not directory:
        raise CheckpointStorageError(
            f"Checkpoint storage {FILESYSTEM_STORAGE} needs a directory: set "
            f"'{options.CHECKPOINTS_DIRECTORY.key}'.")
    return FsCheckpointStorageWorker(os.path.join(to_local_path(directory), job_id), threshold)
