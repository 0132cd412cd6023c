"""``StreamExecutionEnvironment``, as in ``pyflink.datastream.stream_execution_environment``.

The environment collects the transformations a program defines and, on ``execute()``, turns
them into a StreamGraph and a JobGraph and hands that to its executor: a MiniCluster in this
process for a plain ``python job.py``, or the cluster a ``flink run`` submits to.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional

from flink_py.common import config_options as options
from flink_py.common.checkpointing_mode import CheckpointingMode
from flink_py.common.configuration import Configuration, GlobalConfiguration
from flink_py.common.deprecation import warn_flink_1x
from flink_py.common.execution_config import ExecutionConfig
from flink_py.common.job_client import JobClient
from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.restart_strategy import (  # RestartStrategies: for the doctests
    RestartStrategies, RestartStrategyConfiguration)
from flink_py.common.typeinfo import RowTypeInfo, TypeInformation, Types
from flink_py.common.narrowing import check_source_type, convert_collection
from flink_py.common.types import to_row
from flink_py.common.watermark_strategy import WatermarkStrategy
from flink_py.datastream.checkpoint_config import CheckpointConfig
from flink_py.datastream.connectors.file_system import check_input_paths
from flink_py.datastream.data_stream import DataStream, _check_type_info
from flink_py.datastream.execution_mode import RuntimeExecutionMode
from flink_py.datastream.functions import SourceFunction
from flink_py.datastream.state_backend import StateBackend
from flink_py.errors import InvalidProgramError, JobExecutionError
from flink_py.graph.job_graph import JobGraph, StreamingJobGraphGenerator
from flink_py.graph.stream_graph import StreamGraph, StreamGraphGenerator
from flink_py.graph.transformations import SourceTransformation, Transformation
from flink_py.runtime.operators import sources

DEFAULT_JOB_NAME = "Flink Streaming Job"

_log = logging.getLogger(__name__)


#: Set by ``flink run``: makes get_execution_environment() submit to a cluster.
_context_executor_factory: Optional[Callable[[Configuration], Any]] = None


#: Set by ``set_default_local_parallelism`` (Java's static defaultLocalParallelism).
_default_local_parallelism: Optional[int] = None


def local_default_parallelism() -> int:
    """The parallelism of a local environment whose program sets none: the one given to
    ``set_default_local_parallelism``, else the number of CPU cores this process may run on
    (Java's ``Runtime.availableProcessors()``)."""
    if _default_local_parallelism is not None:
        return _default_local_parallelism
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity on this platform
        return max(1, os.cpu_count() or 1)


class StreamExecutionEnvironment:
    """The context in which a streaming program is defined and executed.

    Example::

        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(2)
        env.from_collection([1, 2, 3]).map(lambda x: x * 2).print()
        env.execute("doubling")
    """

    def __init__(self, configuration: Optional[Configuration] = None,
                 executor: Any = None) -> None:
        self._configuration = configuration if configuration is not None else Configuration()
        self._config = ExecutionConfig(self._configuration)
        self._checkpoint_config = CheckpointConfig(self._configuration)
        self._state_backend: Optional[StateBackend] = None
        self._transformations: List[Transformation] = []
        self._executor = executor

    @staticmethod
    def get_execution_environment(configuration: Optional[Configuration] = None
                                  ) -> "StreamExecutionEnvironment":
        """The environment of this context: local (a MiniCluster) in a plain Python run,
        the cluster's when the program runs under ``flink run``.

        :param configuration: settings that override ``$FLINK_CONF_DIR``'s configuration.
        """
        conf_dir = os.environ.get("FLINK_CONF_DIR")
        base = (GlobalConfiguration.load_configuration(conf_dir) if conf_dir
                else Configuration())
        if configuration is not None:
            base.add_all(configuration)
        executor = _context_executor_factory(base) if _context_executor_factory else None
        if executor is None and not base.contains(options.DEFAULT_PARALLELISM):
            # a local environment runs at the number of cores unless parallelism.default is
            # configured (Flink's createLocalEnvironment); a cluster's default stays its own
            base.set(options.DEFAULT_PARALLELISM, local_default_parallelism())
        return StreamExecutionEnvironment(base, executor)

    # -- settings -----------------------------------------------------------------------------

    def get_config(self) -> ExecutionConfig:
        """The ExecutionConfig (parallelism, watermark interval, job parameters, ...)."""
        return self._config

    def get_configuration(self) -> Configuration:
        return self._configuration

    def set_parallelism(self, parallelism: int) -> "StreamExecutionEnvironment":
        """The default parallelism of operators that do not set their own."""
        if isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1:
            raise InvalidProgramError(f"parallelism must be a positive int, got {parallelism!r}")
        self._config.set_parallelism(parallelism)
        return self

    def get_parallelism(self) -> int:
        parallelism = self._config.get_parallelism()
        return parallelism if parallelism > 0 else 1

    def get_default_local_parallelism(self) -> int:
        """Gets the default parallelism that will be used for the local execution
        environment (the number of cores unless set).

        :return: The default local parallelism.
        """
        return local_default_parallelism()

    def set_default_local_parallelism(self, parallelism: int) -> None:
        """Sets the default parallelism that will be used for the local execution
        environment: environments that ``get_execution_environment`` creates from now on
        (as in Flink, where it is static) and that configure no ``parallelism.default``.

        :param parallelism: The parallelism to use as the default local parallelism.
        """
        global _default_local_parallelism
        if isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1:
            raise InvalidProgramError(
                f"default local parallelism must be a positive int, got {parallelism!r}")
        _default_local_parallelism = parallelism

    def set_max_parallelism(self, max_parallelism: int) -> "StreamExecutionEnvironment":
        """The number of key groups: the upper limit of rescaling keyed state."""
        self._config.set_max_parallelism(max_parallelism)
        return self

    def get_max_parallelism(self) -> int:
        return self._config.get_max_parallelism()

    def set_runtime_mode(self, execution_mode: RuntimeExecutionMode
                         ) -> "StreamExecutionEnvironment":
        """STREAMING (incremental results), BATCH (final results) or AUTOMATIC."""
        if not isinstance(execution_mode, RuntimeExecutionMode):
            raise InvalidProgramError(
                f"set_runtime_mode expects a RuntimeExecutionMode, got {execution_mode!r}")
        self._configuration.set(options.RUNTIME_MODE, execution_mode.name)
        return self

    def set_buffer_timeout(self, timeout_millis: int) -> "StreamExecutionEnvironment":
        """Max time before a partially filled network buffer is sent (0: every record,
        -1: only when full)."""
        if not isinstance(timeout_millis, int) or timeout_millis < -1:
            raise InvalidProgramError(
                f"buffer timeout must be an int >= -1 (ms), got {timeout_millis!r}")
        if timeout_millis == -1:
            self._configuration.set(options.BUFFER_TIMEOUT_ENABLED, False)
        else:
            self._configuration.set(options.BUFFER_TIMEOUT_ENABLED, True)
            self._configuration.set(options.BUFFER_TIMEOUT, timeout_millis)
        return self

    def get_buffer_timeout(self) -> int:
        if not self._configuration.get(options.BUFFER_TIMEOUT_ENABLED):
            return -1
        return self._configuration.get(options.BUFFER_TIMEOUT)

    def disable_operator_chaining(self) -> "StreamExecutionEnvironment":
        """Runs every operator in its own task."""
        self._configuration.set(options.OPERATOR_CHAINING, False)
        return self

    def is_chaining_enabled(self) -> bool:
        return self._configuration.get(options.OPERATOR_CHAINING)

    def set_stream_time_characteristic(self, characteristic: "TimeCharacteristic"
                                       ) -> "StreamExecutionEnvironment":
        """Flink 1.x's time characteristic (deprecated since 1.12, removed in 2.0); as in
        1.12–1.20 it sets the periodic watermark interval: 0 for ProcessingTime, 200 ms for
        EventTime and IngestionTime. Streams get their timestamps and watermarks from a
        WatermarkStrategy either way (a DeprecationWarning says so).

        Example::

            >>> import warnings
            >>> from flink_py.datastream.time_characteristic import TimeCharacteristic
            >>> env = StreamExecutionEnvironment()
            >>> with warnings.catch_warnings():
            ...     warnings.simplefilter("ignore", DeprecationWarning)
            ...     _ = env.set_stream_time_characteristic(TimeCharacteristic.ProcessingTime)
            >>> env.get_config().get_auto_watermark_interval()
            0

        :param characteristic: The time characteristic.
        :return: This object.
        """
        from flink_py.datastream.time_characteristic import (
            AUTO_WATERMARK_INTERVALS, TimeCharacteristic)
        if not isinstance(characteristic, TimeCharacteristic):
            raise InvalidProgramError(
                f"set_stream_time_characteristic expects a TimeCharacteristic, got "
                f"{characteristic!r}")
        warn_flink_1x(
            "set_stream_time_characteristic", "event time is the default: give the stream a "
            "WatermarkStrategy (assign_timestamps_and_watermarks) and choose event- or "
            "processing-time windows")
        self._configuration.set(options.TIME_CHARACTERISTIC, characteristic.name)
        self._config.set_auto_watermark_interval(AUTO_WATERMARK_INTERVALS[characteristic])
        return self

    def get_stream_time_characteristic(self) -> "TimeCharacteristic":
        """Flink 1.x's time characteristic (EventTime unless set otherwise)."""
        from flink_py.datastream.time_characteristic import TimeCharacteristic
        return TimeCharacteristic[self._configuration.get(options.TIME_CHARACTERISTIC)]

    def is_chaining_of_operators_with_different_max_parallelism_enabled(self) -> bool:
        """Whether operators of different max parallelism may be chained
        (``pipeline.operator-chaining.chain-operators-with-different-max-parallelism``,
        true unless configured otherwise)."""
        return self._configuration.get(options.CHAIN_OPERATORS_WITH_DIFFERENT_MAX_PARALLELISM)

    def enable_changelog_state_backend(self, enabled: bool) -> "StreamExecutionEnvironment":
        """Records the preference for the state changelog (``state.changelog.enabled``).
        flink_py has no changelog: enabling it logs a warning and checkpoints stay full or
        incremental as configured.

        :param enabled: Whether to enable the changelog.
        :return: This object.
        """
        if not isinstance(enabled, bool):
            raise InvalidProgramError(
                f"enable_changelog_state_backend expects a bool, got {enabled!r}")
        if enabled:
            _log.warning("enable_changelog_state_backend(True): flink_py has no state "
                         "changelog; checkpoints stay full or incremental as configured")
        self._configuration.set(options.STATE_CHANGELOG_ENABLED, enabled)
        return self

    def is_changelog_state_backend_enabled(self) -> Optional[bool]:
        """The changelog preference: None when the program never set it."""
        return self._configuration.get(options.STATE_CHANGELOG_ENABLED)

    def configure(self, configuration: Configuration) -> "StreamExecutionEnvironment":
        """Sets every option the configuration contains (Flink's keys:
        ``execution.checkpointing.*``, ``state.backend.type``, ``restart-strategy.*``,
        ``parallelism.default``, ...) on this environment, its ExecutionConfig and its
        CheckpointConfig; settings the configuration does not name are left as they are.

        :param configuration: a configuration to read the values from.
        :return: This object.
        """
        if not isinstance(configuration, Configuration):
            raise InvalidProgramError(
                f"configure expects a Configuration, got {type(configuration).__name__}")
        self._configuration.add_all(configuration)
        return self

    # -- dependencies ---------------------------------------------------------------------

    def add_jars(self, *jars_path: str) -> None:
        """Accepted for PyFlink programs (``pipeline.jars``), which add connector jars; flink_py
        runs no JVM and its connectors are Python, so the jars are not used (a warning says
        so)."""
        self._add_jvm_paths(options.PIPELINE_JARS, jars_path, "add_jars")

    def add_classpaths(self, *classpaths: str) -> None:
        """Accepted for PyFlink programs (``pipeline.classpaths``); flink_py runs no JVM, so
        the URLs are not used (a warning says so)."""
        self._add_jvm_paths(options.PIPELINE_CLASSPATHS, classpaths, "add_classpaths")

    def _add_jvm_paths(self, option: Any, paths: Iterable[str], method: str) -> None:
        added = [os.fspath(path) for path in paths]
        for path in added:
            if not isinstance(path, str) or not path:
                raise InvalidProgramError(f"{method} expects paths or URLs, got {path!r}")
        current = self._configuration.get(option) or []
        self._configuration.set(option, [*current, *added])
        _log.warning("%s(%s): flink_py runs no JVM, so jars and classpaths do not apply; "
                     "the job uses flink_py's Python connectors instead.", method,
                     ", ".join(added))

    def add_python_file(self, file_path: str) -> None:
        """Adds a Python dependency for the job's functions: a ``.py`` file, a zip/tar
        archive, a ``.whl``/``.egg`` or a directory (``python.files``).

        It is shipped with the job and put first on ``sys.path`` of every task: a file's
        module becomes importable, a directory's modules (the directory goes on the path
        itself, as in PyFlink: to ship package ``pkg``, add its parent directory), an
        archive's root after extraction. The file added last wins.

        Example::

            >>> env = StreamExecutionEnvironment()
            >>> env.add_python_file("/tmp/helpers.py")
            >>> env.add_python_file("/tmp/libs")
            >>> env.get_configuration().get_string("python.files")
            '/tmp/libs,/tmp/helpers.py'

        :param file_path: The path of the python dependency.
        """
        file_path = self._dependency_path(file_path, "add_python_file", "file_path")
        current = self._configuration.get(options.PYTHON_FILES)
        self._configuration.set(options.PYTHON_FILES,
                                f"{file_path},{current}" if current else file_path)

    def set_python_requirements(self, requirements_file_path: str,
                                requirements_cache_dir: Optional[str] = None) -> None:
        """Specifies a requirements.txt of third-party packages the job's functions import
        (``python.requirements``).

        Each TaskManager installs them with pip into a directory of their own (once per
        content of the file and the cache directory) and puts it on the tasks' ``sys.path``.
        With ``requirements_cache_dir`` (made with ``pip download -d cached_dir -r
        requirements.txt``) it is shipped too and pip installs from it only, without an
        index: clusters without internet access.

        :param requirements_file_path: The path of "requirements.txt" file.
        :param requirements_cache_dir: The path of the local directory which contains the
            installation packages.
        """
        value = self._dependency_path(requirements_file_path, "set_python_requirements",
                                      "requirements_file_path")
        if requirements_cache_dir is not None:
            value += "#" + self._dependency_path(requirements_cache_dir,
                                                 "set_python_requirements",
                                                 "requirements_cache_dir")
        self._configuration.set(options.PYTHON_REQUIREMENTS, value)

    def add_python_archive(self, archive_path: str, target_dir: Optional[str] = None) -> None:
        """Adds an archive (zip, jar, whl, egg, tar, tar.gz, tgz) that is extracted into the
        working directory of the job's tasks (``python.archives``): into ``target_dir``, or a
        directory named as the archive file, so functions open its files by relative path.

        Example::

            >>> env = StreamExecutionEnvironment()
            >>> env.add_python_archive("/tmp/model.zip", "model")
            >>> env.add_python_archive("/tmp/data.tar.gz")
            >>> env.get_configuration().get_string("python.archives")
            '/tmp/model.zip#model,/tmp/data.tar.gz'

        :param archive_path: The archive file path.
        :param target_dir: Optional, the target dir name that the archive file extracted to.
        """
        archive_path = self._dependency_path(archive_path, "add_python_archive",
                                             "archive_path")
        if target_dir is not None:
            if not isinstance(target_dir, str) or not target_dir or "/" in target_dir \
                    or target_dir in (".", ".."):
                raise InvalidProgramError(
                    f"add_python_archive: target_dir must be a directory name, got "
                    f"{target_dir!r}")
            archive_path = f"{archive_path}#{target_dir}"
        current = self._configuration.get(options.PYTHON_ARCHIVES)
        self._configuration.set(options.PYTHON_ARCHIVES,
                                f"{current},{archive_path}" if current else archive_path)

    def set_python_executable(self, python_exec: str) -> None:
        """Sets the Python interpreter of the job's functions (``python.executable``).

        Recorded as PyFlink does; flink_py's tasks run in the TaskManagers' own Python, so a
        warning says so when ``python_exec`` names another interpreter.

        :param python_exec: The path of python interpreter.
        """
        if not isinstance(python_exec, str) or not python_exec:
            raise InvalidProgramError(
                f"set_python_executable expects the path of a Python interpreter, got "
                f"{python_exec!r}")
        from flink_py.runtime.taskmanager.python_environment import executable_differs
        self._configuration.set(options.PYTHON_EXECUTABLE, python_exec)
        if executable_differs(python_exec):
            _log.warning("set_python_executable(%r): flink_py runs the job's functions in "
                         "the TaskManagers' own Python (here %s), not in this interpreter.",
                         python_exec, sys.executable)

    @staticmethod
    def _dependency_path(path: Any, method: str, parameter: str) -> str:
        path = os.fspath(path) if isinstance(path, os.PathLike) else path
        if not isinstance(path, str) or not path:
            raise InvalidProgramError(f"{method}: {parameter} must be a path, got {path!r}")
        return path

    # -- checkpointing, state backend, restarts -------------------------------------------

    def get_checkpoint_config(self) -> CheckpointConfig:
        """The checkpoint config: interval, mode, timeout, pauses, storage, ... (a view on
        this environment's configuration)."""
        return self._checkpoint_config

    def enable_checkpointing(self, interval: int, mode: Optional[CheckpointingMode] = None
                             ) -> "StreamExecutionEnvironment":
        """Enables checkpointing: the job's state is snapshotted every ``interval`` ms, and
        after a failure it restarts from the latest completed checkpoint.

        Example::

            >>> env = StreamExecutionEnvironment()
            >>> env.enable_checkpointing(300000, CheckpointingMode.AT_LEAST_ONCE) and None
            >>> env.get_configuration().get_string("execution.checkpointing.interval")
            '5 min'

        :param interval: Time interval between state checkpoints in milliseconds (>= 10).
        :param mode: EXACTLY_ONCE (the default) or AT_LEAST_ONCE.
        :return: This object.
        """
        self._checkpoint_config.set_checkpoint_interval(interval)
        if mode is not None:
            self._checkpoint_config.set_checkpointing_mode(mode)
        return self

    def get_checkpoint_interval(self) -> int:
        """The checkpointing interval in ms, or -1 if checkpointing is disabled."""
        return self._checkpoint_config.get_checkpoint_interval()

    def get_checkpointing_mode(self) -> CheckpointingMode:
        """The checkpointing mode (exactly-once vs. at-least-once)."""
        return self._checkpoint_config.get_checkpointing_mode()

    def get_checkpointing_consistency_mode(self) -> CheckpointingMode:
        """Flink 2's name of :meth:`get_checkpointing_mode`."""
        return self._checkpoint_config.get_checkpointing_mode()

    def is_unaligned_checkpoints_enabled(self) -> bool:
        """Whether unaligned checkpoints are enabled."""
        return self._checkpoint_config.is_unaligned_checkpoints_enabled()

    def is_force_unaligned_checkpoints(self) -> bool:
        """Whether unaligned checkpoints are forced."""
        return self._checkpoint_config.is_force_unaligned_checkpoints()

    def set_state_backend(self, state_backend: StateBackend) -> "StreamExecutionEnvironment":
        """Sets how the job's tasks hold their state: HashMapStateBackend (objects in memory)
        or EmbeddedRocksDBStateBackend; the Flink 1.x names (MemoryStateBackend,
        FsStateBackend, RocksDBStateBackend) set the checkpoint storage as well.

        Flink 1.x API (PyFlink 2 has no such method): a DeprecationWarning suggests
        ``state.backend.type`` in the configuration instead.

        Example::

            >>> from flink_py.datastream.state_backend import EmbeddedRocksDBStateBackend
            >>> env = StreamExecutionEnvironment()
            >>> backend = EmbeddedRocksDBStateBackend(enable_incremental_checkpointing=True)
            >>> env.set_state_backend(backend).get_state_backend() is backend
            True
            >>> env.get_configuration().get_string("state.backend.type")
            'rocksdb'

        :param state_backend: The :class:`StateBackend`.
        :return: This object.
        """
        if not isinstance(state_backend, StateBackend):
            raise InvalidProgramError(
                f"set_state_backend expects a StateBackend (HashMapStateBackend, "
                f"EmbeddedRocksDBStateBackend, ...), got {state_backend!r}")
        warn_flink_1x("env.set_state_backend", "set 'state.backend.type' (and "
                      "'execution.checkpointing.dir') in the Configuration given to "
                      "get_execution_environment")
        state_backend._configure(self._configuration)
        self._state_backend = state_backend
        return self

    def get_state_backend(self) -> Optional[StateBackend]:
        """The state backend set on this environment or named by its configuration, or None
        (the cluster's default, hashmap)."""
        configured = StateBackend._from_configuration(self._configuration)
        if self._state_backend is not None and configured is not None:
            probe = Configuration()
            self._state_backend._configure(probe)
            if all(self._configuration.get_string(k) == v for k, v in probe.to_dict().items()):
                return self._state_backend  # still what the configuration says
        return configured

    def set_default_savepoint_directory(self, directory: str) -> "StreamExecutionEnvironment":
        """Sets the directory savepoints are written to when none is given on triggering
        (``execution.checkpointing.savepoint-dir``)."""
        directory = os.fspath(directory) if isinstance(directory, os.PathLike) else directory
        if not isinstance(directory, str) or not directory:
            raise InvalidProgramError(
                f"The savepoint directory must be a non-empty path string, got {directory!r}")
        self._configuration.set(options.SAVEPOINT_DIRECTORY, directory)
        return self

    def get_default_savepoint_directory(self) -> Optional[str]:
        """The default savepoint directory of this job, or None."""
        return self._configuration.get(options.SAVEPOINT_DIRECTORY)

    def set_restart_strategy(self, restart_strategy_configuration: RestartStrategyConfiguration
                             ) -> "StreamExecutionEnvironment":
        """Sets the restart strategy (``restart-strategy.*``) used when a task fails.

        Flink 1.x API (PyFlink 2 has no such method): a DeprecationWarning suggests the
        ``restart-strategy.*`` options in the configuration instead.

        Example::

            >>> env = StreamExecutionEnvironment()
            >>> env.set_restart_strategy(RestartStrategies.no_restart()) and None
            >>> env.get_configuration().get_string("restart-strategy.type")
            'none'

        :param restart_strategy_configuration: from :class:`RestartStrategies`.
        :return: This object.
        """
        self._config.set_restart_strategy(restart_strategy_configuration)
        warn_flink_1x("env.set_restart_strategy", "set 'restart-strategy.type' and its "
                      "options in the Configuration given to get_execution_environment")
        return self

    def get_restart_strategy(self) -> RestartStrategyConfiguration:
        """The restart strategy set or configured; the fallback (the cluster's) otherwise."""
        return self._config.get_restart_strategy()

    # -- sources ------------------------------------------------------------------------------

    def _add_source(self, name: str, factory: Callable[[], Any], output_type: TypeInformation,
                    bounded: bool, non_parallel: bool = False) -> DataStream:
        t = SourceTransformation(name, factory, output_type, 1 if non_parallel else None,
                                 bounded)
        if non_parallel:
            t.set_max_parallelism(1)
            t.non_parallel = True  # type: ignore[attr-defined]
        return DataStream(self, t)

    def from_collection(self, collection: Iterable[Any],
                        type_info: Optional[TypeInformation] = None) -> DataStream:
        """A bounded, non-parallel source of the given items, in order.

        :param collection: the records (a list, tuple, range or any finite iterable).
        :param type_info: their type; pickled Python objects when not given.
        """
        if isinstance(collection, (str, bytes)) or not isinstance(collection, Iterable):
            raise InvalidProgramError(
                f"from_collection expects a collection of records, got "
                f"{type(collection).__name__} {collection!r}")
        items = collection if isinstance(collection, range) else list(collection)
        type_info = _check_type_info(type_info, "from_collection")
        check_source_type(type_info)
        type_info = type_info or Types.PICKLED_BYTE_ARRAY()
        if isinstance(type_info, RowTypeInfo):
            # As PyFlink: records declared as rows reach the functions as Row objects.
            names = type_info.get_field_names()
            items = [to_row(item, names, "from_collection") for item in items]
        # PyFlink's source is Java: it emits the values as their declared type holds them
        items = convert_collection(items, type_info)
        name = "Source: Collection Source"
        return self._add_source(name, functools.partial(sources.CollectionSource, name, items),
                                type_info, bounded=True, non_parallel=True)

    def from_sequence(self, start: int, end: int) -> DataStream:
        """The numbers ``start`` .. ``end`` (inclusive) as a bounded, parallel source of
        LONG values; each subtask emits a contiguous part (Java's ``fromSequence``)."""
        for name, value in (("start", start), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidProgramError(f"from_sequence: {name} must be an int, got {value!r}")
        if end < start:
            raise InvalidProgramError(
                f"from_sequence: start {start} must not be greater than end {end}")
        name = "Source: Sequence Source"
        return self._add_source(name, functools.partial(
            sources.NumberSequenceSource, name, start, end), Types.LONG(), bounded=True)

    def read_text_file(self, file_path: str, charset_name: str = "UTF-8") -> DataStream:
        """The lines of a text file (or of the files in a directory), as strings."""
        check_input_paths([os.fspath(file_path)])
        name = "Source: " + os.fspath(file_path)
        return self._add_source(name, functools.partial(
            sources.TextFileSource, name, [os.fspath(file_path)],
            charset_name.lower().replace("_", "-")), Types.STRING(), bounded=True)

    def from_source(self, source: Any, watermark_strategy: WatermarkStrategy,
                    source_name: str, type_info: Optional[TypeInformation] = None
                    ) -> DataStream:
        """A stream from a Source (e.g. FileSource) with a WatermarkStrategy.

        The source applies the strategy to its records as they leave it (timestamps from the
        strategy's assigner, watermarks from its generator), as Flink's sources do.
        """
        create = getattr(source, "_create_source_operator", None)
        if create is None:
            raise InvalidProgramError(
                f"from_source expects a Source such as FileSource, got {type(source).__name__}")
        if not isinstance(watermark_strategy, WatermarkStrategy):
            raise InvalidProgramError(
                f"from_source expects a WatermarkStrategy, got {watermark_strategy!r}")
        output_type = (_check_type_info(type_info, "from_source") or source._output_type())
        factory = create(source_name)
        if not watermark_strategy._changes_nothing():
            from flink_py.runtime.operators.timestamps import (
                AutoWatermarkInterval, TimestampsAndWatermarksOperatorFactory)
            factory = TimestampsAndWatermarksOperatorFactory(
                source_name, watermark_strategy, AutoWatermarkInterval(self._config), factory)
        return self._add_source(source_name, factory, output_type, bounded=source.bounded)

    def add_source(self, source_func: SourceFunction, source_name: str = "Custom Source",
                   type_info: Optional[TypeInformation] = None) -> DataStream:
        """A stream from a SourceFunction (``run(ctx)`` calling ``ctx.collect``)."""
        if not isinstance(source_func, SourceFunction):
            raise InvalidProgramError(
                f"add_source expects a SourceFunction (with run(ctx) and cancel()), got "
                f"{type(source_func).__name__} {source_func!r}")
        type_info = _check_type_info(type_info, "add_source") or Types.PICKLED_BYTE_ARRAY()
        name = f"Source: {source_name}"
        bounded = bool(getattr(source_func, "bounded", False))
        return self._add_source(name, functools.partial(
            sources.SourceFunctionSource, name, source_func, bounded), type_info,
            bounded=bounded, non_parallel=True)

    def socket_text_stream(self, hostname: str, port: int, delimiter: str = "\n"
                           ) -> DataStream:
        """The ``delimiter``-separated strings read from a TCP socket (unbounded).

        Not replayable, as in Flink: the socket keeps no position, so after a failure the
        restarted job reads on from whatever the peer sends next; what was read since the
        last checkpoint is lost (at-most-once for this source, whatever the checkpointing
        mode). Use a file or another replayable source where records must count once.

        :param hostname: the host to connect to.
        :param port: the port, 1..65535.
        :param delimiter: what separates the strings (``"\\n"`` by default).
        """
        if not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidProgramError(f"port must be an int in 1..65535, got {port!r}")
        function = sources.SocketTextStreamFunction(hostname, port, delimiter)
        name = "Source: Socket Stream"
        return self._add_source(name, functools.partial(
            sources.SourceFunctionSource, name, function, False), Types.STRING(),
            bounded=False, non_parallel=True)

    # -- graphs and execution ---------------------------------------------------------------

    def _add_operator(self, transformation: Transformation) -> None:
        self._transformations.append(transformation)

    def _runtime_mode(self) -> str:
        mode = str(self._configuration.get(options.RUNTIME_MODE)).upper()
        if mode == "AUTOMATIC":
            mode = "BATCH" if self._all_sources_bounded() else "STREAMING"
        if mode == "BATCH" and not self._all_sources_bounded():
            raise InvalidProgramError(
                "Detected an UNBOUNDED source with the 'execution.runtime-mode' set to 'BATCH'. "
                "This combination is not allowed, please set the 'execution.runtime-mode' to "
                "STREAMING or AUTOMATIC")
        return mode

    def _all_sources_bounded(self) -> bool:
        seen, stack = set(), list(self._transformations)
        while stack:
            t = stack.pop()
            if t.id in seen:
                continue
            seen.add(t.id)
            if isinstance(t, SourceTransformation) and not t.bounded:
                return False
            stack.extend(t.inputs)
        return True

    def get_stream_graph(self, job_name: Optional[str] = None,
                         clear_transformations: bool = False) -> StreamGraph:
        """The StreamGraph of the program defined so far."""
        from flink_py.datastream.cache import refresh_caches
        refresh_caches(self._transformations, self._runtime_mode())
        graph = StreamGraphGenerator(
            self._transformations, job_name or DEFAULT_JOB_NAME,
            default_parallelism=self.get_parallelism(),
            max_parallelism=self.get_max_parallelism(),
            chaining_enabled=self.is_chaining_enabled(),
            runtime_mode=self._runtime_mode(), buffer_timeout=self.get_buffer_timeout(),
            job_parameters=self._config.get_global_job_parameters(),
            job_configuration=self._configuration.to_dict(),
            auto_generate_uids=self._configuration.get(options.AUTO_GENERATE_UIDS),
            python_chaining_enabled=self._configuration.get(
                options.PYTHON_OPERATOR_CHAINING)).generate()
        if clear_transformations:
            self._transformations = []
        return graph

    def get_job_graph(self, job_name: Optional[str] = None,
                      clear_transformations: bool = False) -> JobGraph:
        job_graph = StreamingJobGraphGenerator(
            self.get_stream_graph(job_name, clear_transformations)).create_job_graph()
        # python.files/requirements/archives travel with the job (Flink's distributed cache)
        from flink_py.client.python_dependencies import python_dependency_artifacts
        job_graph.user_artifacts.update(python_dependency_artifacts(self._configuration))
        return job_graph

    def register_slot_sharing_group(self, slot_sharing_group: Any
                                    ) -> "StreamExecutionEnvironment":
        """Registers a SlotSharingGroup's resource profile under its name (kept for the plan;
        flink_py's slots are one worker process each, not sized by profiles)."""
        from flink_py.datastream.slot_sharing_group import SlotSharingGroup
        if not isinstance(slot_sharing_group, SlotSharingGroup):
            raise InvalidProgramError(
                f"register_slot_sharing_group expects a SlotSharingGroup, got "
                f"{slot_sharing_group!r}")
        if not hasattr(self, "_slot_sharing_groups"):
            self._slot_sharing_groups: Dict[str, Any] = {}
        self._slot_sharing_groups[slot_sharing_group.get_name()] = slot_sharing_group
        return self

    def get_execution_plan(self) -> str:
        """The plan of the program as JSON, in the shape of Flink's execution plan."""
        return self.get_stream_graph().get_execution_plan()

    def _get_executor(self) -> Any:
        if self._executor is None:
            from flink_py.client.local_executor import LocalExecutor
            # the job's settings (records per buffer, ...) reach its tasks in its configuration
            self._executor = LocalExecutor(
                network_buffers_per_channel=(
                    self._configuration.get(options.NETWORK_BUFFERS_PER_CHANNEL)
                    + self._configuration.get(options.NETWORK_EXTRA_BUFFERS_PER_GATE)),
                local_handoff=self._configuration.get(options.NETWORK_LOCAL_HANDOFF),
                configuration=self._configuration)
        return self._executor

    def execute_async(self, job_name: str = DEFAULT_JOB_NAME) -> JobClient:
        """Submits the program and returns at once with a JobClient."""
        job_graph = self.get_job_graph(job_name, clear_transformations=True)
        executor = self._get_executor()
        return JobClient(executor.submit(job_graph), executor)

    def execute(self, job_name: Optional[str] = None) -> JobExecutionResult:
        """Runs the program and waits for it to end.

        :raises JobExecutionError: if the job failed; it carries the user's exception (as
            ``__cause__``) and traceback.
        """
        job_graph = self.get_job_graph(job_name or DEFAULT_JOB_NAME, clear_transformations=True)
        executor = self._get_executor()
        job_id = executor.submit(job_graph)
        try:
            return executor.job_result(job_id)
        except JobExecutionError as error:
            # the client's frames are of no use to the user: the traceback shows the user's
            # frames (the cause's), then execute() failing with the job, task and operator
            raise error.with_traceback(None)

    def _execute_and_collect(self, collect_id: str, job_name: Optional[str]) -> Any:
        job_graph = self.get_job_graph(job_name or DEFAULT_JOB_NAME, clear_transformations=True)
        executor = self._get_executor()
        job_id = executor.submit(job_graph)
        return executor.collect(job_id, collect_id)

    def close(self) -> None:
        """Releases the environment's resources: its transformations and the caches of
        ``DataStream.cache()``."""
        from flink_py.datastream.cache import clear_caches
        clear_caches(self)
        self._transformations = []
