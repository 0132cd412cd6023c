"""PyFlink completeness of the DataStream API classes (as PyFlink's ``*_completeness.py``).

``PYFLINK_PUBLIC_METHODS`` lists the public methods of PyFlink 2.3's classes, taken from its
source (``pyflink/datastream/stream_execution_environment.py`` and ``data_stream.py``; names
not starting with ``_``, ``@overload`` stubs counted once). Each list is split in two:

* ``REQUIRED``: the names the DataStream-API issue asks for; they must exist on our classes
  and accept PyFlink's parameter names (so that a PyFlink script runs with only its imports
  changed). These are asserted.
* ``LATER``: the rest, a to-do list. Missing ones are reported, not failed: see
  ``MISSING_LATER`` (computed when the module is imported). At the time of writing they were:

  - StreamExecutionEnvironment: register_slot_sharing_group,
    is_chaining_of_operators_with_different_max_parallelism_enabled,
    enable_changelog_state_backend, is_changelog_state_backend_enabled, add_python_file,
    set_python_requirements, add_python_archive, set_python_executable, add_jars,
    add_classpaths, get_default_local_parallelism, set_default_local_parallelism,
    register_cached_file, create_input
  - DataStream: project, cache
  - KeyedStream: project, cache
  - ConnectedStreams, DataStreamSink: (none)
  - parameters (``MISSING_LATER_PARAMETERS``): (none)

``FLINK_PY_REQUIRED_EXTRAS`` are names the issue asks for that PyFlink 2.3 does not have:
``read_text_file`` (PyFlink 1.x), ``socket_text_stream`` (Java's ``socketTextStream``) and
``global_`` (Java's ``global()``, which is a Python keyword).

The fault-tolerance API (CheckpointConfig, state backends, checkpoint storages, restart
strategies, the environment's checkpoint methods) is checked in the second half of this
module, against ``PYFLINK_FAULT_TOLERANCE_METHODS``.
"""

from __future__ import annotations

import inspect
from typing import Dict, List

import pytest

from flink_py.datastream import (
    ConnectedStreams, DataStream, DataStreamSink, KeyedStream, StreamExecutionEnvironment)

OUR_CLASSES = {
    "StreamExecutionEnvironment": StreamExecutionEnvironment,
    "DataStream": DataStream,
    "KeyedStream": KeyedStream,
    "ConnectedStreams": ConnectedStreams,
    "DataStreamSink": DataStreamSink,
}

