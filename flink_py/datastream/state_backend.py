"""State backends (PyFlink's ``pyflink.datastream.state_backend``): how a task holds its
state while it runs.

* :class:`HashMapStateBackend`: Python objects in memory (``state.backend.type: hashmap``).
* :class:`EmbeddedRocksDBStateBackend`: serialized in RocksDB, larger than memory, with
  incremental checkpoints (``state.backend.type: rocksdb``).

Where checkpoints go is the separate :mod:`~flink_py.datastream.checkpoint_storage`. The
Flink 1.x names stand for a backend plus a storage, and write both:
:class:`MemoryStateBackend` = hashmap + jobmanager storage, :class:`FsStateBackend` =
hashmap + filesystem storage, :class:`RocksDBStateBackend` = rocksdb + filesystem storage.

A backend is a value that writes itself into the job's configuration under Flink's keys;
the runtime builds the backend from those keys, as when they come from ``config.yaml``.

Example::

    >>> from flink_py.common.configuration import Configuration
    >>> conf = Configuration()
    >>> EmbeddedRocksDBStateBackend(enable_incremental_checkpointing=True)._configure(conf)
    >>> sorted(conf.to_dict().items())
    [('execution.checkpointing.incremental', 'true'), ('state.backend.type', 'rocksdb')]
"""

from __future__ import annotations

import enum
import os
from typing import List, Optional

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.common.deprecation import warn_flink_1x
from flink_py.datastream.checkpoint_storage import (
    CheckpointStorage, FileSystemCheckpointStorage, JobManagerCheckpointStorage)
from flink_py.errors import InvalidProgramError

__all__ = ["StateBackend", "HashMapStateBackend", "EmbeddedRocksDBStateBackend",
           "MemoryStateBackend", "FsStateBackend", "RocksDBStateBackend", "CustomStateBackend",
           "PredefinedOptions"]


def _optional_bool(value: Optional[bool], what: str) -> Optional[bool]:
    if value is not None and not isinstance(value, bool):
        raise InvalidProgramError(f"{what} must be a bool or None, got {value!r}")
    return value


class PredefinedOptions(enum.Enum):
    """Predefined RocksDB tuning profiles (``state.backend.rocksdb.predefined-options``)."""

    DEFAULT = 0
    SPINNING_DISK_OPTIMIZED = 1
    SPINNING_DISK_OPTIMIZED_HIGH_MEM = 2
    FLASH_SSD_OPTIMIZED = 3


class StateBackend:
    """A State Backend defines how the state of a streaming application is stored locally
    within the cluster: its base class."""

    def _configure(self, configuration: Configuration) -> None:
        """Writes this backend (and, for the 1.x names, its storage) into ``configuration``."""
        raise NotImplementedError

    def _checkpoint_storage(self) -> Optional[CheckpointStorage]:
        """The checkpoint storage a 1.x backend name stands for; None for 2.x backends."""
        return None

    @staticmethod
    def _from_configuration(configuration: Configuration) -> Optional["StateBackend"]:
        """The backend ``state.backend.type`` names (with Flink 1.x's ``state.backend``
        values ``jobmanager``/``filesystem`` as hashmap), or None if it is not set."""
        raw = configuration.get_optional(options.STATE_BACKEND)
        if raw is None:
            return None
        kind = raw.strip().lower()
        if kind in ("hashmap", "jobmanager", "filesystem", "memory"):
            return HashMapStateBackend()
        if kind == "rocksdb":
            backend = EmbeddedRocksDBStateBackend(
                configuration.get_optional(options.INCREMENTAL_CHECKPOINTS))
            local = configuration.get(options.ROCKSDB_LOCAL_DIRECTORIES)
            if local:
                backend.set_db_storage_paths(*[p for p in local.replace(";", ",").split(",")
                                               if p])
            return backend
        return CustomStateBackend(raw)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k.lstrip('_')}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class HashMapStateBackend(StateBackend):
    """Holds working state as Python objects in memory: fast, bounded by memory. Keyed state
    is kept per key group, so it rescales.

    Example::

        >>> HashMapStateBackend()
        HashMapStateBackend()
    """

    def _configure(self, configuration: Configuration) -> None:
        configuration.set(options.STATE_BACKEND, "hashmap")


