"""PyFlink's ``ExecutionConfig``: per-job execution settings, backed by a Configuration.

As in Flink 2 (where ``ExecutionConfig`` wraps a ``Configuration``), every setting lives in a
:class:`~flink_py.common.configuration.Configuration` under Flink's key, so
``env.get_config().set_parallelism(4)`` and ``parallelism.default: 4`` in ``config.yaml``
are the same setting.

Settings that only mean something on the JVM (the closure cleaner, Kryo and Avro
serializers, generic types) are stored and returned, and have no effect in flink_py.
"""

from __future__ import annotations

from typing import Any, Mapping

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.common.key_groups import UPPER_BOUND_MAX_PARALLELISM
from flink_py.errors import InvalidProgramError

__all__ = ["ExecutionConfig"]


def _require_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProgramError(f"{what} must be an int, got {value!r}")
    return value


class ExecutionConfig:
    """A config to define the behavior of the program execution.

    It holds, among others, the default parallelism and max parallelism of the job, the
    auto-watermark interval, object reuse and the global job parameters.

    :data:`PARALLELISM_DEFAULT`: the flag value indicating use of the default parallelism.

    :data:`PARALLELISM_UNKNOWN`: the flag value indicating an unknown or unset parallelism;
    setting it leaves the parallelism unchanged.

    Example::

        >>> config = ExecutionConfig()
        >>> config.set_parallelism(4).get_parallelism()
        4
        >>> config.get_configuration().get_string("parallelism.default")
        '4'
    """

    PARALLELISM_DEFAULT = -1

    PARALLELISM_UNKNOWN = -2

    def __init__(self, configuration: Configuration | None = None) -> None:
        """:param configuration: The configuration to read and write; a new one if ``None``.
        It is shared, not copied."""
        self._configuration = configuration if configuration is not None else Configuration()

    def get_configuration(self) -> Configuration:
        """Returns the configuration this execution config reads and writes (shared)."""
        return self._configuration

    # ------------------------------------------------------------------ closure cleaner

    def enable_closure_cleaner(self) -> "ExecutionConfig":
        """Enables the ClosureCleaner (JVM only: stored, no effect in flink_py).

        :return: This object.
        """
        self._configuration.set(options.CLOSURE_CLEANER_LEVEL, "RECURSIVE")
        return self

    def disable_closure_cleaner(self) -> "ExecutionConfig":
        """Disables the ClosureCleaner (JVM only: stored, no effect in flink_py).

        :return: This object.
        """
        self._configuration.set(options.CLOSURE_CLEANER_LEVEL, "NONE")
        return self

    def is_closure_cleaner_enabled(self) -> bool:
        """Returns whether the ClosureCleaner is enabled."""
        return self._configuration.get(options.CLOSURE_CLEANER_LEVEL) != "NONE"

    # ------------------------------------------------------------------ intervals

    def set_auto_watermark_interval(self, interval: int) -> "ExecutionConfig":
        """Sets the interval of the automatic watermark emission.

        Watermarks are used throughout the streaming system to keep track of the progress of
        time, for example for time based windowing. ``0`` disables periodic watermarks.

        :param interval: The interval between watermarks in milliseconds.
        :return: This object.
        :raises InvalidProgramError: If the interval is negative.
        """
        if _require_int(interval, "The auto watermark interval") < 0:
            raise InvalidProgramError(
                f"Auto watermark interval must not be negative, got {interval} ms"
            )
        self._configuration.set(options.AUTO_WATERMARK_INTERVAL, interval)
        return self

    def get_auto_watermark_interval(self) -> int:
        """Returns the interval of the automatic watermark emission in milliseconds."""
        return self._configuration.get(options.AUTO_WATERMARK_INTERVAL)

    def set_latency_tracking_interval(self, interval: int) -> "ExecutionConfig":
        """Interval for sending latency tracking marks from the sources to the sinks.

        Setting a tracking interval <= 0 disables the latency tracking.

        :param interval: Interval in milliseconds.
        :return: This object.
        """
        self._configuration.set(
            options.LATENCY_INTERVAL, _require_int(interval, "The latency tracking interval")
        )
        return self

    def get_latency_tracking_interval(self) -> int:
        """Returns the latency tracking interval in milliseconds."""
        return self._configuration.get(options.LATENCY_INTERVAL)

    def get_task_cancellation_interval(self) -> int:
        """Gets the interval (in milliseconds) between consecutive attempts to cancel a task."""
        return self._configuration.get(options.TASK_CANCELLATION_INTERVAL)

    def set_task_cancellation_interval(self, interval: int) -> "ExecutionConfig":
        """Sets the interval (in milliseconds) between consecutive attempts to cancel a task.

        :return: This object.
        """
        self._configuration.set(
            options.TASK_CANCELLATION_INTERVAL,
            _require_int(interval, "The task cancellation interval"),
        )
        return self

    def get_task_cancellation_timeout(self) -> int:
        """Returns the timeout (ms) after which a stuck task cancellation is fatal; 0 = never."""
        return self._configuration.get(options.TASK_CANCELLATION_TIMEOUT)

    def set_task_cancellation_timeout(self, timeout: int) -> "ExecutionConfig":
        """Sets the timeout (ms) after which an ongoing task cancellation is considered failed.

        ``0`` disables the timeout.

        :param timeout: The task cancellation timeout in milliseconds.
        :return: This object.
        :raises InvalidProgramError: If the timeout is negative.
        """
        if _require_int(timeout, "The task cancellation timeout") < 0:
            raise InvalidProgramError(f"Timeout needs to be >= 0, got {timeout} ms")
        self._configuration.set(options.TASK_CANCELLATION_TIMEOUT, timeout)
        return self

    # ------------------------------------------------------------------ parallelism

    def get_parallelism(self) -> int:
        """Gets the parallelism with which operations are executed by default.

        :return: The parallelism used by operations unless they override it
                 (``parallelism.default``, 1 unless set); :data:`PARALLELISM_DEFAULT` if
                 it was set to use the environment's default.
        """
        return self._configuration.get(options.DEFAULT_PARALLELISM)

    def set_parallelism(self, parallelism: int) -> "ExecutionConfig":
        """Sets the parallelism for operations executed through this environment.

        :param parallelism: The parallelism (1..32768), or :data:`PARALLELISM_DEFAULT`;
                            :data:`PARALLELISM_UNKNOWN` leaves the value unchanged.
        :return: This object.
        :raises InvalidProgramError: For any other value.
        """
        _require_int(parallelism, "The parallelism")
        if parallelism == self.PARALLELISM_UNKNOWN:
            return self
        if parallelism != self.PARALLELISM_DEFAULT and not (
            1 <= parallelism <= UPPER_BOUND_MAX_PARALLELISM
        ):
            raise InvalidProgramError(
                f"Parallelism must be at least one, or ExecutionConfig.PARALLELISM_DEFAULT "
                f"(use system default), and at most {UPPER_BOUND_MAX_PARALLELISM}; "
                f"got {parallelism}"
            )
        self._configuration.set(options.DEFAULT_PARALLELISM, parallelism)
        return self

    def get_max_parallelism(self) -> int:
        """Gets the maximum degree of parallelism defined for the program (-1 if unset).

        It is the upper limit for rescaling and the number of key groups of keyed state.
        """
        return self._configuration.get(options.MAX_PARALLELISM)

    def set_max_parallelism(self, max_parallelism: int) -> "ExecutionConfig":
        """Sets the maximum degree of parallelism defined for the program.

        :param max_parallelism: Maximum degree of parallelism, 1..32768.
        :return: This object.
        :raises InvalidProgramError: If the value is out of bounds.
        """
        _require_int(max_parallelism, "The maximum parallelism")
        if not 0 < max_parallelism <= UPPER_BOUND_MAX_PARALLELISM:
            raise InvalidProgramError(
                f"Maximum parallelism must be between 1 and {UPPER_BOUND_MAX_PARALLELISM}. "
                f"Found: {max_parallelism}"
            )
        self._configuration.set(options.MAX_PARALLELISM, max_parallelism)
        return self

    # ------------------------------------------------------------------ serializer flags

    def enable_force_kryo(self) -> "ExecutionConfig":
        """Forces Kryo for POJOs (JVM only: stored, no effect in flink_py)."""
        self._configuration.set(options.FORCE_KRYO, True)
        return self

    def disable_force_kryo(self) -> "ExecutionConfig":
        """Disables forcing Kryo for POJOs (JVM only)."""
        self._configuration.set(options.FORCE_KRYO, False)
        return self

    def is_force_kryo_enabled(self) -> bool:
        """Whether Kryo is forced for POJOs."""
        return self._configuration.get(options.FORCE_KRYO)

    def enable_generic_types(self) -> "ExecutionConfig":
        """Enables generic (Kryo-serialized) types (JVM only: stored, no effect)."""
        self._configuration.set(options.GENERIC_TYPES, True)
        return self

    def disable_generic_types(self) -> "ExecutionConfig":
        """Disables generic (Kryo-serialized) types (JVM only: stored, no effect)."""
        self._configuration.set(options.GENERIC_TYPES, False)
        return self

    def has_generic_types_disabled(self) -> bool:
        """Whether generic types are disabled."""
        return not self._configuration.get(options.GENERIC_TYPES)

    def enable_auto_generated_uids(self) -> "ExecutionConfig":
        """Lets the runtime generate uids for operators that have none."""
        self._configuration.set(options.AUTO_GENERATE_UIDS, True)
        return self

    def disable_auto_generated_uids(self) -> "ExecutionConfig":
        """Requires every operator to be given a uid."""
        self._configuration.set(options.AUTO_GENERATE_UIDS, False)
        return self

    def has_auto_generated_uids_enabled(self) -> bool:
        """Whether uids are generated for operators that have none."""
        return self._configuration.get(options.AUTO_GENERATE_UIDS)

    def enable_force_avro(self) -> "ExecutionConfig":
        """Forces Avro for POJOs (JVM only: stored, no effect in flink_py)."""
        self._configuration.set(options.FORCE_AVRO, True)
        return self

    def disable_force_avro(self) -> "ExecutionConfig":
        """Disables forcing Avro for POJOs (JVM only)."""
        self._configuration.set(options.FORCE_AVRO, False)
        return self

    def is_force_avro_enabled(self) -> bool:
        """Whether Avro is forced for POJOs."""
        return self._configuration.get(options.FORCE_AVRO)

    # ------------------------------------------------------------------ object reuse

    def enable_object_reuse(self) -> "ExecutionConfig":
        """Enables reusing objects passed between chained operators (no defensive copies).

        Keep in mind that this can lead to bugs when a user function keeps or modifies the
        records it receives.

        :return: This object.
        """
        self._configuration.set(options.OBJECT_REUSE, True)
        return self

    def disable_object_reuse(self) -> "ExecutionConfig":
        """Disables object reuse.

        :return: This object.
        """
        self._configuration.set(options.OBJECT_REUSE, False)
        return self

    def is_object_reuse_enabled(self) -> bool:
        """Returns whether object reuse has been enabled."""
        return self._configuration.get(options.OBJECT_REUSE)

    # ------------------------------------------------------------------ job parameters

    def get_global_job_parameters(self) -> dict[str, str]:
        """Gets the global job parameters (a copy)."""
        return dict(self._configuration.get(options.GLOBAL_JOB_PARAMETERS) or {})

    def set_global_job_parameters(
        self, global_job_parameters_dict: Mapping[str, Any] | Any
    ) -> "ExecutionConfig":
        """Registers a custom user configuration dict that operators can read.

        Non-string values are converted with ``str()``, as PyFlink does. An object with a
        ``to_dict()`` method (such as :class:`~flink_py.common.utils.ParameterTool`) is
        accepted too.

        Example::

            >>> ExecutionConfig().set_global_job_parameters({"threshold": 3}) \\
            ...     .get_global_job_parameters()
            {'threshold': '3'}

        :param global_job_parameters_dict: Custom user configuration dict.
        :return: This object.
        """
        params = global_job_parameters_dict
        if not isinstance(params, Mapping) and callable(getattr(params, "to_dict", None)):
            params = params.to_dict()
        if not isinstance(params, Mapping):
            raise InvalidProgramError(
                f"Global job parameters must be a dict of str to str, got {params!r}"
            )
        self._configuration.set(
            options.GLOBAL_JOB_PARAMETERS,
            {str(k): v if isinstance(v, str) else str(v) for k, v in params.items()},
        )
        return self

    # ------------------------------------------------------------------ type registrations

    def add_default_kryo_serializer(
        self, type_class_name: str, serializer_class_name: str
    ) -> "ExecutionConfig":
        """Adds a Kryo default serializer (JVM only: stored, no effect in flink_py)."""
        return self._add_pair(options.KRYO_DEFAULT_SERIALIZERS, type_class_name,
                              serializer_class_name)

    def register_type_with_kryo_serializer(
        self, type_class_name: str, serializer_class_name: str
    ) -> "ExecutionConfig":
        """Registers a Kryo serializer for a type (JVM only: stored, no effect in flink_py).

        Flink 2 stores these with the default serializers
        (``pipeline.default-kryo-serializers``); so do we.
        """
        return self._add_pair(options.KRYO_DEFAULT_SERIALIZERS, type_class_name,
                              serializer_class_name)

    def register_pojo_type(self, type_class_name: str) -> "ExecutionConfig":
        """Registers a POJO type (JVM only: stored, no effect in flink_py)."""
        return self._add_name(options.POJO_REGISTERED_CLASSES, type_class_name)

    def register_kryo_type(self, type_class_name: str) -> "ExecutionConfig":
        """Registers a Kryo type (JVM only: stored, no effect in flink_py)."""
        return self._add_name(options.KRYO_REGISTERED_CLASSES, type_class_name)

    def get_registered_types_with_kryo_serializer_classes(self) -> dict[str, str]:
        """Returns the registered types with their Kryo serializer class names."""
        return self._pairs(options.KRYO_DEFAULT_SERIALIZERS)

    def get_default_kryo_serializer_classes(self) -> dict[str, str]:
        """Returns the registered default Kryo serializer class names per type."""
        return self._pairs(options.KRYO_DEFAULT_SERIALIZERS)

    def get_registered_kryo_types(self) -> list[str]:
        """Returns the registered Kryo type names."""
        return list(self._configuration.get(options.KRYO_REGISTERED_CLASSES) or [])

    def get_registered_pojo_types(self) -> list[str]:
        """Returns the registered POJO type names."""
        return list(self._configuration.get(options.POJO_REGISTERED_CLASSES) or [])

    def _add_name(self, option: Any, name: str) -> "ExecutionConfig":
        if not isinstance(name, str) or not name:
            raise InvalidProgramError(f"A type name must be a non-empty string, got {name!r}")
        names = list(self._configuration.get(option) or [])
        if name not in names:
            names.append(name)
        self._configuration.set(option, names)
        return self

    def _add_pair(self, option: Any, type_name: str, serializer_name: str) -> "ExecutionConfig":
        for what, name in (("type", type_name), ("serializer", serializer_name)):
            if not isinstance(name, str) or not name:
                raise InvalidProgramError(
                    f"The {what} class name must be a non-empty string, got {name!r}"
                )
        pairs = self._pairs(option)
        pairs[type_name] = serializer_name
        self._configuration.set(
            option, [f"class:{t},serializer:{s}" for t, s in pairs.items()]
        )
        return self

    def _pairs(self, option: Any) -> dict[str, str]:
        # Flink's list format: "class:<type>,serializer:<serializer>" per entry.
        result: dict[str, str] = {}
        for entry in self._configuration.get(option) or []:
            fields = dict(part.split(":", 1) for part in entry.split(",") if ":" in part)
            if "class" in fields and "serializer" in fields:
                result[fields["class"]] = fields["serializer"]
        return result

    # ------------------------------------------------------------------ restart strategy

    def set_restart_strategy(self, restart_strategy_configuration: Any) -> "ExecutionConfig":
        """Sets the restart strategy (``restart-strategy.*`` keys), from
        :class:`~flink_py.common.restart_strategy.RestartStrategies`.

        :return: This object.
        """
        from flink_py.common.restart_strategy import RestartStrategyConfiguration
        if not isinstance(restart_strategy_configuration, RestartStrategyConfiguration):
            raise InvalidProgramError(
                f"set_restart_strategy expects a RestartStrategyConfiguration (from "
                f"RestartStrategies), got {restart_strategy_configuration!r}")
        restart_strategy_configuration._configure(self._configuration)
        return self

    def get_restart_strategy(self) -> Any:
        """The restart strategy the configuration names; the fallback (the cluster's) when
        none is set."""
        from flink_py.common.restart_strategy import RestartStrategies
        return RestartStrategies._from_configuration(self._configuration)

    # ------------------------------------------------------------------ snapshots

    def is_use_snapshot_compression(self) -> bool:
        """Returns whether state snapshots are compressed."""
        return self._configuration.get(options.SNAPSHOT_COMPRESSION)

    def set_use_snapshot_compression(self, use_snapshot_compression: bool) -> "ExecutionConfig":
        """Controls whether state snapshots are compressed.

        :return: This object.
        """
        self._configuration.set(options.SNAPSHOT_COMPRESSION, use_snapshot_compression)
        return self

    # ------------------------------------------------------------------ object protocol

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecutionConfig) and self._configuration == other._configuration

    def __hash__(self) -> int:
        return hash(self._configuration)

    def __repr__(self) -> str:
        return f"ExecutionConfig({self._configuration})"