# PyFlink 2.3: method name -> its parameters (without self), in order; "*name" is a varargs.
PYFLINK_PUBLIC_METHODS: Dict[str, Dict[str, List[str]]] = {
    "StreamExecutionEnvironment": {
        "get_config": [],
        "set_parallelism": ["parallelism"],
        "set_max_parallelism": ["max_parallelism"],
        "register_slot_sharing_group": ["slot_sharing_group"],
        "get_parallelism": [],
        "get_max_parallelism": [],
        "set_runtime_mode": ["execution_mode"],
        "set_buffer_timeout": ["timeout_millis"],
        "get_buffer_timeout": [],
        "disable_operator_chaining": [],
        "is_chaining_enabled": [],
        "is_chaining_of_operators_with_different_max_parallelism_enabled": [],
        "get_checkpoint_config": [],
        "enable_checkpointing": ["interval", "mode"],
        "get_checkpoint_interval": [],
        "get_checkpointing_mode": [],
        "get_checkpointing_consistency_mode": [],
        "enable_changelog_state_backend": ["enabled"],
        "is_changelog_state_backend_enabled": [],
        "set_default_savepoint_directory": ["directory"],
        "get_default_savepoint_directory": [],
        "configure": ["configuration"],
        "add_python_file": ["file_path"],
        "set_python_requirements": ["requirements_file_path", "requirements_cache_dir"],
        "add_python_archive": ["archive_path", "target_dir"],
        "set_python_executable": ["python_exec"],
        "add_jars": ["*jars_path"],
        "add_classpaths": ["*classpaths"],
        "get_default_local_parallelism": [],
        "set_default_local_parallelism": ["parallelism"],
        "execute": ["job_name"],
        "execute_async": ["job_name"],
        "get_execution_plan": [],
        "register_cached_file": ["file_path", "name", "executable"],
        "get_execution_environment": ["configuration"],
        "create_input": ["input_format", "type_info"],
        "add_source": ["source_func", "source_name", "type_info"],
        "from_source": ["source", "watermark_strategy", "source_name", "type_info"],
        "from_collection": ["collection", "type_info"],
        "is_unaligned_checkpoints_enabled": [],
        "is_force_unaligned_checkpoints": [],
        "close": [],
    },
    "DataStream": {
        "get_name": [],
        "name": ["name"],
        "uid": ["uid"],
        "set_uid_hash": ["uid_hash"],
        "set_parallelism": ["parallelism"],
        "set_max_parallelism": ["max_parallelism"],
        "get_type": [],
        "get_execution_environment": [],
        "get_execution_config": [],
        "force_non_parallel": [],
        "set_buffer_timeout": ["timeout_millis"],
        "start_new_chain": [],
        "disable_chaining": [],
        "slot_sharing_group": ["slot_sharing_group"],
        "set_description": ["description"],
        "map": ["func", "output_type"],
        "flat_map": ["func", "output_type"],
        "key_by": ["key_selector", "key_type"],
        "filter": ["func"],
        "window_all": ["window_assigner"],
        "union": ["*streams"],
        "connect": ["ds"],
        "shuffle": [],
        "project": ["*field_indexes"],
        "rescale": [],
        "rebalance": [],
        "forward": [],
        "broadcast": ["broadcast_state_descriptor", "*other_broadcast_state_descriptors"],
        "process": ["func", "output_type"],
        "assign_timestamps_and_watermarks": ["watermark_strategy"],
        "partition_custom": ["partitioner", "key_selector"],
        "add_sink": ["sink_func"],
        "sink_to": ["sink"],
        "execute_and_collect": ["job_execution_name", "limit"],
        "print": ["sink_identifier"],
        "get_side_output": ["output_tag"],
        "cache": [],
    },
    "KeyedStream": {
        "map": ["func", "output_type"],
        "flat_map": ["func", "output_type"],
        "reduce": ["func"],
        "filter": ["func"],
        "sum": ["position_to_sum"],
        "min": ["position_to_min"],
        "max": ["position_to_max"],
        "min_by": ["position_to_min_by"],
        "max_by": ["position_to_max_by"],
        "add_sink": ["sink_func"],
        "key_by": ["key_selector", "key_type"],
        "process": ["func", "output_type"],
        "window": ["window_assigner"],
        "count_window": ["size", "slide"],
        "union": ["*streams"],
        "connect": ["ds"],
        "shuffle": [],
        "project": ["*field_indexes"],
        "rescale": [],
        "rebalance": [],
        "forward": [],
        "broadcast": ["*args"],
        "partition_custom": ["partitioner", "key_selector"],
        "print": ["sink_identifier"],
        "set_parallelism": ["parallelism"],
        "name": ["name"],
        "get_name": [],
        "uid": ["uid"],
        "set_uid_hash": ["uid_hash"],
        "set_max_parallelism": ["max_parallelism"],
        "force_non_parallel": [],
        "set_buffer_timeout": ["timeout_millis"],
        "start_new_chain": [],
        "disable_chaining": [],
        "slot_sharing_group": ["slot_sharing_group"],
        "cache": [],
    },
    "ConnectedStreams": {
        "key_by": ["key_selector1", "key_selector2", "key_type"],
        "map": ["func", "output_type"],
        "flat_map": ["func", "output_type"],
        "process": ["func", "output_type"],
    },
    "DataStreamSink": {
        "name": ["name"],
        "uid": ["uid"],
        "set_uid_hash": ["uid_hash"],
        "set_parallelism": ["parallelism"],
        "set_description": ["description"],
        "disable_chaining": [],
        "slot_sharing_group": ["slot_sharing_group"],
    },
}

