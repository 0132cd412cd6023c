"""The DataStream API, with PyFlink's names (``pyflink.datastream``).

Names are loaded on first use (PEP 562), so that importing one module (say
``flink_py.datastream.functions``, which re-exports :mod:`flink_py.api.functions`) does not
pull in the whole API and, through it, the runtime.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BroadcastConnectedStream": "data_stream", "BroadcastStream": "data_stream",
    "BroadcastProcessFunction": "functions", "CoProcessFunction": "functions",
    "KeyedBroadcastProcessFunction": "functions", "KeyedCoProcessFunction": "functions",
    "KeyedProcessFunction": "functions", "ProcessJoinFunction": "functions",
    "CheckpointedFunction": "functions", "CheckpointListener": "functions",
    "TwoPhaseCommitSinkFunction": "checkpointing_sinks",
    "GenericWriteAheadSink": "checkpointing_sinks", "CheckpointCommitter": "checkpointing_sinks",
    "TimeDomain": "time_domain", "TimerService": "timerservice",
    "MemorySize": "slot_sharing_group", "SlotSharingGroup": "slot_sharing_group",
    "ConnectedStreams": "data_stream", "DataStream": "data_stream",
    "DataStreamSink": "data_stream", "KeyedStream": "data_stream",
    "RuntimeExecutionMode": "execution_mode",
    "CoFlatMapFunction": "functions", "CoMapFunction": "functions",
    "FilterFunction": "functions", "FlatMapFunction": "functions", "Function": "functions",
    "KeySelector": "functions", "MapFunction": "functions", "Partitioner": "functions",
    "ProcessFunction": "functions", "ReduceFunction": "functions",
    "RuntimeContext": "functions", "SinkFunction": "functions", "SourceFunction": "functions",
    "OutputTag": "output_tag",
    "StreamExecutionEnvironment": "stream_execution_environment",
    "WindowedStream": "windowed_stream", "AllWindowedStream": "windowed_stream",
    "JoinedStreams": "joined_streams", "CoGroupedStreams": "joined_streams",
    "WindowFunction": "functions", "AllWindowFunction": "functions",
    "ProcessWindowFunction": "functions", "ProcessAllWindowFunction": "functions",
    "KeyedStateStore": "functions", "AggregateFunction": "functions",
    "JoinFunction": "functions", "FlatJoinFunction": "functions",
    "CoGroupFunction": "functions",
    "Window": "window", "TimeWindow": "window", "CountWindow": "window",
    "GlobalWindow": "window", "WindowAssigner": "window", "MergingWindowAssigner": "window",
    "TriggerResult": "window", "Trigger": "window",
    "CheckpointConfig": "checkpoint_config", "CheckpointingMode": "checkpointing_mode",
    "ExternalizedCheckpointRetention": "externalized_checkpoint_retention",
    "StateBackend": "state_backend", "HashMapStateBackend": "state_backend",
    "EmbeddedRocksDBStateBackend": "state_backend", "MemoryStateBackend": "state_backend",
    "FsStateBackend": "state_backend", "RocksDBStateBackend": "state_backend",
    "CustomStateBackend": "state_backend", "PredefinedOptions": "state_backend",
    "CheckpointStorage": "checkpoint_storage", "JobManagerCheckpointStorage": "checkpoint_storage",
    "FileSystemCheckpointStorage": "checkpoint_storage",
    "CustomCheckpointStorage": "checkpoint_storage",
    "TimeCharacteristic": "time_characteristic",  # Flink 1.x
    "ExternalizedCheckpointCleanup": "checkpoint_config",  # Flink 1.x
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flink_py.datastream' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"flink_py.datastream.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return __all__