class EmbeddedRocksDBStateBackend(StateBackend):
    """Holds working state in an embedded RocksDB instance per task (serialized keys prefixed
    by key group): state larger than memory, and incremental checkpoints.

    :param enable_incremental_checkpointing: whether checkpoints upload only the RocksDB files
        that are new since the last one; None: ``execution.checkpointing.incremental``.
    """

    def __init__(self, enable_incremental_checkpointing: Optional[bool] = None) -> None:
        self._incremental = _optional_bool(enable_incremental_checkpointing,
                                           "enable_incremental_checkpointing")
        self._db_storage_paths: List[str] = []
        self._predefined_options: Optional[PredefinedOptions] = None
        self._transfer_threads: Optional[int] = None
        self._options_factory: Optional[str] = None

    def is_incremental_checkpoints_enabled(self) -> bool:
        """Whether incremental checkpoints are enabled (False when left to the
        configuration's default)."""
        return bool(self._incremental)

    def set_db_storage_paths(self, *paths: str) -> None:
        """Sets the directories RocksDB keeps its files in (spread over the subtasks); no
        paths restore the default, the TaskManager's temporary directories.

        :param paths: local directories.
        """
        checked = []
        for path in paths:
            path = os.fspath(path) if isinstance(path, os.PathLike) else path
            if not isinstance(path, str) or not path:
                raise InvalidProgramError(
                    f"A RocksDB storage path must be a non-empty string, got {path!r}")
            if path.startswith("file://"):
                path = path[len("file://"):]
            checked.append(path)
        self._db_storage_paths = checked

    def get_db_storage_paths(self) -> List[str]:
        """The directories RocksDB keeps its files in (empty: the default)."""
        return list(self._db_storage_paths)

    def set_predefined_options(self, options: PredefinedOptions) -> None:
        """Sets a predefined RocksDB tuning profile (PyFlink's parameter name shadows the
        options module here only)."""
        if not isinstance(options, PredefinedOptions):
            raise InvalidProgramError(
                f"set_predefined_options expects a PredefinedOptions, got {options!r}")
        self._predefined_options = options

    def get_predefined_options(self) -> PredefinedOptions:
        """The predefined RocksDB tuning profile (DEFAULT unless set)."""
        return self._predefined_options or PredefinedOptions.DEFAULT

    def set_options(self, options_factory_class_name: str) -> None:
        """Names the RocksDB options factory (a Java class in Flink): stored in
        ``state.backend.rocksdb.options-factory``; flink_py's RocksDB does not use it."""
        if not isinstance(options_factory_class_name, str) or not options_factory_class_name:
            raise InvalidProgramError(
                f"The options factory must be a non-empty class name, got "
                f"{options_factory_class_name!r}")
        self._options_factory = options_factory_class_name

    def get_options(self) -> Optional[str]:
        """The name of the RocksDB options factory, or None."""
        return self._options_factory

    def set_number_of_transfer_threads(self, number_of_transfering_threads: int) -> None:
        """Sets how many threads upload and download RocksDB files in checkpoints."""
        if (isinstance(number_of_transfering_threads, bool)
                or not isinstance(number_of_transfering_threads, int)
                or number_of_transfering_threads < 1):
            raise InvalidProgramError(
                f"The number of transfer threads must be a positive int, got "
                f"{number_of_transfering_threads!r}")
        self._transfer_threads = number_of_transfering_threads

    def get_number_of_transfer_threads(self) -> int:
        """How many threads upload and download RocksDB files in checkpoints."""
        return self._transfer_threads or options.ROCKSDB_CHECKPOINT_TRANSFER_THREAD_NUM.default

    def _configure(self, configuration: Configuration) -> None:
        configuration.set(options.STATE_BACKEND, "rocksdb")
        if self._incremental is not None:
            configuration.set(options.INCREMENTAL_CHECKPOINTS, self._incremental)
        if self._db_storage_paths:
            configuration.set(options.ROCKSDB_LOCAL_DIRECTORIES, ",".join(self._db_storage_paths))
        if self._predefined_options is not None:
            configuration.set(options.ROCKSDB_PREDEFINED_OPTIONS, self._predefined_options.name)
        if self._transfer_threads is not None:
            configuration.set(options.ROCKSDB_CHECKPOINT_TRANSFER_THREAD_NUM,
                              self._transfer_threads)
        if self._options_factory is not None:
            configuration.set(options.ROCKSDB_OPTIONS_FACTORY, self._options_factory)