# The names the DataStream-API issue asks for.
REQUIRED: Dict[str, List[str]] = {
    "StreamExecutionEnvironment": [
        "get_execution_environment", "set_parallelism", "get_parallelism",
        "set_max_parallelism", "set_runtime_mode", "disable_operator_chaining", "get_config",
        "from_collection", "from_source", "add_source", "get_execution_plan", "execute",
        "execute_async",
        # the fault-tolerance issue
        "get_checkpoint_config", "enable_checkpointing", "get_checkpoint_interval",
        "get_checkpointing_mode", "get_checkpointing_consistency_mode",
        "set_default_savepoint_directory", "get_default_savepoint_directory", "configure",
        "is_unaligned_checkpoints_enabled", "is_force_unaligned_checkpoints",
    ],
    "DataStream": [
        "map", "flat_map", "filter", "key_by", "union", "connect", "process",
        "get_side_output", "print", "add_sink", "execute_and_collect", "get_type",
        "set_parallelism", "name", "uid", "disable_chaining", "start_new_chain",
        "slot_sharing_group", "forward", "rebalance", "rescale", "shuffle", "broadcast",
        "partition_custom",
    ],
    "KeyedStream": [
        "map", "flat_map", "filter", "reduce", "sum", "min", "max", "min_by", "max_by",
        "add_sink", "print", "union", "connect", "partition_custom", "shuffle", "rescale",
        "rebalance", "forward", "broadcast",
    ],
    "ConnectedStreams": ["key_by", "map", "flat_map"],
    "DataStreamSink": ["name", "uid", "set_parallelism", "disable_chaining",
                       "slot_sharing_group"],
}

# Parameters of required methods that belong to a later issue: broadcast(descriptor, ...) is
# the broadcast-state pattern; this issue needs the plain broadcast() partitioning.
LATER_PARAMETERS: Dict[tuple, List[str]] = {
    ("DataStream", "broadcast"): ["broadcast_state_descriptor",
                                  "*other_broadcast_state_descriptors"],
    ("KeyedStream", "broadcast"): ["*args"],
}

LATER: Dict[str, List[str]] = {
    cls: [name for name in methods if name not in REQUIRED[cls]]
    for cls, methods in PYFLINK_PUBLIC_METHODS.items()
}

# Asked for by the issue, not in PyFlink 2.3: name -> parameters that must be accepted.
FLINK_PY_REQUIRED_EXTRAS: Dict[str, Dict[str, List[str]]] = {
    "StreamExecutionEnvironment": {
        "read_text_file": ["file_path", "charset_name"],
        "socket_text_stream": ["hostname", "port", "delimiter"],
    },
    "DataStream": {"global_": []},
}

#: Informational: PyFlink names of the "later" lists that our classes do not have yet.
MISSING_LATER: Dict[str, List[str]] = {
    cls: [name for name in names if not hasattr(OUR_CLASSES[cls], name)]
    for cls, names in LATER.items()
}


#: Informational: PyFlink parameters of required methods that ours do not accept yet.
MISSING_LATER_PARAMETERS: Dict[tuple, List[str]] = {}


def _required_parameters(cls: str, name: str) -> List[str]:
    later = LATER_PARAMETERS.get((cls, name), [])
    return [p for p in PYFLINK_PUBLIC_METHODS[cls][name] if p not in later]


def _required_cases():
    return [(cls, name) for cls, names in REQUIRED.items() for name in names]


def _accepts(method, pyflink_parameters: List[str]) -> List[str]:
    """The PyFlink parameters our ``method`` cannot be called with (by keyword, or as
    varargs); an empty list when it accepts all of them."""
    parameters = inspect.signature(method).parameters
    kinds = {p.kind for p in parameters.values()}
    problems = []
    for name in pyflink_parameters:
        if name.startswith("*"):
            if inspect.Parameter.VAR_POSITIONAL not in kinds:
                problems.append(name)
        elif name not in parameters and inspect.Parameter.VAR_KEYWORD not in kinds:
            problems.append(name)
        elif name in parameters and parameters[name].kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append(name)
    return problems


MISSING_LATER_PARAMETERS.update({
    key: _accepts(getattr(OUR_CLASSES[key[0]], key[1]), later)
    for key, later in LATER_PARAMETERS.items()
    if hasattr(OUR_CLASSES[key[0]], key[1])
    and _accepts(getattr(OUR_CLASSES[key[0]], key[1]), later)})


@pytest.mark.parametrize("cls,name", _required_cases(),
                         ids=[f"{c}.{n}" for c, n in _required_cases()])
def test_required_pyflink_methods_exist_with_pyflink_parameters(cls, name):
    ours = OUR_CLASSES[cls]
    assert hasattr(ours, name), f"{cls}.{name} is missing"
    method = getattr(ours, name)
    assert callable(method)
    pyflink_parameters = _required_parameters(cls, name)
    assert _accepts(method, pyflink_parameters) == [], (
        f"{cls}.{name} does not accept PyFlink's parameters {pyflink_parameters}: "
        f"signature {inspect.signature(method)}")


@pytest.mark.parametrize("cls,name", [(c, n) for c, names in FLINK_PY_REQUIRED_EXTRAS.items()
                                      for n in names])
