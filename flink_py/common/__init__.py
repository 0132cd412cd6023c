"""Value types shared by the DataStream and Table APIs (``pyflink.common``)."""

from flink_py.common.configuration import Configuration
from flink_py.common.execution_config import ExecutionConfig
from flink_py.common.job_client import JobClient
from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.job_id import JobID
from flink_py.common.job_status import JobStatus
from flink_py.common.restart_strategy import RestartStrategies, RestartStrategyConfiguration
from flink_py.common.serialization import (
    ByteArraySchema, DeserializationSchema, Encoder, SerializationSchema, SimpleStringSchema)
from flink_py.common.time import Duration, Instant, Time
from flink_py.common.typeinfo import TypeInformation, Types
from flink_py.common.types import Row, RowKind
from flink_py.common.watermark_strategy import (
    TimestampAssigner, Watermark, WatermarkGenerator, WatermarkOutput, WatermarkStrategy)

__all__ = [
    "ByteArraySchema", "Configuration", "DeserializationSchema", "Duration", "Encoder",
    "ExecutionConfig", "Instant", "JobClient",
    "JobExecutionResult", "JobID", "JobStatus", "RestartStrategies",
    "RestartStrategyConfiguration", "Row", "RowKind", "SerializationSchema",
    "SimpleStringSchema", "Time",
    "TimestampAssigner", "TypeInformation", "Types", "Watermark", "WatermarkGenerator",
    "WatermarkOutput", "WatermarkStrategy",
]

# PyFlink's other names of pyflink.common
from flink_py.common.completable_future import CompletableFuture  # noqa: E402
from flink_py.common.config_option_builder import ConfigOptions  # noqa: E402
from flink_py.common.configuration import ConfigOption  # noqa: E402
from flink_py.common.serializer import TypeSerializer  # noqa: E402

__all__ += ["CompletableFuture", "ConfigOption", "ConfigOptions", "TypeSerializer"]
from flink_py.common.input_dependency_constraint import InputDependencyConstraint  # noqa: E402

__all__ += ["InputDependencyConstraint"]