class CustomStateBackend(StateBackend):
    """A state backend named by its factory (``state.backend.type`` set to anything but
    ``hashmap`` or ``rocksdb``); the runtime decides whether it knows it.

    :param name: the backend's name or factory.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidProgramError(f"The state backend name must be a non-empty string, "
                                      f"got {name!r}")
        self._name = name

    def _configure(self, configuration: Configuration) -> None:
        configuration.set(options.STATE_BACKEND, self._name)


class _LegacyStateBackend(StateBackend):
    """A Flink 1.x state backend name: a 2.x backend plus a checkpoint storage."""

    _backend: StateBackend
    _storage: Optional[CheckpointStorage]
    _savepoint_path: Optional[str] = None

    def _configure(self, configuration: Configuration) -> None:
        self._backend._configure(configuration)
        if self._storage is not None:
            self._storage._configure(configuration)
        if self._savepoint_path is not None:
            configuration.set(options.SAVEPOINT_DIRECTORY, self._savepoint_path)

    def _checkpoint_storage(self) -> Optional[CheckpointStorage]:
        return self._storage


class MemoryStateBackend(_LegacyStateBackend):
    """Flink 1.x's MemoryStateBackend: hashmap state, checkpoints in the JobManager's memory.

    :param checkpoint_path: optional directory for externalized checkpoint metadata.
    :param savepoint_path: optional default savepoint directory.
    :param max_state_size: the largest state (bytes) a subtask may checkpoint (5 MiB).
    :param using_asynchronous_snapshots: accepted for compatibility; snapshots are always
        asynchronous.
    """

    def __init__(self, checkpoint_path: Optional[str] = None,
                 savepoint_path: Optional[str] = None, max_state_size: Optional[int] = None,
                 using_asynchronous_snapshots: Optional[bool] = None) -> None:
        warn_flink_1x("MemoryStateBackend", "use HashMapStateBackend() and "
                      "env.get_checkpoint_config().set_checkpoint_storage("
                      "JobManagerCheckpointStorage())")
        _optional_bool(using_asynchronous_snapshots, "using_asynchronous_snapshots")
        self._backend = HashMapStateBackend()
        self._storage = JobManagerCheckpointStorage(checkpoint_path, max_state_size)
        self._savepoint_path = savepoint_path

    def get_max_state_size(self) -> int:
        """The largest state (bytes) a subtask may checkpoint."""
        return self._storage.get_max_state_size()  # type: ignore[union-attr]

    def is_using_asynchronous_snapshots(self) -> bool:
        """Always True: flink_py's snapshots are asynchronous."""
        return True


class FsStateBackend(_LegacyStateBackend):
    """Flink 1.x's FsStateBackend: hashmap state, checkpoints as files in a directory.

    :param checkpoint_directory_uri: the checkpoint directory.
    :param default_savepoint_directory_uri: optional default savepoint directory.
    :param file_state_size_threshold: state below this size (bytes) stays inline in the
        metadata.
    :param write_buffer_size: the write buffer size (bytes) of the file streams.
    :param using_asynchronous_snapshots: accepted for compatibility; snapshots are always
        asynchronous.
    """

    def __init__(self, checkpoint_directory_uri: str,
                 default_savepoint_directory_uri: Optional[str] = None,
                 file_state_size_threshold: Optional[int] = None,
                 write_buffer_size: Optional[int] = None,
                 using_asynchronous_snapshots: Optional[bool] = None) -> None:
        warn_flink_1x("FsStateBackend", "use HashMapStateBackend() and "
                      "env.get_checkpoint_config().set_checkpoint_storage_dir(directory)")
        _optional_bool(using_asynchronous_snapshots, "using_asynchronous_snapshots")
        self._backend = HashMapStateBackend()
        self._storage = FileSystemCheckpointStorage(
            checkpoint_directory_uri, file_state_size_threshold, write_buffer_size)
        self._savepoint_path = default_savepoint_directory_uri

    def get_checkpoint_path(self) -> str:
        """The checkpoint directory."""
        return self._storage.get_checkpoint_path()  # type: ignore[union-attr]

    def get_min_file_size_threshold(self) -> int:
        """State below this size (bytes) stays inline in the checkpoint metadata."""
        return self._storage.get_min_file_size_threshold()  # type: ignore[union-attr]

    def get_write_buffer_size(self) -> int:
        """The write buffer size (bytes) of the checkpoint file streams."""
        return self._storage.get_write_buffer_size()  # type: ignore[union-attr]

    def is_using_asynchronous_snapshots(self) -> bool:
        """Always True: flink_py's snapshots are asynchronous."""
        return True