def test_required_names_beyond_pyflink_2_exist(cls, name):
    ours = OUR_CLASSES[cls]
    assert hasattr(ours, name), f"{cls}.{name} is missing"
    assert _accepts(getattr(ours, name), FLINK_PY_REQUIRED_EXTRAS[cls][name]) == []


def test_later_parameters_are_pyflink_parameters():
    for (cls, name), later in LATER_PARAMETERS.items():
        assert name in REQUIRED[cls]
        assert set(later) <= set(PYFLINK_PUBLIC_METHODS[cls][name])


def test_required_and_later_lists_split_pyflinks_names():
    for cls, methods in PYFLINK_PUBLIC_METHODS.items():
        required, later = REQUIRED[cls], LATER[cls]
        assert len(set(required)) == len(required), cls
        assert set(required) <= set(methods), (cls, set(required) - set(methods))
        assert set(required) | set(later) == set(methods), cls
        assert not set(required) & set(later), cls


def test_missing_later_is_a_list_of_pyflink_names_only():
    for cls, missing in MISSING_LATER.items():
        assert set(missing) <= set(LATER[cls]), cls


def test_class_relationships_follow_pyflink():
    assert issubclass(KeyedStream, DataStream)
    assert not issubclass(ConnectedStreams, DataStream)
    assert not issubclass(DataStreamSink, DataStream)
    # get_execution_environment is a static factory, called on the class.
    assert isinstance(inspect.getattr_static(StreamExecutionEnvironment,
                                             "get_execution_environment"), staticmethod)


# -- checkpointing, state backends, checkpoint storage, restart strategies --------------------
#
# PyFlink's public methods (name -> parameters) of the fault-tolerance API, from its sources:
# ``checkpoint_config.py`` (2.x), ``state_backend.py`` and ``checkpoint_storage.py`` (the
# 1.x backends are still there in 2.x), ``common/restart_strategy.py`` (1.x; Flink 2 moved
# restart strategies to configuration only). All of them are required.

from flink_py.common import RestartStrategies, RestartStrategyConfiguration  # noqa: E402
from flink_py.datastream import (  # noqa: E402
    CheckpointConfig, CheckpointStorage, EmbeddedRocksDBStateBackend,
    FileSystemCheckpointStorage, FsStateBackend, HashMapStateBackend,
    JobManagerCheckpointStorage, MemoryStateBackend, RocksDBStateBackend, StateBackend)

FAULT_TOLERANCE_CLASSES = {
    "CheckpointConfig": CheckpointConfig,
    "HashMapStateBackend": HashMapStateBackend,
    "EmbeddedRocksDBStateBackend": EmbeddedRocksDBStateBackend,
    "MemoryStateBackend": MemoryStateBackend,
    "FsStateBackend": FsStateBackend,
    "RocksDBStateBackend": RocksDBStateBackend,
    "JobManagerCheckpointStorage": JobManagerCheckpointStorage,
    "FileSystemCheckpointStorage": FileSystemCheckpointStorage,
    "RestartStrategies": RestartStrategies,
    "FixedDelayRestartStrategyConfiguration":
        RestartStrategies.FixedDelayRestartStrategyConfiguration,
    "FailureRateRestartStrategyConfiguration":
        RestartStrategies.FailureRateRestartStrategyConfiguration,
    "ExponentialDelayRestartStrategyConfiguration":
        RestartStrategies.ExponentialDelayRestartStrategyConfiguration,
}

_ROCKSDB_METHODS = {
    "set_db_storage_paths": ["*paths"],
    "get_db_storage_paths": [],
    "is_incremental_checkpoints_enabled": [],
    "set_predefined_options": ["options"],
    "get_predefined_options": [],
    "set_options": ["options_factory_class_name"],
    "get_options": [],
}

PYFLINK_FAULT_TOLERANCE_METHODS: Dict[str, Dict[str, List[str]]] = {
    "CheckpointConfig": {
        # PyFlink 2.x
        "is_checkpointing_enabled": [],
        "get_checkpointing_mode": [],
        "set_checkpointing_mode": ["checkpointing_mode"],
        "get_checkpoint_interval": [],
        "set_checkpoint_interval": ["checkpoint_interval"],
        "get_checkpoint_timeout": [],
        "set_checkpoint_timeout": ["checkpoint_timeout"],
        "get_min_pause_between_checkpoints": [],
        "set_min_pause_between_checkpoints": ["min_pause_between_checkpoints"],
        "get_max_concurrent_checkpoints": [],
        "set_max_concurrent_checkpoints": ["max_concurrent_checkpoints"],
        "is_fail_on_checkpointing_errors": [],
        "set_fail_on_checkpointing_errors": ["fail_on_checkpointing_errors"],
        "get_tolerable_checkpoint_failure_number": [],
        "set_tolerable_checkpoint_failure_number": ["tolerable_checkpoint_failure_number"],
        "set_externalized_checkpoint_retention": ["retention_mode"],
        "is_externalized_checkpoints_enabled": [],
        "get_externalized_checkpoint_retention": [],
        "is_unaligned_checkpoints_enabled": [],
        "enable_unaligned_checkpoints": ["enabled"],
        "disable_unaligned_checkpoints": [],
        "set_aligned_checkpoint_timeout": ["alignment_timeout"],
        "get_aligned_checkpoint_timeout": [],
        "set_alignment_timeout": ["alignment_timeout"],
        "get_alignment_timeout": [],
        "set_force_unaligned_checkpoints": ["force_unaligned_checkpoints"],
        "is_force_unaligned_checkpoints": [],
        # PyFlink 1.x, kept for the seeds' programs
        "set_checkpoint_storage": ["storage"],
        "set_checkpoint_storage_dir": ["checkpoint_path"],
        "get_checkpoint_storage": [],
        "enable_externalized_checkpoints": ["cleanup_mode"],
        "get_externalized_checkpoint_cleanup": [],
        "is_prefer_checkpoint_for_recovery": [],
        "set_prefer_checkpoint_for_recovery": ["prefer_checkpoint_for_recovery"],
    },
    "HashMapStateBackend": {},
    "EmbeddedRocksDBStateBackend": {
        **_ROCKSDB_METHODS,
        "get_number_of_transfer_threads": [],
        "set_number_of_transfer_threads": ["number_of_transfering_threads"],
    },
    "MemoryStateBackend": {"get_max_state_size": [], "is_using_asynchronous_snapshots": []},
    "FsStateBackend": {
        "get_checkpoint_path": [], "get_min_file_size_threshold": [],
        "is_using_asynchronous_snapshots": [], "get_write_buffer_size": [],
    },
    "RocksDBStateBackend": {
        **_ROCKSDB_METHODS,
        "get_checkpoint_backend": [],
        "get_number_of_transfering_threads": [],
        "set_number_of_transfering_threads": ["number_of_transfering_threads"],
    },
    "JobManagerCheckpointStorage": {
        "get_checkpoint_path": [], "get_max_state_size": [], "get_savepoint_path": [],
    },
    "FileSystemCheckpointStorage": {
        "get_checkpoint_path": [], "get_savepoint_path": [],
        "get_min_file_size_threshold": [], "get_write_buffer_size": [],
    },
    "RestartStrategies": {
        "no_restart": [],
        "fall_back_restart": [],
        "fixed_delay_restart": ["restart_attempts", "delay_between_attempts"],
        "failure_rate_restart": ["failure_rate", "failure_interval", "delay_interval"],
        "exponential_delay_restart": ["initial_backoff", "max_backoff", "backoff_multiplier",
                                      "reset_backoff_threshold", "jitter_factor"],
    },
    "FixedDelayRestartStrategyConfiguration": {
        "get_restart_attempts": [], "get_delay_between_attempts_interval": [],
        "get_description": [],
    },
    "FailureRateRestartStrategyConfiguration": {
        "get_max_failure_rate": [], "get_failure_interval": [],
        "get_delay_between_attempts_interval": [], "get_description": [],
    },
    "ExponentialDelayRestartStrategyConfiguration": {
        "get_initial_backoff": [], "get_max_backoff": [], "get_backoff_multiplier": [],
        "get_reset_backoff_threshold": [], "get_jitter_factor": [], "get_description": [],
    },
}

# Constructors: PyFlink's parameters (without the internal ``j_*`` ones).
PYFLINK_FAULT_TOLERANCE_CONSTRUCTORS: Dict[str, List[str]] = {
    "EmbeddedRocksDBStateBackend": ["enable_incremental_checkpointing"],
    "MemoryStateBackend": ["checkpoint_path", "savepoint_path", "max_state_size",
                           "using_asynchronous_snapshots"],
    "FsStateBackend": ["checkpoint_directory_uri", "default_savepoint_directory_uri",
                       "file_state_size_threshold", "write_buffer_size",
                       "using_asynchronous_snapshots"],
    "RocksDBStateBackend": ["checkpoint_data_uri", "enable_incremental_checkpointing",
                            "checkpoint_stream_backend"],
    "JobManagerCheckpointStorage": ["checkpoint_path", "max_state_size"],
    "FileSystemCheckpointStorage": ["checkpoint_path", "file_state_size_threshold",
                                    "write_buffer_size"],
}