class RocksDBStateBackend(_LegacyStateBackend):
    """Flink 1.x's RocksDBStateBackend: RocksDB state, checkpoints as files in a directory.

    :param checkpoint_data_uri: the checkpoint directory (or give ``checkpoint_stream_backend``).
    :param enable_incremental_checkpointing: whether checkpoints are incremental.
    :param checkpoint_stream_backend: an :class:`FsStateBackend` or :class:`MemoryStateBackend`
        whose checkpoint storage is used instead of ``checkpoint_data_uri``.
    """

    def __init__(self, checkpoint_data_uri: Optional[str] = None,
                 enable_incremental_checkpointing: Optional[bool] = None,
                 checkpoint_stream_backend: Optional[StateBackend] = None) -> None:
        warn_flink_1x("RocksDBStateBackend", "use EmbeddedRocksDBStateBackend() and "
                      "env.get_checkpoint_config().set_checkpoint_storage_dir(directory)")
        self._backend = EmbeddedRocksDBStateBackend(enable_incremental_checkpointing)
        if checkpoint_stream_backend is not None:
            if not isinstance(checkpoint_stream_backend, _LegacyStateBackend):
                raise InvalidProgramError(
                    f"checkpoint_stream_backend must be an FsStateBackend or "
                    f"MemoryStateBackend, got {checkpoint_stream_backend!r}")
            self._storage = checkpoint_stream_backend._checkpoint_storage()
        elif checkpoint_data_uri is not None:
            self._storage = FileSystemCheckpointStorage(checkpoint_data_uri)
        else:
            raise InvalidProgramError(
                "RocksDBStateBackend needs a checkpoint_data_uri or a checkpoint_stream_backend")

    def get_checkpoint_backend(self) -> Optional[CheckpointStorage]:
        """The checkpoint storage this backend writes checkpoints to."""
        return self._storage

    def is_incremental_checkpoints_enabled(self) -> bool:
        """Whether checkpoints are incremental."""
        return self._rocksdb.is_incremental_checkpoints_enabled()

    def set_db_storage_paths(self, *paths: str) -> None:
        """Sets the directories RocksDB keeps its files in."""
        self._rocksdb.set_db_storage_paths(*paths)

    def get_db_storage_paths(self) -> List[str]:
        """The directories RocksDB keeps its files in."""
        return self._rocksdb.get_db_storage_paths()

    def set_predefined_options(self, options: PredefinedOptions) -> None:
        """Sets a predefined RocksDB tuning profile."""
        self._rocksdb.set_predefined_options(options)

    def get_predefined_options(self) -> PredefinedOptions:
        """The predefined RocksDB tuning profile."""
        return self._rocksdb.get_predefined_options()

    def set_options(self, options_factory_class_name: str) -> None:
        """Names the RocksDB options factory (stored; unused by flink_py)."""
        self._rocksdb.set_options(options_factory_class_name)

    def get_options(self) -> Optional[str]:
        """The name of the RocksDB options factory, or None."""
        return self._rocksdb.get_options()

    def set_number_of_transfering_threads(self, number_of_transfering_threads: int) -> None:
        """Sets how many threads upload and download RocksDB files (Flink 1.x spelling)."""
        self._rocksdb.set_number_of_transfer_threads(number_of_transfering_threads)

    def get_number_of_transfering_threads(self) -> int:
        """How many threads upload and download RocksDB files (Flink 1.x spelling)."""
        return self._rocksdb.get_number_of_transfer_threads()

    @property
    def _rocksdb(self) -> EmbeddedRocksDBStateBackend:
        return self._backend  # type: ignore[return-value]