# StreamExecutionEnvironment's checkpoint methods of PyFlink 2.3 (in PYFLINK_PUBLIC_METHODS)
# that this issue requires, and the PyFlink 1.x ones it requires too.
ENVIRONMENT_CHECKPOINT_METHODS = [
    "get_checkpoint_config", "enable_checkpointing", "get_checkpoint_interval",
    "get_checkpointing_mode", "get_checkpointing_consistency_mode",
    "set_default_savepoint_directory", "get_default_savepoint_directory", "configure",
    "is_unaligned_checkpoints_enabled", "is_force_unaligned_checkpoints",
]
ENVIRONMENT_CHECKPOINT_METHODS_1_X = {
    "set_state_backend": ["state_backend"],
    "get_state_backend": [],
    "set_restart_strategy": ["restart_strategy_configuration"],
    "get_restart_strategy": [],
}


def _fault_tolerance_cases():
    return [(cls, name) for cls, methods in PYFLINK_FAULT_TOLERANCE_METHODS.items()
            for name in methods]


@pytest.mark.parametrize("cls,name", _fault_tolerance_cases(),
                         ids=[f"{c}.{n}" for c, n in _fault_tolerance_cases()])
def test_pyflink_fault_tolerance_methods_exist_with_pyflink_parameters(cls, name):
    ours = FAULT_TOLERANCE_CLASSES[cls]
    assert hasattr(ours, name), f"{cls}.{name} is missing"
    parameters = PYFLINK_FAULT_TOLERANCE_METHODS[cls][name]
    assert _accepts(getattr(ours, name), parameters) == [], (
        f"{cls}.{name} does not accept PyFlink's parameters {parameters}")


@pytest.mark.parametrize("cls", sorted(PYFLINK_FAULT_TOLERANCE_CONSTRUCTORS))
def test_pyflink_fault_tolerance_constructors_take_pyflinks_parameters(cls):
    parameters = PYFLINK_FAULT_TOLERANCE_CONSTRUCTORS[cls]
    assert _accepts(FAULT_TOLERANCE_CLASSES[cls].__init__, parameters) == []


@pytest.mark.parametrize("name", ENVIRONMENT_CHECKPOINT_METHODS)
def test_environment_checkpoint_methods_of_pyflink_2_exist(name):
    assert name in PYFLINK_PUBLIC_METHODS["StreamExecutionEnvironment"]
    method = getattr(StreamExecutionEnvironment, name)
    assert _accepts(method, PYFLINK_PUBLIC_METHODS["StreamExecutionEnvironment"][name]) == []


@pytest.mark.parametrize("name", sorted(ENVIRONMENT_CHECKPOINT_METHODS_1_X))
def test_environment_checkpoint_methods_of_pyflink_1_exist(name):
    method = getattr(StreamExecutionEnvironment, name)
    assert _accepts(method, ENVIRONMENT_CHECKPOINT_METHODS_1_X[name]) == []


def test_fault_tolerance_class_relationships_follow_pyflink():
    for cls in ("HashMapStateBackend", "EmbeddedRocksDBStateBackend", "MemoryStateBackend",
                "FsStateBackend", "RocksDBStateBackend"):
        assert issubclass(FAULT_TOLERANCE_CLASSES[cls], StateBackend)
    for cls in ("JobManagerCheckpointStorage", "FileSystemCheckpointStorage"):
        assert issubclass(FAULT_TOLERANCE_CLASSES[cls], CheckpointStorage)
    for cls in ("FixedDelayRestartStrategyConfiguration",
                "FailureRateRestartStrategyConfiguration",
                "ExponentialDelayRestartStrategyConfiguration"):
        assert issubclass(FAULT_TOLERANCE_CLASSES[cls], RestartStrategyConfiguration)
    for name in PYFLINK_FAULT_TOLERANCE_METHODS["RestartStrategies"]:
        assert isinstance(inspect.getattr_static(RestartStrategies, name), staticmethod)
